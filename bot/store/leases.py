"""Named leases: a row per singleton task, held by one owner until it expires.

One code path for both backends. Taking a lease is a conditional ``UPDATE``
(free, expired, or already ours) and, when no row exists yet, an ``INSERT``
that loses cleanly on the primary key. PostgreSQL serialises the two updaters
on the row lock and re-checks the condition; SQLite's ``BEGIN IMMEDIATE``
takes the write lock first. A holder that dies frees the lease when it expires.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, Engine, delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store.models import Lease, utcnow


def acquire(
    engine: Engine, name: str, owner: str, *, seconds: float, now: datetime | None = None
) -> bool:
    """Take (or extend) the lease ``name`` for ``owner``; False when someone else holds it."""
    now = now or utcnow()
    until = now + timedelta(seconds=seconds)
    with Session(engine) as s, s.begin():
        result: CursorResult[Any] = s.execute(  # type: ignore[assignment]
            update(Lease)
            .where(Lease.name == name, or_(Lease.until < now, Lease.owner == owner))
            .values(owner=owner, until=until, acquired_at=now)
        )
        if result.rowcount == 1:
            return True
        try:
            with s.begin_nested():
                s.add(Lease(name=name, owner=owner, until=until, acquired_at=now))
                s.flush()
        except IntegrityError:
            return False  # the row exists and is held by someone else
        return True


def release(engine: Engine, name: str, owner: str) -> bool:
    """Give the lease back (only if still ours)."""
    with Session(engine) as s, s.begin():
        result: CursorResult[Any] = s.execute(  # type: ignore[assignment]
            delete(Lease).where(Lease.name == name, Lease.owner == owner)
        )
        return result.rowcount == 1


def holder(engine: Engine, name: str, *, now: datetime | None = None) -> str | None:
    """Who holds the lease now (None when free or expired)."""
    now = now or utcnow()
    with Session(engine) as s:
        lease = s.get(Lease, name)
        if lease is None or lease.until < now:
            return None
        return lease.owner
