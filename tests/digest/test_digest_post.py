"""Posting: one issue per week on the fake forges (updated when run again), the
HTML directory, and the lock that keeps several schedulers from posting twice."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine

from bot.cli import main
from bot.digest.period import Period
from bot.digest.publish import Target, post
from bot.digest.render import render_markdown
from bot.digest.schedule import DigestScheduler, run_slot
from bot.digest.stored import digest_from_store
from bot.forges import build_forges
from bot.forges.github.client import GitHubForge
from bot.settings import Settings
from bot.store import leases
from bot.store.digests import get_digest
from tests.digest.stored import ARM_FIELD, MONDAY, Review, review, seed
from tests.fakes.fake_github import FakeGitHub
from tests.fakes.fake_gitlab import FakeGitLab
from tests.fakes.service import make_settings

TITLE = "Migration digest 2026-W06"
ISSUES = r"/projects/[^/]+/issues$"


def _gitlab_env(fake: FakeGitLab, db_url: str, site: Path) -> dict[str, str]:
    return {
        "MIGBOT_DATABASE_URL": db_url,
        "MIGBOT_GITLAB_URL": fake.base_url,
        "MIGBOT_GITLAB_TOKEN": fake.bot.token,
        "MIGBOT_FORGE_RETRIES": "2",
        "MIGBOT_DIGEST_PROJECT": "qemu/qemu",
        "MIGBOT_DIGEST_LABELS": "migration,digest",
        "MIGBOT_DIGEST_HTML_DIR": str(site),
    }


async def test_cli_post_twice_updates_the_weeks_gitlab_issue(
    fake_gitlab: FakeGitLab, engine: Engine, db_url: str, tmp_path: Path
) -> None:
    project = fake_gitlab.create_project("qemu/qemu", {"README": "QEMU\n"})
    seed(engine)
    site = tmp_path / "site"
    env = _gitlab_env(fake_gitlab, db_url, site)
    args = ["digest", "--since", "7d", "--until", MONDAY.isoformat(), "--post"]
    first = await asyncio.to_thread(CliRunner().invoke, main, args, env=env)
    assert first.exit_code == 0, first.output
    assert "digest issue https://gitlab.example/qemu/qemu/-/issues/1" in first.stderr
    # A late review of the week, then the same command again (a CronJob retried, say).
    review(engine, Review(10, MONDAY - timedelta(hours=2), "fail", (ARM_FIELD,), "late one"))
    second = await asyncio.to_thread(CliRunner().invoke, main, args, env=env)
    assert second.exit_code == 0, second.output
    [issue] = project.issues
    assert issue["title"] == TITLE
    assert issue["labels"] == ["migration", "digest"]
    assert issue["description"].startswith("<!-- migbot:digest:2026-W06 -->")
    assert "late one" in issue["description"]
    assert issue["description"] == second.stdout
    assert fake_gitlab.count("POST", ISSUES) == 1
    assert fake_gitlab.count("PUT", ISSUES[:-1] + r"/1$") == 1
    page = (site / "digest-2026-W06.html").read_text()
    assert "late one" in page
    assert (site / "index.html").read_text() == page
    assert json.loads((site / "digest.json").read_text())["key"] == "2026-W06"
    row = get_digest(engine, "2026-W06")
    assert row is not None
    assert row.posted_at is not None
    assert row.issue_url == issue["web_url"]


async def test_github_issue_is_updated_not_duplicated(
    fake_github: FakeGitHub, engine: Engine
) -> None:
    repo = fake_github.create_repo("qemu/qemu", {"README": "QEMU\n"})
    forge = GitHubForge(fake_github.base_url, token=fake_github.bot_token, retries=2, backoff=0.01)
    target = Target(forge, "qemu/qemu", ("migration",))
    seed(engine)
    period = Period.parse("7d", None, MONDAY)
    before = digest_from_store(engine, period, weeks=2, now=MONDAY)
    await asyncio.to_thread(post, engine, before, target, owner="cron")
    review(engine, Review(10, MONDAY - timedelta(hours=2), "fail", (ARM_FIELD,), "late one"))
    after = digest_from_store(engine, period, weeks=2, now=MONDAY)
    published = await asyncio.to_thread(post, engine, after, target, owner="cron")
    [issue] = repo.issues
    assert (issue["title"], issue["body"]) == (TITLE, render_markdown(after))
    assert [label["name"] for label in issue["labels"]] == ["migration"]
    assert published.issue_url == issue["html_url"]


def _settings(fake: FakeGitLab, db_url: str) -> Settings:
    return make_settings(
        db_url,
        gitlab_url=fake.base_url,
        gitlab_token=fake.bot.token,
        forge_retries=1,
        digest_project="qemu/qemu",
        digest_forge="gitlab",
        digest_schedule="mon 08:00",
        digest_weeks=2,
    )


async def test_lease_lets_one_scheduler_post_the_slot(
    fake_gitlab: FakeGitLab, engine: Engine, db_url: str
) -> None:
    project = fake_gitlab.create_project("qemu/qemu", {"README": "QEMU\n"})
    seed(engine)
    settings = _settings(fake_gitlab, db_url)
    forges = build_forges(settings)
    hold = fake_gitlab.hold(ISSUES, method="POST")
    first = asyncio.ensure_future(
        asyncio.to_thread(run_slot, engine, settings, forges, MONDAY, owner="replica-a")
    )
    await asyncio.wait_for(hold.seen.wait(), 30)  # replica A is posting, lease held
    assert leases.holder(engine, "digest") == "replica-a"
    other = await asyncio.to_thread(run_slot, engine, settings, forges, MONDAY, owner="replica-b")
    assert other == "busy"
    hold.release.set()
    assert await first == "posted"
    again = await asyncio.to_thread(run_slot, engine, settings, forges, MONDAY, owner="replica-b")
    assert again == "done"
    assert len(project.issues) == 1
    assert fake_gitlab.count("POST", ISSUES) == 1
    assert leases.holder(engine, "digest") is None


async def test_two_in_process_schedulers_post_once(
    fake_gitlab: FakeGitLab, engine: Engine, db_url: str
) -> None:
    project = fake_gitlab.create_project("qemu/qemu", {"README": "QEMU\n"})
    seed(engine)
    settings = _settings(fake_gitlab, db_url)
    forges = build_forges(settings)

    def clock() -> datetime:
        return MONDAY + timedelta(minutes=3)  # both replicas wake just after the slot

    replicas = [
        DigestScheduler(
            settings,
            engine,
            forges,
            clock=clock,
            owner=f"replica-{i}",
            retry=timedelta(milliseconds=50),
        )
        for i in range(2)
    ]
    tasks = [asyncio.create_task(r.run()) for r in replicas]

    def settled() -> bool:
        return all(any(res in ("posted", "done") for _, res in r.results) for r in replicas)

    for _ in range(400):
        if settled():
            break
        await asyncio.sleep(0.05)
    for r in replicas:
        r.stop()
    await asyncio.gather(*tasks)
    outcomes = sorted(res for r in replicas for _, res in r.results if res != "busy")
    assert outcomes == ["done", "posted"]
    assert all(due == MONDAY for r in replicas for due, _ in r.results)
    assert len(project.issues) == 1
    assert fake_gitlab.count("POST", ISSUES) == 1
    assert project.issues[0]["title"] == TITLE


async def test_a_slot_long_past_is_not_caught_up(
    fake_gitlab: FakeGitLab, engine: Engine, db_url: str
) -> None:
    fake_gitlab.create_project("qemu/qemu", {"README": "QEMU\n"})
    settings = _settings(fake_gitlab, db_url)
    scheduler = DigestScheduler(
        settings,
        engine,
        build_forges(settings),
        clock=lambda: MONDAY + timedelta(days=2),
    )
    task = asyncio.create_task(scheduler.run())
    await asyncio.sleep(0.2)
    scheduler.stop()
    await task
    assert scheduler.results == []
    assert fake_gitlab.count("POST", ISSUES) == 0
