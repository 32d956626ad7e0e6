"""Exactly one summary and one thread per finding, whatever the forge answers.

The fake GitLab applies a POST and then answers 502, or answers only after the
client has timed out: the bot cannot tell whether its note landed, and must
look (find its marker) before posting again.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.service.app import create_app
from tests.fakes import qemu
from tests.fakes.fake_github import FakeGitHub
from tests.fakes.fake_gitlab import FakeGitLab, MergeRequest
from tests.fakes.fixtures import wait_for_jobs
from tests.fakes.service import Service, make_settings

HOOK = "/webhooks/gitlab"
CONTENT_POSTS = r"/merge_requests/\d+/(notes|discussions)(/\w+/notes)?$"


async def _service(
    fake: FakeGitLab, db_url: str, aiohttp_client: Callable[..., Any], **overrides: Any
) -> Service:
    settings = make_settings(
        db_url,
        gitlab_url=fake.base_url,
        gitlab_token=fake.bot.token,
        gitlab_webhook_token=fake.webhook_token,
        **overrides,
    )
    app = create_app(settings)
    client: TestClient[Any, Any] = await aiohttp_client(app)
    return Service(app, client, settings)


def _bot_notes_per_thread(fake: FakeGitLab, mr: MergeRequest) -> list[list[str]]:
    return [[n.body for n in d.notes if n.author.username == "migbot"] for d in fake.threads(mr)]


@pytest.mark.parametrize("fault", ["502-after-applying", "timeout-after-applying"])
async def test_applied_post_with_an_unclear_answer_is_not_posted_again(
    fake_gitlab: FakeGitLab, sqlite_url: str, aiohttp_client: Callable[..., Any], fault: str
) -> None:
    fake = fake_gitlab
    if fault == "502-after-applying":
        fake.fail_after_applying(CONTENT_POSTS, status=502)
        service = await _service(fake, sqlite_url, aiohttp_client)
    else:
        fake.fail_after_applying(CONTENT_POSTS, status=0, delay=0.8)
        service = await _service(fake, sqlite_url, aiohttp_client, forge_timeout_s=0.3)
    project = fake.create_project("qemu/qemu", qemu.BASE_TREE)
    mr, delivery = fake.open_mr(
        project, title="foo", author=fake.user("alice"), changes={qemu.FOO_C: qemu.TWO_FINDINGS}
    )
    assert (await service.deliver(HOOK, delivery))[0] == 202
    counts = await wait_for_jobs(service.engine)
    assert counts["done"] == 1, counts
    assert len(fake.summary_notes(mr)) == 1
    assert len(fake.threads(mr)) == 2


async def test_redeliveries_and_force_pushes_under_timeouts_give_one_of_each(
    fake_gitlab: FakeGitLab, db_url: str, aiohttp_client: Callable[..., Any]
) -> None:
    """100 redeliveries and 20 force-pushes of one merge request, every third
    POST timing out after it was applied: one summary, one thread per finding,
    and no bot reply said twice in a row."""
    fake = fake_gitlab
    fake.fail_after_applying(CONTENT_POSTS, status=0, delay=0.5, every=3)
    service = await _service(fake, db_url, aiohttp_client, forge_timeout_s=0.2)
    project = fake.create_project("qemu/qemu", qemu.BASE_TREE)
    mr, opened = fake.open_mr(
        project, title="foo", author=fake.user("alice"), changes={qemu.FOO_C: qemu.TWO_FINDINGS}
    )
    deliveries = [opened]
    assert (await service.deliver(HOOK, opened))[0] == 202
    resent = 0
    for k in range(1, 21):
        # Force-pushes alternate between one finding and two: threads resolve
        # and reopen, each with a reply, while the forge times out.
        text = qemu.ONE_FINDING if k % 2 else qemu.TWO_FINDINGS
        deliveries.append(fake.push(mr, {qemu.FOO_C: text}, force=True))
        assert (await service.deliver(HOOK, deliveries[-1]))[0] == 202
        for _ in range(5):
            replay = deliveries[(resent * 7) % (k + 1)]
            # GitLab's "resend": the same body under a fresh delivery id.
            fresh = dict(
                replay.headers,
                **{"Idempotency-Key": f"r{resent}", "X-Gitlab-Event-UUID": f"r{resent}"},
            )
            status, _ = await service.deliver(
                HOOK, type(replay)(fresh, replay.body, replay.payload)
            )
            assert status == 202
            resent += 1
        if k % 4 == 0:  # some pushes are reviewed on their own, timeouts and all
            await wait_for_jobs(service.engine, timeout=120)
    assert resent == 100
    for delivery in deliveries:
        assert (await service.deliver(HOOK, delivery))[0] == 202
    counts = await wait_for_jobs(service.engine, timeout=120)
    assert counts["done"] >= 5, counts  # several reviews ran, each under the faults
    assert len(fake.summary_notes(mr)) == 1
    assert len(fake.threads(mr)) == 2
    for said in _bot_notes_per_thread(fake, mr):
        assert all(a != b for a, b in itertools.pairwise(said)), said


GH_CONTENT_POSTS = r"/pulls/\d+/(reviews|comments)$|/issues/\d+/comments$|/comments/\d+/replies$"


@pytest.mark.parametrize("fault", ["502-after-applying", "timeout-after-applying"])
async def test_github_applied_post_with_an_unclear_answer_is_not_posted_again(
    fake_github: FakeGitHub, sqlite_url: str, aiohttp_client: Callable[..., Any], fault: str
) -> None:
    """PyGithub's retry re-sends a POST after a 5xx or a read timeout: not ours."""
    fake = fake_github
    timeout = 10.0
    if fault == "502-after-applying":
        fake.fail_after_applying(GH_CONTENT_POSTS, status=502)
    else:
        fake.fail_after_applying(GH_CONTENT_POSTS, status=0, delay=1.5)
        timeout = 1.0  # PyGithub takes whole seconds
    settings = make_settings(
        sqlite_url,
        github_api_url=fake.base_url,
        github_token=fake.bot_token,
        github_webhook_secret=fake.webhook_secret,
        forge_timeout_s=timeout,
    )
    client: TestClient[Any, Any] = await aiohttp_client(create_app(settings))
    service = Service(client.server.app, client, settings)
    repo = fake.create_repo("qemu/qemu", qemu.BASE_TREE)
    pr, delivery = fake.open_pr(
        repo, title="foo", author=fake.user("alice"), changes={qemu.FOO_C: qemu.TWO_FINDINGS}
    )
    assert (await service.deliver("/webhooks/github", delivery))[0] == 202
    counts = await wait_for_jobs(service.engine)
    assert counts["done"] == 1, counts
    assert len(fake.summaries(pr)) == 1
    assert len(fake.roots(pr)) == 2
    assert len(pr.reviews) == 1
