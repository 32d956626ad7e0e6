"""The job queue on SQLite and on PostgreSQL: durable, deduplicated, coalesced,
claimed once, leased, retried, parked."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import Engine, inspect

from bot.cli.service import jobs as jobs_command
from bot.forges.events import EventKind, ForgeEvent, MergeRequestRef
from bot.store import jobs
from bot.store.db import current_revision, migrate
from bot.store.models import Base, utcnow


def event(number: int = 1, delivery: str = "d1", head: str = "a" * 40) -> ForgeEvent:
    return ForgeEvent(
        "gitlab",
        delivery,
        "Merge Request Hook",
        "open",
        EventKind.REVIEW,
        ref=MergeRequestRef("gitlab", "qemu/qemu", number, project_id=42),
        head_sha=head,
        reason="opened",
    )


def test_migrations_create_the_model_schema(engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    assert current_revision(engine) is not None
    migrate(engine)  # idempotent
    names = set(inspect(engine).get_table_names())
    assert {"deliveries", "jobs", "merge_requests", "reviews", "alembic_version"} <= names
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_accept_dedupes_and_coalesces(engine: Engine) -> None:
    first = jobs.accept(engine, event())
    assert first.outcome == "queued"
    assert jobs.accept(engine, event()).outcome == "duplicate"
    newer = jobs.accept(engine, event(delivery="d2", head="b" * 40))
    assert (newer.outcome, newer.job_id) == ("coalesced", first.job_id)
    other = jobs.accept(engine, event(number=2, delivery="d3"))
    assert other.outcome == "queued"
    assert other.job_id != first.job_id
    record = jobs.get_job(engine, first.job_id or 0)
    assert record is not None
    assert (record.head_sha, record.deliveries) == ("b" * 40, 2)
    assert jobs.count_deliveries(engine) == {"queued": 2, "coalesced": 1}


def test_ignored_and_recorded_events(engine: Engine) -> None:
    ignored = replace(event(), kind=EventKind.IGNORED, reason="push hook")
    assert jobs.accept(engine, ignored).outcome == "ignored"
    merged = replace(event(delivery="m"), kind=EventKind.MERGED, action="merge")
    assert jobs.accept(engine, merged).outcome == "recorded"
    assert sum(jobs.count_by_state(engine).values()) == 0


def test_concurrent_workers_claim_each_job_once(engine: Engine) -> None:
    for n in range(40):
        jobs.accept(engine, event(number=n, delivery=f"d{n}"))
    claimed: list[int] = []
    lock = threading.Lock()

    def work(name: str) -> None:
        while True:
            job = jobs.claim(engine, name, lease_seconds=30)
            if job is None:
                return
            with lock:
                claimed.append(job.id)
            assert jobs.complete(engine, job.id, name)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(set(claimed))
    assert len(claimed) == 40
    assert jobs.count_by_state(engine)["done"] == 40


def test_one_job_per_merge_request_at_a_time(engine: Engine) -> None:
    jobs.accept(engine, event())
    running = jobs.claim(engine, "w1", lease_seconds=30)
    assert running is not None
    jobs.accept(engine, event(delivery="d2", head="b" * 40))
    assert jobs.claim(engine, "w2", lease_seconds=30) is None
    assert jobs.complete(engine, running.id, "w1")
    nxt = jobs.claim(engine, "w2", lease_seconds=30)
    assert nxt is not None
    assert nxt.head_sha == "b" * 40


def test_expired_lease_is_claimed_again_then_parked(engine: Engine) -> None:
    jobs.accept(engine, replace(event()), max_attempts=2)
    now = utcnow()
    first = jobs.claim(engine, "dead", lease_seconds=5, now=now)
    assert first is not None
    assert jobs.claim(engine, "w2", lease_seconds=5, now=now + timedelta(seconds=1)) is None
    again = jobs.claim(engine, "w2", lease_seconds=5, now=now + timedelta(seconds=6))
    assert again is not None
    assert (again.id, again.attempts, again.lease_owner) == (first.id, 2, "w2")
    assert not jobs.complete(engine, first.id, "dead")  # the lost worker no longer owns it
    later = now + timedelta(seconds=20)
    assert jobs.claim(engine, "w3", lease_seconds=5, now=later) is None
    record = jobs.get_job(engine, first.id)
    assert record is not None
    assert record.state == "parked"
    assert "lease expired" in (record.last_error or "")


def test_heartbeat_keeps_the_lease(engine: Engine) -> None:
    jobs.accept(engine, event())
    now = utcnow()
    job = jobs.claim(engine, "w1", lease_seconds=5, now=now)
    assert job is not None
    assert jobs.heartbeat(engine, job.id, "w1", lease_seconds=5, now=now + timedelta(seconds=4))
    assert jobs.claim(engine, "w2", lease_seconds=5, now=now + timedelta(seconds=7)) is None


def test_failures_back_off_then_park_and_retry(engine: Engine) -> None:
    jobs.accept(engine, event(), max_attempts=2)
    now = utcnow()
    job = jobs.claim(engine, "w", lease_seconds=5, now=now)
    assert job is not None
    assert jobs.fail(engine, job.id, "w", "boom 1", backoff_seconds=10, now=now) == "queued"
    assert jobs.claim(engine, "w", lease_seconds=5, now=now + timedelta(seconds=5)) is None
    job = jobs.claim(engine, "w", lease_seconds=5, now=now + timedelta(seconds=11))
    assert job is not None
    assert jobs.fail(engine, job.id, "w", "boom 2", now=now) == "parked"
    [parked] = jobs.list_jobs(engine, states=("parked",))
    assert parked.last_error == "boom 2"
    again = jobs.retry(engine, parked.id)
    assert (again.state, again.attempts) == ("queued", 0)


def test_release_gives_the_attempt_back(engine: Engine) -> None:
    jobs.accept(engine, event())
    job = jobs.claim(engine, "w", lease_seconds=5)
    assert job is not None
    assert jobs.release(engine, job.id, "w")
    record = jobs.get_job(engine, job.id)
    assert record is not None
    assert (record.state, record.attempts) == ("queued", 0)


def test_failed_job_superseded_by_newer_delivery(engine: Engine) -> None:
    jobs.accept(engine, event())
    job = jobs.claim(engine, "w", lease_seconds=5)
    assert job is not None
    jobs.accept(engine, event(delivery="d2", head="b" * 40))
    assert jobs.fail(engine, job.id, "w", "boom") == "superseded"
    assert jobs.count_by_state(engine)["queued"] == 1


def test_jobs_command_lists_and_retries(engine: Engine, db_url: str) -> None:
    jobs.accept(engine, event(), max_attempts=1)
    job = jobs.claim(engine, "w", lease_seconds=5)
    assert job is not None
    jobs.fail(engine, job.id, "w", "RuntimeError: forge said no")
    runner = CliRunner()
    result = runner.invoke(jobs_command, ["--database-url", db_url, "--format", "json"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.output)
    assert (row["id"], row["state"], row["last_error"]) == (
        job.id,
        "parked",
        "RuntimeError: forge said no",
    )
    result = runner.invoke(jobs_command, ["--database-url", db_url])
    assert "parked" in result.output
    assert "forge said no" in result.output
    result = runner.invoke(jobs_command, ["--database-url", db_url, "retry", str(job.id)])
    assert result.exit_code == 0, result.output
    assert jobs.count_by_state(engine)["queued"] == 1
    result = runner.invoke(jobs_command, ["--database-url", db_url, "retry", "999"])
    assert result.exit_code != 0
    assert "no job 999" in result.output
