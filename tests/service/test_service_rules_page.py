"""Rule ids in review comments link to the service's own /rules page when it is public."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient

from bot.service.app import create_app
from tests.fakes import qemu
from tests.fakes.fake_gitlab import FakeGitLab
from tests.fakes.fixtures import wait_for_jobs
from tests.fakes.service import Service, make_settings

HOOK = "/webhooks/gitlab"
PUBLIC = "https://migbot.example.org"


async def test_comment_links_each_rule_to_its_section_of_the_rules_page(
    fake_gitlab: FakeGitLab, sqlite_url: str, aiohttp_client: Callable[..., Any]
) -> None:
    settings = make_settings(
        sqlite_url,
        gitlab_url=fake_gitlab.base_url,
        gitlab_token=fake_gitlab.bot.token,
        gitlab_webhook_token=fake_gitlab.webhook_token,
        public_url=PUBLIC + "/",
    )
    app = create_app(settings)
    client: TestClient[Any, Any] = await aiohttp_client(app)
    service = Service(app, client, settings)
    fake = fake_gitlab
    project = fake.create_project("qemu/qemu", qemu.BASE_TREE)
    mr, delivery = fake.open_mr(
        project, title="foo", author=fake.user("alice"), changes={qemu.FOO_C: qemu.TWO_FINDINGS}
    )
    status, _ = await service.deliver(HOOK, delivery)
    assert status == 202
    await wait_for_jobs(service.engine)

    bodies = [fake.summary_notes(mr)[0].body] + [d.notes[0].body for d in fake.threads(mr)]
    anchors = set()
    for body in bodies:
        links = re.findall(r"\[(MIG\d{3})\]\(([^)]+)\)", body)
        assert links, body
        for rule_id, url in links:
            assert url.startswith(PUBLIC + "/rules#" + rule_id.lower() + "-"), url
            anchors.add(url.split("#", 1)[1])

    # Every anchor a comment links to is a section of the page the service serves.
    async with client.get("/rules") as r:
        assert r.status == 200
        assert r.content_type == "text/html"
        page = await r.text()
    for anchor in anchors:
        assert f'<h2 id="{anchor}">' in page, anchor
    assert "<script" not in page

    # A short link per rule, by id (any case) or slug; unknown ones are 404.
    anchor = sorted(anchors)[0]
    rule_id = anchor.split("-", 1)[0]
    for code in (rule_id, rule_id.upper(), anchor.split("-", 1)[1]):
        async with client.get(f"/rules/{code}", allow_redirects=False) as r:
            assert r.status == 302
            assert r.headers["Location"] == f"/rules#{anchor}"
    async with client.get("/rules/MIG999") as r:
        assert r.status == 404


async def test_without_a_public_address_rules_link_to_the_docs(
    fake_gitlab: FakeGitLab, sqlite_url: str, aiohttp_client: Callable[..., Any]
) -> None:
    settings = make_settings(
        sqlite_url,
        gitlab_url=fake_gitlab.base_url,
        gitlab_token=fake_gitlab.bot.token,
        gitlab_webhook_token=fake_gitlab.webhook_token,
    )
    app = create_app(settings)
    service = Service(app, await aiohttp_client(app), settings)
    fake = fake_gitlab
    project = fake.create_project("qemu/qemu", qemu.BASE_TREE)
    mr, delivery = fake.open_mr(
        project, title="foo", author=fake.user("alice"), changes={qemu.FOO_C: qemu.TWO_FINDINGS}
    )
    await service.deliver(HOOK, delivery)
    await wait_for_jobs(service.engine)
    links = re.findall(r"\[MIG\d{3}\]\(([^)]+)\)", fake.summary_notes(mr)[0].body)
    assert links and all(url.startswith("https://www.qemu.org/docs/") for url in links), links
