"""Deliveries and the job queue.

`accept` stores a delivery and its job in one transaction before the service
answers. Jobs for one merge request coalesce: at most one is queued (a partial
unique index), and a newer delivery updates it. Workers `claim` with a lease;
a lease that expires (the worker was killed) makes the job claimable again; a
job failing `max_attempts` times is parked until `retry`.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    CursorResult,
    Engine,
    Row,
    and_,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from bot.errors import MigbotError
from bot.forges.events import EventKind, ForgeEvent
from bot.store.models import Delivery, Job, JobState, utcnow
from bot.store.reviews import record_state


class JobError(MigbotError):
    """A job command that cannot be carried out (unknown id, wrong state)."""


@dataclass(frozen=True, slots=True)
class Accepted:
    outcome: str
    """``queued``, ``coalesced``, ``recorded``, ``ignored`` or ``duplicate``."""
    delivery_id: int | None
    job_id: int | None = None


@dataclass(frozen=True, slots=True)
class JobRecord:
    id: int
    forge: str
    project: str
    number: int
    mr_key: str
    reason: str
    state: str
    head_sha: str | None
    payload: dict[str, Any]
    deliveries: int
    attempts: int
    max_attempts: int
    last_error: str | None
    lease_owner: str | None
    lease_until: datetime | None
    not_before: datetime
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None

    @property
    def event(self) -> ForgeEvent:
        return ForgeEvent.from_json(self.payload)

    def to_json(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "id": self.id,
            "forge": self.forge,
            "project": self.project,
            "number": self.number,
            "reason": self.reason,
            "state": self.state,
            "head_sha": self.head_sha,
            "deliveries": self.deliveries,
            "attempts": self.attempts,
            "max_attempts": self.max_attempts,
            "last_error": self.last_error,
            "lease_owner": self.lease_owner,
            "lease_until": iso(self.lease_until),
            "not_before": iso(self.not_before),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "finished_at": iso(self.finished_at),
        }


def _record(job: Job | Row[Any]) -> JobRecord:
    return JobRecord(
        id=job.id,
        forge=job.forge,
        project=job.project,
        number=job.number,
        mr_key=job.mr_key,
        reason=job.reason,
        state=job.state,
        head_sha=job.head_sha,
        payload=dict(job.payload),
        deliveries=job.deliveries,
        attempts=job.attempts,
        max_attempts=job.max_attempts,
        last_error=job.last_error,
        lease_owner=job.lease_owner,
        lease_until=job.lease_until,
        not_before=job.not_before,
        created_at=job.created_at,
        updated_at=job.updated_at,
        finished_at=job.finished_at,
    )


def _coalesce_into_queued(s: Session, event: ForgeEvent, now: datetime) -> int | None:
    assert event.ref is not None
    return s.execute(
        update(Job)
        .where(Job.mr_key == event.ref.key, Job.state == JobState.QUEUED)
        .values(
            head_sha=event.head_sha,
            payload=event.to_json(),
            reason=event.reason[:200],
            deliveries=Job.deliveries + 1,
            updated_at=now,
        )
        .returning(Job.id)
    ).scalar_one_or_none()


def _enqueue(s: Session, event: ForgeEvent, now: datetime, max_attempts: int) -> tuple[int, bool]:
    """The id of the queued job for the event's merge request, and whether it existed."""
    assert event.ref is not None
    existing = _coalesce_into_queued(s, event, now)
    if existing is not None:
        return existing, True
    job = Job(
        forge=event.forge,
        project=event.ref.project,
        number=event.ref.number,
        mr_key=event.ref.key,
        kind="review",
        reason=event.reason[:200],
        state=JobState.QUEUED,
        head_sha=event.head_sha,
        payload=event.to_json(),
        deliveries=1,
        attempts=0,
        max_attempts=max_attempts,
        not_before=now,
        created_at=now,
        updated_at=now,
    )
    try:
        with s.begin_nested():
            s.add(job)
            s.flush()
    except IntegrityError:
        # Another delivery for the same merge request queued one meanwhile.
        existing = _coalesce_into_queued(s, event, now)
        if existing is None:
            raise
        return existing, True
    return job.id, False


