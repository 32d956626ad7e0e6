"""Time specifications in settings and options: ``7d``, dates, ``mon 08:00``. UTC; no clock."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.errors import InputError

_RELATIVE = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


class PeriodError(InputError):
    """A ``--since``/``--until`` value that is neither a duration nor a date."""


def parse_moment(text: str, now: datetime) -> datetime:
    """``7d``/``2w``/``36h`` (before ``now``), a date (its 00:00 UTC) or an ISO datetime."""
    match = _RELATIVE.match(text)
    if match:
        return now - int(match.group(1)) * _UNITS[match.group(2)]
    try:
        if len(text.strip()) == 10:
            day = date.fromisoformat(text.strip())
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise PeriodError(f"not a duration (7d, 2w, 36h) nor a date: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPEC = re.compile(r"^\s*([a-z,]+)\s+(\d{1,2}):(\d{2})\s*(?:utc)?\s*$")


@dataclass(frozen=True, slots=True)
class Schedule:
    """Days of the week and a time of day, UTC."""

    days: frozenset[int]
    at: time

    def _slot(self, day: datetime) -> datetime:
        return datetime.combine(day.date(), self.at, day.tzinfo)

    def last_at_or_before(self, now: datetime) -> datetime:
        for back in range(8):
            slot = self._slot(now - timedelta(days=back))
            if slot.weekday() in self.days and slot <= now:
                return slot
        raise AssertionError("a weekly schedule has a slot every 7 days")

    def next_after(self, now: datetime) -> datetime:
        for ahead in range(8):
            slot = self._slot(now + timedelta(days=ahead))
            if slot.weekday() in self.days and slot > now:
                return slot
        raise AssertionError("a weekly schedule has a slot every 7 days")


def parse_schedule(text: str) -> Schedule | None:
    """``mon 08:00``, ``mon,thu 07:30``, ``daily 06:00``; ``off`` for none (None)."""
    spec = text.strip().lower()
    if spec in ("off", "none", ""):
        return None
    match = _SPEC.match(spec)
    if not match:
        raise PeriodError(f"digest_schedule: expected 'mon 08:00' or 'off', got {text!r}")
    names, hour, minute = match.group(1), int(match.group(2)), int(match.group(3))
    days = set(range(7)) if names == "daily" else set()
    for name in names.split(",") if names != "daily" else ():
        if name[:3] not in _DAYS:
            raise PeriodError(f"digest_schedule: unknown day {name!r}")
        days.add(_DAYS.index(name[:3]))
    if hour > 23 or minute > 59:
        raise PeriodError(f"digest_schedule: no such time {hour}:{minute:02d}")
    return Schedule(frozenset(days), time(hour, minute))
