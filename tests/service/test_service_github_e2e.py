"""End to end on GitHub: deliveries shaped from @octokit/webhooks-examples and
checked against @octokit/webhooks-schemas, through the real PyGithub."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.service.app import create_app
from bot.store.reviews import list_reviews, merge_requests
from tests.fakes import qemu
from tests.fakes.fake_github import FakeGitHub, PullRequest
from tests.fakes.fixtures import wait_for_jobs
from tests.fakes.service import Service, make_settings

HOOK = "/webhooks/github"


@pytest.fixture
async def service(
    fake_github: FakeGitHub, sqlite_url: str, aiohttp_client: Callable[..., Any]
) -> Service:
    settings = make_settings(
        sqlite_url,
        github_api_url=fake_github.base_url,
        github_token=fake_github.bot_token,
        github_webhook_secret=fake_github.webhook_secret,
        commit_status=True,
    )
    app = create_app(settings)
    client: TestClient[Any, Any] = await aiohttp_client(app)
    return Service(app, client, settings)


def _placements(fake: FakeGitHub, pr: PullRequest) -> list[tuple[int, str]]:
    return sorted((c["line"], c["side"]) for c in fake.roots(pr))


async def test_review_comments_and_repush(fake_github: FakeGitHub, service: Service) -> None:
    fake = fake_github
    repo = fake.create_repo("qemu/qemu", qemu.BASE_TREE)
    alice = fake.user("alice")
    pr, delivery = fake.open_pr(
        repo, title="foo: extra", author=alice, changes={qemu.FOO_C: qemu.TWO_FINDINGS}
    )
    status, data = await service.deliver(HOOK, delivery)
    assert (status, data["status"]) == (202, "queued")
    await wait_for_jobs(service.engine)

    assert len(fake.summaries(pr)) == 1
    assert _placements(fake, pr) == [(qemu.ADDED_LINE, "RIGHT"), (qemu.REMOVED_LINE, "LEFT")]
    assert len(pr.reviews) == 1  # both inline comments in one review
    assert repo.statuses[-1]["state"] == "failure"

    # The re-push fixes the removal: that thread is answered as outdated, naming the commit.
    status, data = await service.deliver(HOOK, fake.push(pr, {qemu.FOO_C: qemu.ONE_FINDING}))
    assert data["kind"] == "review"
    await wait_for_jobs(service.engine)
    left = next(c for c in fake.roots(pr) if c["side"] == "LEFT")
    right = next(c for c in fake.roots(pr) if c["side"] == "RIGHT")
    [answer] = fake.replies(pr, left["id"])
    assert pr.head_sha[:12] in answer["body"]
    assert answer["user"]["login"] == fake.bot.login
    assert fake.replies(pr, right["id"]) == []
    assert len(fake.summaries(pr)) == 1
    assert pr.head_sha[:12] in fake.summaries(pr)[0]["body"]

    # A force-push with the same finding duplicates nothing.
    count = len(pr.review_comments)
    await service.deliver(HOOK, fake.push(pr, {"README.rst": "again\n"}, force=True))
    await wait_for_jobs(service.engine)
    assert len(pr.review_comments) == count
    assert len(pr.reviews) == 1

    # A human answers the remaining thread, then the finding is fixed: hands off.
    fake.reply(pr, right["id"], "We know, see the cover letter.", by=alice)
    await service.deliver(HOOK, fake.push(pr, {qemu.FOO_C: qemu.BASE_FOO}))
    await wait_for_jobs(service.engine)
    assert [r["user"]["login"] for r in fake.replies(pr, right["id"])] == ["alice"]
    assert "passed" in fake.summaries(pr)[0]["body"]
    assert "Verdict changed" in fake.summaries(pr)[0]["body"]

    status, data = await service.deliver(HOOK, fake.close(pr, by=alice, merge=True))
    assert data["status"] == "recorded"
    assert [m.state for m in merge_requests(service.engine)] == ["merged"]
    assert len(list_reviews(service.engine)) == 4


@pytest.mark.parametrize(("role", "honoured"), [("maintain", True), ("write", False)])
async def test_override_label_needs_maintainer(
    fake_github: FakeGitHub, service: Service, role: str, honoured: bool
) -> None:
    fake = fake_github
    repo = fake.create_repo("qemu/qemu", qemu.BASE_TREE)
    bob = fake.user("bob")
    fake.set_role(repo, bob, role)
    pr, delivery = fake.open_pr(
        repo, title="foo", author=fake.user("alice"), changes={qemu.FOO_C: qemu.ONE_FINDING}
    )
    await service.deliver(HOOK, delivery)
    await wait_for_jobs(service.engine)
    status, data = await service.deliver(HOOK, fake.add_label(pr, "migration::ack", by=bob))
    assert (status, data["kind"]) == (202, "labels")
    await wait_for_jobs(service.engine)
    review = list_reviews(service.engine)[-1]
    assert [(o["label"], o["by"], o["honoured"]) for o in review.overrides] == [
        ("migration::ack", "bob", honoured)
    ]
    assert {f["severity"] for f in review.findings} == ({"notice"} if honoured else {"error"})
    assert "bob" in fake.summaries(pr)[0]["body"]
    assert len(fake.roots(pr)) == 1


async def test_github_app_auth_and_check_run(
    fake_github: FakeGitHub,
    sqlite_url: str,
    tmp_path: Path,
    aiohttp_client: Callable[..., Any],
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key_file = tmp_path / "app.pem"
    key_file.write_bytes(pem)
    fake = fake_github
    bot = fake.register_app(4242, key.public_key(), installation_id=77)
    settings = make_settings(
        sqlite_url,
        github_api_url=fake.base_url,
        github_app_id=4242,
        github_app_key_file=str(key_file),
        github_webhook_secret=fake.webhook_secret,
        commit_status=True,
    )
    app = create_app(settings)
    client: TestClient[Any, Any] = await aiohttp_client(app)
    service = Service(app, client, settings)
    repo = fake.create_repo("qemu/qemu", qemu.BASE_TREE)
    pr, delivery = fake.open_pr(
        repo, title="foo", author=fake.user("alice"), changes={qemu.FOO_C: qemu.ONE_FINDING}
    )
    assert delivery.payload["installation"]["id"] == 77
    await service.deliver(HOOK, delivery)
    await wait_for_jobs(service.engine)
    assert fake.summaries(pr)[0]["user"]["login"] == bot.login
    assert repo.check_runs[-1]["conclusion"] == "failure"
    assert repo.check_runs[-1]["head_sha"] == pr.head_sha
    # The App's own label event is ignored at intake.
    status, data = await service.deliver(HOOK, fake.add_label(pr, "x", by=bot))
    assert (status, data["status"]) == (202, "ignored")
