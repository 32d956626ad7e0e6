"""The schema: deliveries, jobs, merge requests, reviews and mailing-list reviews.

One SQLAlchemy model set for SQLite and PostgreSQL. Migrations in
``bot/store/migrations`` create exactly this; `tests/store` checks they agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both backends (SQLite keeps them as naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class JobState:
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    PARKED = "parked"
    SUPERSEDED = "superseded"
    """Replaced by a newer queued job for the same merge request."""
    ALL = ("queued", "running", "done", "parked", "superseded")


class Delivery(Base):
    """Every accepted webhook delivery, stored before the answer."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("forge", "delivery_key", name="uq_deliveries_key"),
        # What the signature covers: a replay with a fresh Idempotency-Key is
        # still the same delivery.
        Index("uq_deliveries_body", "forge", "body_sha256", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    forge: Mapped[str] = mapped_column(String(16))
    delivery_key: Mapped[str] = mapped_column(String(160))
    event: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), default="")
    kind: Mapped[str] = mapped_column(String(16))
    mr_key: Mapped[str | None] = mapped_column(String(400), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))
    job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    body_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Job(Base):
    """Work for the worker: review one merge request (latest head)."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_claim", "state", "not_before"),
        Index("ix_jobs_mr", "mr_key", "state"),
        # At most one queued job per merge request: a newer delivery updates it.
        Index(
            "uq_jobs_one_queued",
            "mr_key",
            unique=True,
            sqlite_where=text("state = 'queued'"),
            postgresql_where=text("state = 'queued'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    forge: Mapped[str] = mapped_column(String(16))
    project: Mapped[str] = mapped_column(String(300))
    number: Mapped[int] = mapped_column(Integer)
    mr_key: Mapped[str] = mapped_column(String(400))
    kind: Mapped[str] = mapped_column(String(16), default="review")
    reason: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(16), default=JobState.QUEUED)
    head_sha: Mapped[str | None] = mapped_column(String(64), nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    deliveries: Mapped[int] = mapped_column(Integer, default=1)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class MergeRequest(Base):
    """The latest known state of a merge request or pull request."""

    __tablename__ = "merge_requests"
    __table_args__ = (UniqueConstraint("forge", "project", "number", name="uq_merge_requests"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    forge: Mapped[str] = mapped_column(String(16))
    project: Mapped[str] = mapped_column(String(300))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str | None] = mapped_column(String(200), nullable=True)
    url: Mapped[str | None] = mapped_column(Text, nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="open")
    labels: Mapped[list[Any]] = mapped_column(JSON, default=list)
    head_sha: Mapped[str | None] = mapped_column(String(64), nullable=True)
    verdict: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    merged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Review(Base):
    """One review of one head: what the digest reads."""

    __tablename__ = "reviews"
    __table_args__ = (
        Index("ix_reviews_mr", "forge", "project", "number"),
        Index("ix_reviews_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    forge: Mapped[str] = mapped_column(String(16))
    project: Mapped[str] = mapped_column(String(300))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str | None] = mapped_column(String(200), nullable=True)
    url: Mapped[str | None] = mapped_column(Text, nullable=True)
    labels: Mapped[list[Any]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(16), default="open")
    base_sha: Mapped[str | None] = mapped_column(String(64), nullable=True)
    head_sha: Mapped[str | None] = mapped_column(String(64), nullable=True)
    verdict: Mapped[str] = mapped_column(String(16))
    previous_verdict: Mapped[str | None] = mapped_column(String(16), nullable=True)
    findings: Mapped[list[Any]] = mapped_column(JSON, default=list)
    compat_entries: Mapped[list[Any]] = mapped_column(JSON, default=list)
    overrides: Mapped[list[Any]] = mapped_column(JSON, default=list)
    tiers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Lease(Base):
    """A named lock with an expiry: who may run a singleton task (the digest) now."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StoredDigest(Base):
    """A built digest (its JSON), one row per period key, and where it was posted."""

    __tablename__ = "digests"
    __table_args__ = (
        UniqueConstraint("key", name="uq_digests_key"),
        Index("ix_digests_until", "until"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64))
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    issue_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    page_path: Mapped[str | None] = mapped_column(Text, nullable=True)


class ListMessage(Base):
    """A patch, cover letter or reply to one, kept until its series is answered."""

    __tablename__ = "list_messages"
    __table_args__ = (
        UniqueConstraint("message_id", name="uq_list_messages_id"),
        Index("ix_list_messages_date", "date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(500))
    date: Mapped[datetime] = mapped_column(UTCDateTime)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    settled: Mapped[bool] = mapped_column(Boolean, default=False)
    """Its thread's versions were all reviewed when it was last assembled."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ListReview(Base):
    """One review of one series version on a mailing list, keyed by its first message."""

    __tablename__ = "list_reviews"
    __table_args__ = (
        UniqueConstraint("message_id", name="uq_list_reviews_id"),
        Index("ix_list_reviews_series", "series_key"),
        Index("ix_list_reviews_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(500))
    """The cover letter's Message-Id, else patch 1's."""
    list_name: Mapped[str] = mapped_column(String(300), default="")
    series_key: Mapped[str] = mapped_column(String(500))
    """The same for every version of a series (change-id, else author and subject)."""
    version: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str | None] = mapped_column(String(300), nullable=True)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    base_sha: Mapped[str | None] = mapped_column(String(64), nullable=True)
    verdict: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    """``held`` (reply waits for the rate limit), ``sending``, ``sent``, ``written``
    (dry run), ``quiet`` (clean, or too old to answer)."""
    findings: Mapped[list[Any]] = mapped_column(JSON, default=list)
    overrides: Mapped[list[Any]] = mapped_column(JSON, default=list)
    tiers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    acks: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """Acked-by replies from maintainers: by, message_id, paths, fingerprints."""
    reply_id: Mapped[str | None] = mapped_column(String(500), nullable=True)
    reply: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ListCursor(Base):
    """Where reading an archive stopped: the last commit of each epoch."""

    __tablename__ = "list_cursors"

    name: Mapped[str] = mapped_column(String(600), primary_key=True)
    position: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
