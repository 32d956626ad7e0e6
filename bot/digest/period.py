"""Periods and weeks: ``--since 7d``, dates, ISO weeks. All in UTC; no clock read here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from bot.settings.timespec import PeriodError, parse_moment

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