def accept(
    engine: Engine,
    event: ForgeEvent,
    *,
    max_attempts: int = 5,
    now: datetime | None = None,
    body_sha256: str | None = None,
) -> Accepted:
    """Store a delivery (and queue its job) durably; a replayed delivery does nothing.

    A replay is the same delivery id, or the same body (``body_sha256``, what
    the forge's signature covers) under a fresh id."""
    now = now or utcnow()
    try:
        with Session(engine) as s, s.begin():
            delivery = Delivery(
                forge=event.forge,
                delivery_key=event.delivery_id,
                event=event.event[:64],
                action=event.action[:64],
                kind=str(event.kind),
                mr_key=event.ref.key if event.ref else None,
                outcome="pending",
                payload=event.to_json(),
                received_at=now,
                body_sha256=body_sha256,
            )
            s.add(delivery)
            s.flush()
            job_id = None
            if event.kind in (EventKind.REVIEW, EventKind.LABELS) and event.ref is not None:
                job_id, coalesced = _enqueue(s, event, now, max_attempts)
                outcome = "coalesced" if coalesced else "queued"
            elif event.kind in (EventKind.CLOSED, EventKind.MERGED) and event.ref is not None:
                record_state(s, event, now)
                outcome = "recorded"
            else:
                outcome = "ignored"
            delivery.outcome = outcome
            delivery.job_id = job_id
            delivery_id = delivery.id
        return Accepted(outcome, delivery_id, job_id)
    except IntegrityError:
        with Session(engine) as s:
            same = Delivery.delivery_key == event.delivery_id
            if body_sha256 is not None:
                same = or_(same, Delivery.body_sha256 == body_sha256)
            row = s.execute(
                select(Delivery.id, Delivery.job_id).where(Delivery.forge == event.forge, same)
            ).first()
        if row is None:
            raise
        return Accepted("duplicate", row[0], row[1])


def claim(
    engine: Engine, worker_id: str, *, lease_seconds: float, now: datetime | None = None
) -> JobRecord | None:
    """Take the oldest runnable job (queued, or running with an expired lease).

    One ``UPDATE ... WHERE id = (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING``,
    committed on its own (autocommit): the row lock lives only inside the
    database for the one statement. Held across round trips, it made the
    intake's upsert for the same merge request wait on a worker process that
    runs at a lower priority (on SQLite the statement takes the write lock). A
    merge request with a job under a live lease is skipped, so its jobs run one
    at a time.
    """
    now = now or utcnow()
    other = aliased(Job)
    busy = exists().where(
        other.mr_key == Job.mr_key,
        other.state == JobState.RUNNING,
        other.lease_until >= now,
        other.id != Job.id,
    )
    runnable = or_(
        and_(Job.state == JobState.QUEUED, Job.not_before <= now),
        and_(Job.state == JobState.RUNNING, Job.lease_until < now),
    )
    oldest = select(Job.id).where(runnable, ~busy).order_by(Job.not_before, Job.id).limit(1)
    if engine.dialect.name == "postgresql":
        oldest = oldest.with_for_update(skip_locked=True, of=Job)
    take = (
        update(Job)
        .where(Job.id == oldest.scalar_subquery(), runnable)
        .values(
            state=JobState.RUNNING,
            lease_owner=worker_id,
            lease_until=now + timedelta(seconds=lease_seconds),
            attempts=Job.attempts + 1,
            updated_at=now,
        )
        .returning(*Job.__table__.c)
    )
    with _each_statement_commits(engine) as conn:
        conn.execute(
            update(Job)
            .where(
                Job.state == JobState.RUNNING,
                Job.lease_until < now,
                Job.attempts >= Job.max_attempts,
            )
            .values(
                state=JobState.PARKED,
                last_error=func.coalesce(Job.last_error, "")
                + "lease expired on the last attempt (worker lost)",
                lease_owner=None,
                lease_until=None,
                updated_at=now,
            )
        )
        row = conn.execute(take).one_or_none()
    return None if row is None else _record(row)


@contextlib.contextmanager
def _each_statement_commits(engine: Engine) -> Iterator[Connection]:
    """PostgreSQL in autocommit; SQLite in one transaction (its write lock, taken
    by ``BEGIN IMMEDIATE``, already serialises writers)."""
    if engine.dialect.name != "postgresql":
        with engine.begin() as conn:
            yield conn
        return
    with engine.connect() as conn:
        yield conn.execution_options(isolation_level="AUTOCOMMIT")


def heartbeat(
    engine: Engine,
    job_id: int,
    worker_id: str,
    *,
    lease_seconds: float,
    now: datetime | None = None,
) -> bool:
    """Extend a lease; False when the job is no longer this worker's."""
    now = now or utcnow()
    with Session(engine) as s, s.begin():
        result: CursorResult[Any] = s.execute(  # type: ignore[assignment]
            update(Job)
            .where(Job.id == job_id, Job.lease_owner == worker_id, Job.state == JobState.RUNNING)
            .values(lease_until=now + timedelta(seconds=lease_seconds), updated_at=now)
        )
        return result.rowcount == 1


