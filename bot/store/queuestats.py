"""What an operator watches on the queue: depth, parked jobs, age of the oldest waiting job."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.store.models import Job, JobState, utcnow


@dataclass(frozen=True, slots=True)
class QueueStats:
    queued: int
    parked: int
    oldest_queued_age_s: float
    """0 when nothing is queued."""


def queue_stats(engine: Engine, *, now: datetime | None = None) -> QueueStats:
    now = now or utcnow()
    with Session(engine) as s:
        counts = dict(
            s.execute(
                select(Job.state, func.count())
                .where(Job.state.in_((JobState.QUEUED, JobState.PARKED)))
                .group_by(Job.state)
            ).all()
        )
        oldest = s.execute(
            select(func.min(Job.created_at)).where(Job.state == JobState.QUEUED)
        ).scalar_one_or_none()
    age = 0.0
    if oldest is not None:
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=now.tzinfo)
        age = max(0.0, (now - oldest).total_seconds())
    return QueueStats(int(counts.get(JobState.QUEUED, 0)), int(counts.get(JobState.PARKED, 0)), age)
