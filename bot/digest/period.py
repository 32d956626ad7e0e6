"""Periods and weeks: ``--since 7d``, dates, ISO weeks. All in UTC; no clock read here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

_RELATIVE = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


class PeriodError(ValueError):
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


WEEK = timedelta(days=7)


def week_start(moment: datetime | date) -> date:
    """The Monday of the ISO week holding ``moment`` (UTC)."""
    day = moment.astimezone(UTC).date() if isinstance(moment, datetime) else moment
    return day - timedelta(days=day.weekday())


def week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def label_of(start: datetime, end: datetime) -> str:
    """A span of up to a week is named by the ISO week holding most of it."""
    return week_label((start + (end - start) / 2).date())


def weeks_before(until: datetime, count: int) -> list[datetime]:
    """Starts of the ``count`` seven-day buckets that end at ``until``.

    Buckets end where the digest's period ends, not at ISO Mondays, so the
    Monday 08:00 digest counts the same changes in its last bucket as in its
    body; each bucket is labelled with the ISO week holding most of it."""
    return [until - WEEK * i for i in range(count, 0, -1)]


@dataclass(frozen=True, slots=True)
class Period:
    """[since, until): a change belongs to it when it landed (or was reviewed) inside."""

    since: datetime
    until: datetime

    def __post_init__(self) -> None:
        if self.until <= self.since:
            raise PeriodError("--until must be after --since")

    @classmethod
    def parse(cls, since: str, until: str | None, now: datetime) -> Period:
        end = parse_moment(until, now) if until else now
        return cls(parse_moment(since, end), end)

    @property
    def week_count(self) -> int:
        """How many seven-day buckets it takes to cover the period."""
        return max(1, -(-(self.until - self.since) // WEEK))

    def holds(self, moment: datetime) -> bool:
        return self.since <= moment < self.until

    @property
    def key(self) -> str:
        """A week-long (or shorter) period is named by the ISO week holding most of it,
        so two runs of ``--since 7d`` in the same week update the same issue."""
        if self.until - self.since <= WEEK:
            return label_of(self.since, self.until)
        last = (self.until - timedelta(microseconds=1)).date()
        return f"{self.since.date().isoformat()}..{last.isoformat()}"

    @property
    def title(self) -> str:
        return f"Migration digest {self.key}"

    @property
    def span(self) -> str:
        """``2026-02-02 08:00 to 2026-02-09 08:00 UTC``; whole days as dates, both included."""
        midnight = datetime.min.time()
        if self.since.time() == midnight and self.until.time() == midnight:
            last = (self.until - timedelta(days=1)).date()
            return f"{self.since.date().isoformat()} to {last.isoformat()} (UTC)"
        return f"{self.since:%Y-%m-%d %H:%M} to {self.until:%Y-%m-%d %H:%M} UTC"


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
