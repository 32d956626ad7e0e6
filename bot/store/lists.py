"""Mailing-list reviews in the store: kept messages, one review per series version, cursors.

A series version is keyed by the Message-Id of its first message, unique in
the table: whatever restarts, a version is reviewed and answered once. A reply
is marked ``sending`` before it leaves and ``sent`` after, so a crash between
the two never sends it twice (at most once, never a flood).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store.models import ListCursor, ListMessage, ListReview, utcnow


class ListState:
    HELD = "held"
    """Reviewed; the reply waits for room under the hourly limit."""
    SENDING = "sending"
    SENT = "sent"
    WRITTEN = "written"
    """Dry run: the reply was written to a folder."""
    QUIET = "quiet"
    """No reply: a clean series, or one too old to answer."""
    ANSWERED = (SENDING, SENT, WRITTEN)


@dataclass(frozen=True, slots=True)
class ListReviewRecord:
    message_id: str
    series_key: str
    version: int
    title: str
    author: str | None
    posted_at: datetime
    base_sha: str | None
    verdict: str
    state: str
    list_name: str = ""
    findings: tuple[dict[str, Any], ...] = ()
    overrides: tuple[dict[str, Any], ...] = ()
    tiers: tuple[dict[str, Any], ...] = ()
    acks: tuple[dict[str, Any], ...] = field(default=())
    reply_id: str | None = None
    reply: bytes | None = None
    created_at: datetime | None = None
    sent_at: datetime | None = None


def _record(row: ListReview) -> ListReviewRecord:
    return ListReviewRecord(
        message_id=row.message_id,
        series_key=row.series_key,
        version=row.version,
        title=row.title,
        author=row.author,
        posted_at=row.posted_at,
        base_sha=row.base_sha,
        verdict=row.verdict,
        state=row.state,
        list_name=row.list_name,
        findings=tuple(row.findings),
        overrides=tuple(row.overrides),
        tiers=tuple(row.tiers),
        acks=tuple(row.acks),
        reply_id=row.reply_id,
        reply=row.reply,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )


# --- messages -------------------------------------------------------------------------


def keep_message(engine: Engine, message_id: str, date: datetime, raw: bytes) -> bool:
    """Keep a message; False when it was already kept (a feed read twice)."""
    with Session(engine) as s, s.begin():
        if s.execute(select(ListMessage.id).where(ListMessage.message_id == message_id)).first():
            return False
        try:
            with s.begin_nested():
                s.add(
                    ListMessage(
                        message_id=message_id,
                        date=date,
                        raw=raw,
                        settled=False,
                        created_at=utcnow(),
                    )
                )
        except IntegrityError:
            return False
    return True


def known_messages(engine: Engine, ids: Iterable[str]) -> set[str]:
    wanted = list(set(ids))
    if not wanted:
        return set()
    with Session(engine) as s:
        rows = s.execute(select(ListMessage.message_id).where(ListMessage.message_id.in_(wanted)))
        return {r[0] for r in rows}


def messages_since(engine: Engine, since: datetime) -> list[tuple[bytes, bool]]:
    """Raw kept messages dated from ``since``, oldest first, and whether they are settled."""
    query = (
        select(ListMessage.raw, ListMessage.settled)
        .where(ListMessage.date >= since)
        .order_by(ListMessage.date, ListMessage.id)
    )
    with Session(engine) as s:
        return [(r[0], bool(r[1])) for r in s.execute(query)]


def settle(engine: Engine, message_ids: Iterable[str]) -> None:
    """Mark messages whose thread needs no more work until a new message joins it."""
    ids = list(set(message_ids))
    with Session(engine) as s, s.begin():
        for at in range(0, len(ids), 500):
            s.execute(
                update(ListMessage)
                .where(ListMessage.message_id.in_(ids[at : at + 500]))
                .values(settled=True)
            )


# --- cursors --------------------------------------------------------------------------


def cursors(engine: Engine, prefix: str) -> dict[str, str]:
    """Positions of cursors named ``prefix`` + name, by name."""
    with Session(engine) as s:
        rows = s.execute(
            select(ListCursor).where(ListCursor.name.startswith(prefix, autoescape=True))
        )
        return {c.name.removeprefix(prefix): c.position for c in rows.scalars()}


def set_cursor(engine: Engine, name: str, position: str) -> None:
    with Session(engine) as s, s.begin():
        row = s.get(ListCursor, name)
        if row is None:
            s.add(ListCursor(name=name, position=position, updated_at=utcnow()))
        else:
            row.position, row.updated_at = position, utcnow()


# --- reviews --------------------------------------------------------------------------


def list_review(engine: Engine, message_id: str) -> ListReviewRecord | None:
    with Session(engine) as s:
        row = s.execute(
            select(ListReview).where(ListReview.message_id == message_id)
        ).scalar_one_or_none()
        return _record(row) if row else None


def series_reviews(engine: Engine, series_key: str) -> list[ListReviewRecord]:
    """Every reviewed version of a series, oldest version first."""
    query = (
        select(ListReview)
        .where(ListReview.series_key == series_key)
        .order_by(ListReview.version, ListReview.id)
    )
    with Session(engine) as s:
        return [_record(r) for r in s.execute(query).scalars()]


def save_list_review(
    engine: Engine, record: ListReviewRecord, *, now: datetime | None = None
) -> bool:
    """Store a review; False (and nothing changed) when the version has one already."""
    now = now or utcnow()
    with Session(engine) as s, s.begin():
        try:
            with s.begin_nested():
                s.add(
                    ListReview(
                        message_id=record.message_id,
                        list_name=record.list_name,
                        series_key=record.series_key,
                        version=record.version,
                        title=record.title,
                        author=record.author,
                        posted_at=record.posted_at,
                        base_sha=record.base_sha,
                        verdict=record.verdict,
                        state=record.state,
                        findings=list(record.findings),
                        overrides=list(record.overrides),
                        tiers=list(record.tiers),
                        acks=list(record.acks),
                        reply_id=record.reply_id,
                        reply=record.reply,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            return False
    return True


def claim_reply(engine: Engine, message_id: str, *, now: datetime | None = None) -> bool:
    """Move a held reply to ``sending``; False when another run took it."""
    now = now or utcnow()
    with Session(engine) as s, s.begin():
        row = s.execute(
            select(ListReview).where(ListReview.message_id == message_id).with_for_update()
        ).scalar_one_or_none()
        if row is None or row.state != ListState.HELD:
            return False
        row.state, row.updated_at, row.sent_at = ListState.SENDING, now, now
    return True


def finish_reply(
    engine: Engine, message_id: str, state: str, *, now: datetime | None = None
) -> None:
    now = now or utcnow()
    with Session(engine) as s, s.begin():
        row = s.execute(select(ListReview).where(ListReview.message_id == message_id)).scalar_one()
        row.state, row.updated_at = state, now
        row.sent_at = row.sent_at or now


def replies_since(engine: Engine, since: datetime) -> int:
    """Replies sent (or being sent, or written) since ``since``: the hourly limit's count."""
    with Session(engine) as s:
        count = s.execute(
            select(func.count(ListReview.id)).where(
                ListReview.state.in_(ListState.ANSWERED), ListReview.sent_at >= since
            )
        ).scalar_one()
        return int(count)


