"""What the digest reads from the store and what it keeps there.

`digest_history` gathers, for every merge request active in a window (reviewed,
merged or closed in it), all its reviews up to the window's end and its
merge-request row: enough to tell "fixed before merge" from "merged clean".
Built digests are kept by period key (`save_digest`), so the service can show
the latest one and a second scheduler can see the week was already posted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, or_, select, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store.models import MergeRequest, Review, StoredDigest, utcnow
from bot.store.reviews import (
    MergeRequestState,
    ReviewRecord,
    merge_request_state,
    review_record,
)


@dataclass(frozen=True, slots=True)
class History:
    """One merge request as the digest sees it: its reviews and its latest state."""

    reviews: tuple[ReviewRecord, ...]
    """Oldest first; all non-empty."""
    state: MergeRequestState | None


def _in(column: Any, since: datetime, until: datetime) -> Any:
    return and_(column >= since, column < until)


def digest_history(engine: Engine, since: datetime, until: datetime) -> list[History]:
    """Merge requests reviewed, merged or closed in [since, until), with their reviews."""
    active = union(
        select(Review.forge, Review.project, Review.number).where(
            _in(Review.created_at, since, until)
        ),
        select(MergeRequest.forge, MergeRequest.project, MergeRequest.number).where(
            or_(
                _in(MergeRequest.merged_at, since, until), _in(MergeRequest.closed_at, since, until)
            )
        ),
    ).subquery()
    keys = (active.c.forge, active.c.project, active.c.number)
    reviews_q = (
        select(Review)
        .join(
            active,
            and_(Review.forge == keys[0], Review.project == keys[1], Review.number == keys[2]),
        )
        .where(Review.created_at < until)
        .order_by(Review.created_at, Review.id)
    )
    mrs_q = select(MergeRequest).join(
        active,
        and_(
            MergeRequest.forge == keys[0],
            MergeRequest.project == keys[1],
            MergeRequest.number == keys[2],
        ),
    )
    grouped: dict[tuple[str, str, int], list[ReviewRecord]] = {}
    states: dict[tuple[str, str, int], MergeRequestState] = {}
    with Session(engine) as s:
        for row in s.execute(reviews_q).scalars():
            grouped.setdefault((row.forge, row.project, row.number), []).append(review_record(row))
        for m in s.execute(mrs_q).scalars():
            states[(m.forge, m.project, m.number)] = merge_request_state(m)
    return [History(tuple(reviews), states.get(key)) for key, reviews in grouped.items()]


@dataclass(frozen=True, slots=True)
class DigestRow:
    key: str
    since: datetime
    until: datetime
    data: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    posted_at: datetime | None
    issue_url: str | None
    page_path: str | None


def _row(d: StoredDigest) -> DigestRow:
    return DigestRow(
        key=d.key,
        since=d.since,
        until=d.until,
        data=dict(d.data),
        created_at=d.created_at,
        updated_at=d.updated_at,
        posted_at=d.posted_at,
        issue_url=d.issue_url,
        page_path=d.page_path,
    )


def save_digest(
    engine: Engine,
    key: str,
    since: datetime,
    until: datetime,
    data: dict[str, Any],
    *,
    now: datetime | None = None,
) -> None:
    """Keep the digest of period ``key`` (replacing an earlier build of the same period)."""
    now = now or utcnow()
    with Session(engine) as s, s.begin():
        row = s.execute(select(StoredDigest).where(StoredDigest.key == key)).scalar_one_or_none()
        if row is None:
            row = StoredDigest(key=key, created_at=now)
            try:
                with s.begin_nested():
                    _fill(row, since, until, data, now)
                    s.add(row)
                    s.flush()
                return
            except IntegrityError:  # another process stored it meanwhile: update theirs
                row = s.execute(select(StoredDigest).where(StoredDigest.key == key)).scalar_one()
        _fill(row, since, until, data, now)


def _fill(
    row: StoredDigest, since: datetime, until: datetime, data: dict[str, Any], now: datetime
) -> None:
    row.since = since
    row.until = until
    row.data = data
    row.updated_at = now


def mark_posted(
    engine: Engine,
    key: str,
    *,
    issue_url: str | None,
    page_path: str | None,
    now: datetime | None = None,
) -> None:
    now = now or utcnow()
    with Session(engine) as s, s.begin():
        row = s.execute(select(StoredDigest).where(StoredDigest.key == key)).scalar_one()
        row.posted_at = now
        row.issue_url = issue_url or row.issue_url
        row.page_path = page_path or row.page_path


def get_digest(engine: Engine, key: str) -> DigestRow | None:
    with Session(engine) as s:
        row = s.execute(select(StoredDigest).where(StoredDigest.key == key)).scalar_one_or_none()
        return _row(row) if row else None


def latest_digest(engine: Engine) -> DigestRow | None:
    """The digest of the most recent period."""
    query = select(StoredDigest).order_by(
        StoredDigest.until.desc(), StoredDigest.updated_at.desc(), StoredDigest.id.desc()
    )
    with Session(engine) as s:
        row = s.execute(query.limit(1)).scalar_one_or_none()
        return _row(row) if row else None
