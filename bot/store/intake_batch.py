"""Storing deliveries in batches: one transaction, a few statements, for many.

`jobs.accept` stores one delivery with the ORM (about 3 ms of CPU); at
hundreds of deliveries a second that is the whole intake. Here a batch is
three statements whatever its size: insert the deliveries (a replay, same id
or same body, is skipped by the unique indexes), upsert one queued job per
merge request (the partial unique index coalesces, as in `jobs.accept`), then
record each delivery's outcome. Same results as `jobs.accept`, one by one.

On PostgreSQL each statement takes the whole batch as one JSON parameter
(``json_to_recordset``): its text is the same for every batch, so the driver
parses it once and the server prepares it. Multi-row ``VALUES`` have a new text
for every batch size and ten parameters a row; parsing them was half the
intake's database CPU.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Engine,
    Text,
    bindparam,
    cast,
    column,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql import FromClause

from bot.forges.events import EventKind, ForgeEvent
from bot.store.jobs import Accepted
from bot.store.models import Delivery, Job, JobState, utcnow
from bot.store.reviews import record_state

_QUEUES = (EventKind.REVIEW, EventKind.LABELS)
_STATES = (EventKind.CLOSED, EventKind.MERGED)


@dataclass(frozen=True, slots=True)
class Incoming:
    event: ForgeEvent
    body_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class _Statements:
    deliveries: Any
    jobs: Any
    outcomes: Any
    one_parameter: bool
    """The batch goes as one JSON parameter ``rows`` (PostgreSQL)."""

    def run(self, conn: Any, statement: Any, rows: list[dict[str, Any]]) -> Any:
        if not self.one_parameter:
            return conn.execute(statement, rows)
        return conn.execute(statement, {"rows": json.dumps(rows, default=_iso)})


_BATCH = cast(bindparam("rows", type_=Text), JSON)
"""The batch's rows, serialised once by `_Statements.run`."""


def _recordset(table: FromClause, names: Sequence[str], *, order_by: str) -> Any:
    """``SELECT names FROM json_to_recordset(:rows) AS r(...)``, typed like ``table``."""
    rows = (
        func.json_to_recordset(_BATCH)
        .table_valued(*(column(n, table.c[n].type) for n in names))
        .render_derived(name="r", with_types=True)
    )
    return select(*(rows.c[n] for n in names)).order_by(rows.c[order_by])


_DELIVERY_COLUMNS = (
    "forge",
    "delivery_key",
    "event",
    "action",
    "kind",
    "mr_key",
    "outcome",
    "payload",
    "received_at",
    "body_sha256",
)
_JOB_COLUMNS = (
    "forge",
    "project",
    "number",
    "mr_key",
    "kind",
    "reason",
    "state",
    "head_sha",
    "payload",
    "deliveries",
    "attempts",
    "max_attempts",
    "not_before",
    "created_at",
    "updated_at",
)


@functools.cache
def _statements_for(dialect_name: str) -> _Statements:
    on_postgres = dialect_name == "postgresql"
    dialect: Any = postgresql if on_postgres else sqlite
    deliveries = dialect.insert(Delivery)
    jobs = dialect.insert(Job)
    if on_postgres:
        # One JSON parameter whatever the batch size (see the module's docstring).
        deliveries = deliveries.from_select(
            _DELIVERY_COLUMNS,
            _recordset(Delivery.__table__, _DELIVERY_COLUMNS, order_by="body_sha256"),
        )
        jobs = jobs.from_select(
            _JOB_COLUMNS, _recordset(Job.__table__, _JOB_COLUMNS, order_by="mr_key")
        )
    deliveries = deliveries.on_conflict_do_nothing().returning(
        Delivery.id, Delivery.forge, Delivery.delivery_key
    )
    jobs = jobs.on_conflict_do_update(
        index_elements=[Job.mr_key],
        # The partial index's own predicate, as text: PostgreSQL infers the
        # index only from an identical expression, never from a parameter.
        index_where=text("state = 'queued'"),
        set_={
            "head_sha": jobs.excluded.head_sha,
            "payload": jobs.excluded.payload,
            "reason": jobs.excluded.reason,
            "deliveries": Job.deliveries + jobs.excluded.deliveries,
            "updated_at": jobs.excluded.updated_at,
        },
    ).returning(Job.id, Job.mr_key, Job.deliveries)
    if on_postgres:
        given = (
            func.json_to_recordset(_BATCH)
            .table_valued(
                column("b_id", Delivery.id.type),
                column("b_outcome", Delivery.outcome.type),
                column("b_job", Delivery.job_id.type),
            )
            .render_derived(name="v", with_types=True)
        )
        outcomes = (
            update(Delivery)
            .where(Delivery.id == given.c.b_id)
            .values(outcome=given.c.b_outcome, job_id=given.c.b_job)
        )
    else:
        outcomes = update(Delivery).where(Delivery.id == bindparam("b_id"))
        outcomes = outcomes.values(outcome=bindparam("b_outcome"), job_id=bindparam("b_job"))
    outcomes = outcomes.execution_options(synchronize_session=False)
    return _Statements(deliveries, jobs, outcomes, on_postgres)


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot send {type(value).__name__} in a batch")


def _statements(engine: Engine) -> _Statements:
    return _statements_for(engine.dialect.name)