def complete(engine: Engine, job_id: int, worker_id: str, *, now: datetime | None = None) -> bool:
    now = now or utcnow()
    with Session(engine) as s, s.begin():
        result: CursorResult[Any] = s.execute(  # type: ignore[assignment]
            update(Job)
            .where(Job.id == job_id, Job.lease_owner == worker_id, Job.state == JobState.RUNNING)
            .values(
                state=JobState.DONE,
                lease_owner=None,
                lease_until=None,
                last_error=None,
                finished_at=now,
                updated_at=now,
            )
        )
        return result.rowcount == 1


def _requeue(s: Session, job: Job, now: datetime, not_before: datetime) -> str:
    """Queue ``job`` again, unless a newer job for its merge request is queued."""
    newer = s.execute(
        select(Job.id).where(Job.mr_key == job.mr_key, Job.state == JobState.QUEUED)
    ).scalar_one_or_none()
    job.lease_owner = None
    job.lease_until = None
    job.updated_at = now
    if newer is not None:
        job.state = JobState.SUPERSEDED
        job.finished_at = now
        return JobState.SUPERSEDED
    job.state = JobState.QUEUED
    job.not_before = not_before
    return JobState.QUEUED


def fail(
    engine: Engine,
    job_id: int,
    worker_id: str,
    error: str,
    *,
    backoff_seconds: float = 5.0,
    now: datetime | None = None,
) -> str | None:
    """Record a failed attempt: retry later with backoff, or park. Returns the new state."""
    now = now or utcnow()
    with Session(engine) as s, s.begin():
        job = s.get(Job, job_id)
        if job is None or job.lease_owner != worker_id or job.state != JobState.RUNNING:
            return None
        job.last_error = error[-4000:]
        if job.attempts >= job.max_attempts:
            job.state = JobState.PARKED
            job.lease_owner = None
            job.lease_until = None
            job.updated_at = now
            return JobState.PARKED
        delay = backoff_seconds * math.pow(2, max(job.attempts - 1, 0))
        return _requeue(s, job, now, now + timedelta(seconds=delay))


def release(engine: Engine, job_id: int, worker_id: str, *, now: datetime | None = None) -> bool:
    """Give a job back unfinished (graceful shutdown): the attempt does not count."""
    now = now or utcnow()
    with Session(engine) as s, s.begin():
        job = s.get(Job, job_id)
        if job is None or job.lease_owner != worker_id or job.state != JobState.RUNNING:
            return False
        job.attempts = max(job.attempts - 1, 0)
        _requeue(s, job, now, now)
        return True


def retry(engine: Engine, job_id: int, *, now: datetime | None = None) -> JobRecord:
    """Queue a parked (or finished) job again with a fresh attempt budget."""
    now = now or utcnow()
    with Session(engine) as s, s.begin():
        job = s.get(Job, job_id)
        if job is None:
            raise JobError(f"no job {job_id}")
        if job.state in (JobState.QUEUED, JobState.RUNNING):
            raise JobError(f"job {job_id} is {job.state}")
        job.attempts = 0
        job.finished_at = None
        state = _requeue(s, job, now, now)
        if state != JobState.QUEUED:
            raise JobError(f"job {job_id}: a newer job for {job.mr_key} is already queued")
        s.flush()
        return _record(job)


def get_job(engine: Engine, job_id: int) -> JobRecord | None:
    with Session(engine) as s:
        job = s.get(Job, job_id)
        return _record(job) if job else None


def list_jobs(
    engine: Engine, *, states: tuple[str, ...] | None = None, limit: int = 200
) -> list[JobRecord]:
    with Session(engine) as s:
        query = select(Job).order_by(Job.id.desc()).limit(limit)
        if states:
            query = query.where(Job.state.in_(states))
        return [_record(job) for job in s.execute(query).scalars()]


def count_by_state(engine: Engine) -> dict[str, int]:
    with Session(engine) as s:
        rows = s.execute(select(Job.state, func.count()).group_by(Job.state)).all()
    counts = dict.fromkeys(JobState.ALL, 0)
    counts.update({state: int(n) for state, n in rows})
    return counts


def count_deliveries(engine: Engine) -> dict[str, int]:
    with Session(engine) as s:
        rows = s.execute(select(Delivery.outcome, func.count()).group_by(Delivery.outcome)).all()
    return {outcome: int(n) for outcome, n in rows}