def held_replies(engine: Engine) -> list[ListReviewRecord]:
    """Reviewed versions whose reply waits, oldest first."""
    query = (
        select(ListReview)
        .where(ListReview.state == ListState.HELD)
        .order_by(ListReview.created_at, ListReview.id)
    )
    with Session(engine) as s:
        return [_record(r) for r in s.execute(query).scalars()]


def add_ack(engine: Engine, message_id: str, ack: dict[str, Any]) -> bool:
    """Record a maintainer's Acked-by on a reviewed version; False if already known."""
    with Session(engine) as s, s.begin():
        row = s.execute(
            select(ListReview).where(ListReview.message_id == message_id).with_for_update()
        ).scalar_one_or_none()
        if row is None or any(a.get("message_id") == ack.get("message_id") for a in row.acks):
            return False
        row.acks = [*row.acks, ack]
        row.updated_at = utcnow()
    return True


def list_reviews_between(
    engine: Engine, since: datetime, until: datetime
) -> list[ListReviewRecord]:
    """Every version of each series with a version reviewed in [since, until)."""
    active = (
        select(ListReview.series_key)
        .where(ListReview.created_at >= since, ListReview.created_at < until)
        .distinct()
        .subquery()
    )
    query = (
        select(ListReview)
        .where(ListReview.series_key.in_(select(active.c.series_key)))
        .where(ListReview.created_at < until)
        .order_by(ListReview.series_key, ListReview.version, ListReview.id)
    )
    with Session(engine) as s:
        return [_record(r) for r in s.execute(query).scalars()]


HOUR = timedelta(hours=1)


def release_reply(engine: Engine, message_id: str) -> None:
    """A reply that could not leave goes back to ``held``, to be tried again later."""
    with Session(engine) as s, s.begin():
        row = s.execute(select(ListReview).where(ListReview.message_id == message_id)).scalar_one()
        row.state, row.sent_at, row.updated_at = ListState.HELD, None, utcnow()


def newest_message(engine: Engine) -> datetime | None:
    with Session(engine) as s:
        value = s.execute(select(func.max(ListMessage.date))).scalar_one_or_none()
    if value is not None and value.tzinfo is None:  # SQLite's max() skips the type
        value = datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
    return value