def accept_batch(
    engine: Engine,
    items: Sequence[Incoming],
    *,
    max_attempts: int = 5,
    now: datetime | None = None,
) -> list[Accepted]:
    """Store ``items`` durably in one transaction; their outcomes, in order."""
    now = now or utcnow()
    if not items:
        return []
    rows = [
        {
            "forge": it.event.forge,
            "delivery_key": it.event.delivery_id,
            "event": it.event.event[:64],
            "action": it.event.action[:64],
            "kind": str(it.event.kind),
            "mr_key": it.event.ref.key if it.event.ref else None,
            "outcome": "pending",
            "payload": it.event.to_json(),
            "received_at": now,
            "body_sha256": it.body_sha256,
        }
        for it in items
    ]
    # One order for every writer (replays of the same bodies arriving in two
    # batches at once would otherwise wait on each other's unique index entries).
    rows.sort(key=lambda r: (r["body_sha256"] or "", r["delivery_key"]))
    with engine.begin() as conn:
        # One constant statement, compiled once: on SQLite an executemany that
        # SQLAlchemy sends as multi-row INSERTs with RETURNING.
        statements = _statements(engine)
        inserted = statements.run(conn, statements.deliveries, rows).all()
        ids = {(forge, key): did for did, forge, key in inserted}
        # Which item each new row is: the first item with that key (a second
        # one in the same batch, same key or same body, is a replay).
        fresh: dict[int, int] = {}
        for n, it in enumerate(items):
            did = ids.get((it.event.forge, it.event.delivery_id))
            if did is not None and did not in fresh.values():
                fresh[n] = did
        outcomes: dict[int, Accepted] = {}
        _queue_jobs(engine, conn, items, fresh, outcomes, now, max_attempts)
        states = [n for n in fresh if items[n].event.kind in _STATES and items[n].event.ref]
        if states:
            with Session(bind=conn) as s:
                for n in states:
                    record_state(s, items[n].event, now)
                    outcomes[n] = Accepted("recorded", fresh[n])
                s.flush()
        for n, did in fresh.items():
            outcomes.setdefault(n, Accepted("ignored", did))
        if fresh:
            statements.run(
                conn,
                statements.outcomes,
                [
                    {"b_id": a.delivery_id, "b_outcome": a.outcome, "b_job": a.job_id}
                    for a in (outcomes[n] for n in fresh)
                ],
            )
        replays = [n for n in range(len(items)) if n not in fresh]
        if replays:
            _duplicates(conn, items, replays, outcomes)
    return [outcomes[n] for n in range(len(items))]


def _queue_jobs(
    engine: Engine,
    conn: Any,
    items: Sequence[Incoming],
    fresh: dict[int, int],
    outcomes: dict[int, Accepted],
    now: datetime,
    max_attempts: int,
) -> None:
    """One upsert for every merge request the batch asks a review of."""
    by_mr: dict[str, list[int]] = {}
    for n in fresh:
        event = items[n].event
        if event.kind in _QUEUES and event.ref is not None:
            by_mr.setdefault(event.ref.key, []).append(n)
    if not by_mr:
        return
    rows = []
    for key in sorted(by_mr):  # one lock order for every writer: no deadlocks
        last = items[by_mr[key][-1]].event
        assert last.ref is not None
        rows.append(
            {
                "forge": last.forge,
                "project": last.ref.project,
                "number": last.ref.number,
                "mr_key": key,
                "kind": "review",
                "reason": last.reason[:200],
                "state": JobState.QUEUED,
                "head_sha": last.head_sha,
                "payload": last.to_json(),
                "deliveries": len(by_mr[key]),
                "attempts": 0,
                "max_attempts": max_attempts,
                "not_before": now,
                "created_at": now,
                "updated_at": now,
            }
        )
    statements = _statements(engine)
    for job_id, key, deliveries in statements.run(conn, statements.jobs, rows).all():
        numbers = by_mr[key]
        created = deliveries == len(numbers)  # an update adds to an existing count
        for i, n in enumerate(numbers):
            outcome = "queued" if created and i == 0 else "coalesced"
            outcomes[n] = Accepted(outcome, fresh[n], job_id)


def _duplicates(
    conn: Any, items: Sequence[Incoming], replays: list[int], outcomes: dict[int, Accepted]
) -> None:
    """The stored delivery each replay repeats (by id, or by body)."""
    keys = {(items[n].event.forge, items[n].event.delivery_id) for n in replays}
    bodies = {(items[n].event.forge, items[n].body_sha256) for n in replays}
    rows = conn.execute(
        select(
            Delivery.id,
            Delivery.job_id,
            Delivery.forge,
            Delivery.delivery_key,
            Delivery.body_sha256,
        ).where(
            or_(
                Delivery.delivery_key.in_([k for _f, k in keys]),
                Delivery.body_sha256.in_([b for _f, b in bodies if b is not None]),
            )
        )
    ).all()
    by_key = {(r.forge, r.delivery_key): r for r in rows}
    by_body = {(r.forge, r.body_sha256): r for r in rows if r.body_sha256}
    for n in replays:
        it = items[n]
        row = by_key.get((it.event.forge, it.event.delivery_id)) or by_body.get(
            (it.event.forge, it.body_sha256)
        )
        if row is None:
            raise RuntimeError("a delivery skipped as a replay has no stored original")
        outcomes[n] = Accepted("duplicate", row.id, row.job_id)
