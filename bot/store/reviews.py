"""Merge-request state and stored reviews, in the shape the weekly digest reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.findings import Finding, Override
from bot.forges.events import EventKind, ForgeEvent
from bot.store.models import MergeRequest, Review, utcnow


@dataclass(frozen=True, slots=True)
class ReviewRecord:
    """One review, as stored (and as the digest reads it)."""

    forge: str
    project: str
    number: int
    title: str
    author: str | None
    url: str | None
    labels: tuple[str, ...]
    state: str
    base_sha: str | None
    head_sha: str | None
    verdict: str
    previous_verdict: str | None
    findings: tuple[dict[str, Any], ...]
    """rule_id, slug, severity, tier, path, line, vmsd, subject, message, fingerprint."""
    compat_entries: tuple[dict[str, Any], ...] = ()
    overrides: tuple[dict[str, Any], ...] = ()
    """label, by, honoured, effect."""
    tiers: tuple[dict[str, Any], ...] = ()
    job_id: int | None = None
    started_at: datetime | None = None
    id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _merge_request(s: Session, forge: str, project: str, number: int) -> MergeRequest | None:
    return s.execute(
        select(MergeRequest).where(
            MergeRequest.forge == forge,
            MergeRequest.project == project,
            MergeRequest.number == number,
        )
    ).scalar_one_or_none()


def _upsert_merge_request(
    s: Session, forge: str, project: str, number: int, now: datetime, **values: Any
) -> MergeRequest:
    mr = _merge_request(s, forge, project, number)
    if mr is None:
        mr = MergeRequest(
            forge=forge,
            project=project,
            number=number,
            title="",
            state="open",
            labels=[],
            created_at=now,
            updated_at=now,
        )
        try:
            with s.begin_nested():
                s.add(mr)
                s.flush()
        except IntegrityError:
            mr = _merge_request(s, forge, project, number)
            if mr is None:
                raise
    for key, value in values.items():
        if value is not None:
            setattr(mr, key, value)
    mr.updated_at = now
    return mr


def record_state(s: Session, event: ForgeEvent, now: datetime) -> None:
    """A merge request was closed or merged: remember when, for the digest."""
    assert event.ref is not None
    state = "merged" if event.kind is EventKind.MERGED else "closed"
    ref = event.ref
    _upsert_merge_request(
        s,
        ref.forge,
        ref.project,
        ref.number,
        now,
        state=state,
        title=event.title or None,
        url=event.url,
        labels=list(event.labels) if event.labels else None,
        merged_at=now if state == "merged" else None,
        closed_at=now,
    )
    s.execute(
        update(Review)
        .where(
            Review.forge == ref.forge, Review.project == ref.project, Review.number == ref.number
        )
        .values(state=state, updated_at=now)
    )


def save_review(engine: Engine, record: ReviewRecord, *, now: datetime | None = None) -> int:
    """Store one review and the merge request's latest state; returns the review id."""
    now = now or utcnow()
    with Session(engine) as s, s.begin():
        _upsert_merge_request(
            s,
            record.forge,
            record.project,
            record.number,
            now,
            title=record.title,
            author=record.author,
            url=record.url,
            labels=list(record.labels),
            state=record.state,
            head_sha=record.head_sha,
            verdict=record.verdict,
        )
        row = Review(
            forge=record.forge,
            project=record.project,
            number=record.number,
            title=record.title,
            author=record.author,
            url=record.url,
            labels=list(record.labels),
            state=record.state,
            base_sha=record.base_sha,
            head_sha=record.head_sha,
            verdict=record.verdict,
            previous_verdict=record.previous_verdict,
            findings=list(record.findings),
            compat_entries=list(record.compat_entries),
            overrides=list(record.overrides),
            tiers=list(record.tiers),
            job_id=record.job_id,
            started_at=record.started_at,
            created_at=now,
            updated_at=now,
        )
        s.add(row)
        s.flush()
        return row.id


def review_record(row: Review) -> ReviewRecord:
    return ReviewRecord(
        id=row.id,
        forge=row.forge,
        project=row.project,
        number=row.number,
        title=row.title,
        author=row.author,
        url=row.url,
        labels=tuple(row.labels),
        state=row.state,
        base_sha=row.base_sha,
        head_sha=row.head_sha,
        verdict=row.verdict,
        previous_verdict=row.previous_verdict,
        findings=tuple(row.findings),
        compat_entries=tuple(row.compat_entries),
        overrides=tuple(row.overrides),
        tiers=tuple(row.tiers),
        job_id=row.job_id,
        started_at=row.started_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def list_reviews(
    engine: Engine,
    *,
    forge: str | None = None,
    project: str | None = None,
    number: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[ReviewRecord]:
    """Reviews, oldest first, filtered by merge request and creation time."""
    query = select(Review).order_by(Review.created_at, Review.id)
    if forge is not None:
        query = query.where(Review.forge == forge)
    if project is not None:
        query = query.where(Review.project == project)
    if number is not None:
        query = query.where(Review.number == number)
    if since is not None:
        query = query.where(Review.created_at >= since)
    if until is not None:
        query = query.where(Review.created_at < until)
    with Session(engine) as s:
        return [review_record(r) for r in s.execute(query).scalars()]


def latest_review(engine: Engine, forge: str, project: str, number: int) -> ReviewRecord | None:
    reviews = list_reviews(engine, forge=forge, project=project, number=number)
    return reviews[-1] if reviews else None


@dataclass(frozen=True, slots=True)
class MergeRequestState:
    forge: str
    project: str
    number: int
    title: str
    author: str | None
    url: str | None
    state: str
    labels: tuple[str, ...]
    head_sha: str | None
    verdict: str | None
    merged_at: datetime | None
    closed_at: datetime | None
    updated_at: datetime


def merge_request_state(m: MergeRequest) -> MergeRequestState:
    return MergeRequestState(
        forge=m.forge,
        project=m.project,
        number=m.number,
        title=m.title,
        author=m.author,
        url=m.url,
        state=m.state,
        labels=tuple(m.labels),
        head_sha=m.head_sha,
        verdict=m.verdict,
        merged_at=m.merged_at,
        closed_at=m.closed_at,
        updated_at=m.updated_at,
    )


def merge_requests(
    engine: Engine, *, states: Sequence[str] | None = None
) -> list[MergeRequestState]:
    query = select(MergeRequest).order_by(MergeRequest.id)
    if states:
        query = query.where(MergeRequest.state.in_(list(states)))
    with Session(engine) as s:
        return [merge_request_state(m) for m in s.execute(query).scalars()]


def stored_finding(f: Finding) -> dict[str, Any]:
    """A finding as reviews keep it (merge requests and list series alike)."""
    return {
        "rule_id": f.rule_id,
        "slug": f.slug,
        "title": f.title,
        "severity": str(f.severity),
        "base_severity": str(f.base_severity) if f.base_severity else None,
        "tier": str(f.tier),
        "path": f.path,
        "line": f.line,
        "side": str(f.side),
        "vmsd": f.vmsd,
        "subject": f.subject,
        "message": f.message,
        "fingerprint": f.fingerprint,
        "override": f.override.label if f.override else None,
    }


def stored_override(o: Override) -> dict[str, Any]:
    """An override as reviews keep it."""
    return {
        "label": o.label,
        "by": o.by,
        "honoured": o.honoured,
        "effect": o.effect,
        "reason": o.reason,
    }
