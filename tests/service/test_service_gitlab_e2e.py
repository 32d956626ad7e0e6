"""End to end on GitLab: signed delivery -> job -> what a person sees on the MR."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.service.app import create_app
from bot.service.keys import WAKE
from bot.store.reviews import list_reviews, merge_requests
from tests.fakes import qemu
from tests.fakes.fake_gitlab import FakeGitLab, MergeRequest
from tests.fakes.fixtures import wait_for_jobs
from tests.fakes.service import Service, make_settings

HOOK = "/webhooks/gitlab"


@pytest.fixture
async def service(
    fake_gitlab: FakeGitLab, sqlite_url: str, aiohttp_client: Callable[..., Any]
) -> Service:
    settings = make_settings(
        sqlite_url,
        gitlab_url=fake_gitlab.base_url,
        gitlab_token=fake_gitlab.bot.token,
        gitlab_webhook_token=fake_gitlab.webhook_token,
        commit_status=True,
        affected_label="migration::affected",
    )
    app = create_app(settings)
    client: TestClient[Any, Any] = await aiohttp_client(app)
    return Service(app, client, settings)


def _positions(fake: FakeGitLab, mr: MergeRequest) -> list[tuple[Any, Any]]:
    out = []
    for d in fake.threads(mr):
        pos = d.notes[0].position or {}
        out.append((pos.get("new_line"), pos.get("old_line")))
    return sorted(out, key=repr)


async def test_review_comments_and_repush(fake_gitlab: FakeGitLab, service: Service) -> None:
    fake = fake_gitlab
    project = fake.create_project("qemu/qemu", qemu.BASE_TREE)
    alice = fake.user("alice")
    mr, delivery = fake.open_mr(
        project, title="foo: extra register", author=alice, changes={qemu.FOO_C: qemu.TWO_FINDINGS}
    )
    status, data = await service.deliver(HOOK, delivery)
    assert status == 202, data
    assert data["status"] == "queued"
    counts = await wait_for_jobs(service.engine)
    assert counts["done"] == 1, counts

    # One summary, two inline threads on the exact lines: the added line
    # (new_line only) and the removed one (old_line only).
    summaries = fake.summary_notes(mr)
    assert len(summaries) == 1
    assert "failed" in summaries[0].body
    assert _positions(fake, mr) == sorted(
        [(qemu.ADDED_LINE, None), (None, qemu.REMOVED_LINE)], key=repr
    )
    assert all(d.notes[0].author.username == "migbot" for d in fake.threads(mr))
    assert project.statuses[-1]["state"] == "failed"
    assert "migration::affected" in mr.labels

    # Re-push that fixes the removed field: its thread is resolved, naming the
    # commit; the other is untouched; the summary is updated in place.
    delivery = fake.push(mr, {qemu.FOO_C: qemu.ONE_FINDING})
    status, _ = await service.deliver(HOOK, delivery)
    assert status == 202
    await wait_for_jobs(service.engine)
    threads = fake.threads(mr)
    assert len(threads) == 2
    removed = next(d for d in threads if (d.notes[0].position or {}).get("old_line"))
    added = next(d for d in threads if (d.notes[0].position or {}).get("new_line"))
    assert removed.notes[0].resolved
    assert mr.head_sha[:12] in removed.notes[-1].body
    assert not added.notes[0].resolved
    assert len(added.notes) == 1
    assert len(fake.summary_notes(mr)) == 1
    assert mr.head_sha[:12] in fake.summary_notes(mr)[0].body

    # A force-push with the same finding, and a replayed delivery: nothing new.
    before = [(d.id, len(d.notes)) for d in fake.threads(mr)]
    delivery = fake.push(mr, {qemu.FOO_C: qemu.ONE_FINDING, "README.rst": "QEMU!\n"}, force=True)
    status, _ = await service.deliver(HOOK, delivery)
    status2, data2 = await service.deliver(HOOK, delivery)
    assert (status, status2) == (202, 202)
    assert data2["status"] == "duplicate"
    await wait_for_jobs(service.engine)
    assert [(d.id, len(d.notes)) for d in fake.threads(mr)] == before
    assert len(fake.summary_notes(mr)) == 1

    # Every review is stored, in the digest's shape.
    reviews = list_reviews(service.engine, forge="gitlab", project="qemu/qemu", number=mr.iid)
    assert [len(r.findings) for r in reviews] == [2, 1, 1]
    assert {f["rule_id"] for f in reviews[0].findings} >= {reviews[1].findings[0]["rule_id"]}
    assert reviews[-1].head_sha == mr.head_sha
    assert reviews[-1].verdict == "fail"
    assert set(reviews[0].findings[0]) >= {
        "rule_id",
        "slug",
        "severity",
        "tier",
        "path",
        "vmsd",
        "subject",
        "message",
        "fingerprint",
    }

    # Merge is recorded for the digest.
    status, data = await service.deliver(HOOK, fake.merge(mr, by=alice))
    assert (status, data["status"]) == (202, "recorded")
    states = {m.number: m.state for m in merge_requests(service.engine)}
    assert states[mr.iid] == "merged"
    assert list_reviews(service.engine)[-1].state == "merged"


@pytest.mark.parametrize(("level", "honoured"), [(40, True), (30, False)])
async def test_override_label_needs_maintainer(
    fake_gitlab: FakeGitLab, service: Service, level: int, honoured: bool
) -> None:
    fake = fake_gitlab
    project = fake.create_project("qemu/qemu", qemu.BASE_TREE)
    alice, bob = fake.user("alice"), fake.user("bob")
    fake.set_access(project, bob, level)
    mr, delivery = fake.open_mr(
        project, title="foo", author=alice, changes={qemu.FOO_C: qemu.TWO_FINDINGS}
    )
    await service.deliver(HOOK, delivery)
    await wait_for_jobs(service.engine)
    status, data = await service.deliver(HOOK, fake.add_label(mr, "migration::ack", by=bob))
    assert (status, data["kind"]) == (202, "labels")
    await wait_for_jobs(service.engine)

    review = list_reviews(service.engine, number=mr.iid)[-1]
    assert review.overrides == (
        {
            "label": "migration::ack",
            "by": "bob",
            "honoured": honoured,
            "effect": review.overrides[0]["effect"],
            "reason": review.overrides[0]["reason"],
        },
    )
    severities = {f["severity"] for f in review.findings}
    assert severities == ({"notice"} if honoured else {"error"})
    summary = fake.summary_notes(mr)[0].body
    assert "migration::ack" in summary
    assert "bob" in summary
    if honoured:
        assert "Verdict changed" in summary
    # Threads were updated in place, never duplicated.
    assert len(fake.threads(mr)) == 2


async def test_bot_events_are_ignored(fake_gitlab: FakeGitLab, service: Service) -> None:
    fake = fake_gitlab
    project = fake.create_project("qemu/qemu", qemu.BASE_TREE)
    mr, _ = fake.open_mr(project, title="foo", author=fake.user("alice"), changes={})
    status, data = await service.deliver(HOOK, fake.add_label(mr, "x", by=fake.bot))
    assert (status, data["status"]) == (202, "ignored")
    assert data["reason"] == "the bot's own event"


async def test_forge_faults_are_retried(fake_gitlab: FakeGitLab, service: Service) -> None:
    """5xx and 429 + Retry-After from GitLab: the client retries, the job succeeds."""
    fake = fake_gitlab
    project = fake.create_project("qemu/qemu", qemu.BASE_TREE)
    mr, delivery = fake.open_mr(
        project, title="foo", author=fake.user("alice"), changes={qemu.FOO_C: qemu.ONE_FINDING}
    )
    fake.fail(r"/merge_requests/\d+/diffs$", status=502, times=2)
    fake.fail(r"/discussions$", status=429, times=1, method="GET", headers={"Retry-After": "1"})
    mr.diff_refs_pending = 1
    await service.deliver(HOOK, delivery)
    counts = await wait_for_jobs(service.engine)
    assert counts["done"] == 1
    assert all(f.hits == f.times for f in fake.faults)
    assert len(fake.threads(mr)) == 1
    assert len(fake.summary_notes(mr)) == 1


async def test_failing_job_is_parked_and_retried_by_command(
    fake_gitlab: FakeGitLab, service: Service
) -> None:
    from bot.store import jobs

    fake = fake_gitlab
    project = fake.create_project("qemu/qemu", qemu.BASE_TREE)
    mr, delivery = fake.open_mr(
        project, title="foo", author=fake.user("alice"), changes={qemu.FOO_C: qemu.ONE_FINDING}
    )
    fake.fail(r"/merge_requests/\d+$", status=404, times=100, method="GET")
    await service.deliver(HOOK, delivery)
    await wait_for_jobs(service.engine, settled=lambda c: c["parked"] == 1)
    [parked] = jobs.list_jobs(service.engine, states=("parked",))
    assert parked.attempts == service.settings.max_attempts
    assert "404" in (parked.last_error or "")
    fake.faults.clear()
    jobs.retry(service.engine, parked.id)
    service.app[WAKE].set()
    counts = await wait_for_jobs(service.engine)
    assert counts["done"] == 1
    assert len(fake.summary_notes(mr)) == 1
