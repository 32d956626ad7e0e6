"""Stored reviews -> digest content, on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine

from bot.cli import main
from bot.digest.model import Outcome
from bot.digest.period import Period
from bot.digest.render import render_markdown
from bot.digest.stored import digest_from_store
from tests.digest.stored import MONDAY, URL, seed


def test_stored_reviews_make_the_week_digest(engine: Engine) -> None:
    seed(engine)
    period = Period.parse("7d", None, MONDAY)
    digest = digest_from_store(engine, period, weeks=4, now=MONDAY)
    assert digest.key == "2026-W06"
    assert digest.reviewed == 8  # every MR active in W06 but #8 (W04)
    outcomes = {x.ref: (x.outcome, x.tier) for x in digest.lines()}
    assert outcomes == {
        "qemu/qemu!1": (Outcome.OPEN_ERRORS, "bidirectional"),
        "qemu/qemu!7": (Outcome.OPEN_ERRORS, "best-effort"),  # merged after the slot
        "qemu/qemu!5": (Outcome.MERGED_ERRORS, "best-effort"),
        "qemu/qemu!3": (Outcome.MERGED_OVERRIDE, "bidirectional"),
        "qemu/qemu!2": (Outcome.FIXED, "bidirectional"),
        "qemu/qemu!4": (Outcome.MERGED_CLEAN, "forward"),
        "qemu/qemu!9": (Outcome.CLOSED, "bidirectional"),
    }
    # Outcome order, then tier order inside each outcome.
    assert [g.outcome for g in digest.groups] == [
        Outcome.OPEN_ERRORS,
        Outcome.MERGED_ERRORS,
        Outcome.MERGED_OVERRIDE,
        Outcome.FIXED,
        Outcome.MERGED_CLEAN,
        Outcome.CLOSED,
    ]
    assert [t.tier for t in digest.groups[0].tiers] == ["bidirectional", "best-effort"]
    lines = {x.ref: x for x in digest.lines()}
    one = lines["qemu/qemu!1"]
    assert (one.url, one.author, one.labels) == (URL.format(n=1), "alice", ("net",))
    assert one.what == ("e1000: field-added-unversioned (mit_timer)",)
    assert lines["qemu/qemu!3"].acknowledged == ("migration::ack by paolo: MIG011 on cpu",)
    two = lines["qemu/qemu!2"]
    assert two.fixed == ("MIG011 subsection-always-sent (virtio-net)",)
    assert two.compat == ('hw_compat_10_2 + { "virtio-net-device", "x-rss", "off" }',)
    [array] = digest.compat
    assert array.array == "hw_compat_10_2"
    assert [(e.entry, e.ref, e.state) for e in array.added] == [
        ('{ "virtio-net-device", "x-rss", "off" }', "qemu/qemu!2", "merged")
    ]
    weeks = [(w.label, w.total, w.count("bidirectional")) for w in digest.weeks]
    # W06: 1, 2, 3, 4, 5, 7 (9 was closed); W04: 8.
    assert weeks == [("2026-W03", 0, 0), ("2026-W04", 1, 0), ("2026-W05", 0, 0), ("2026-W06", 6, 3)]
    # In the period, then per week of the chart (#8 touched hw/intc in W04 too).
    assert [(c.name, c.changes, c.weekly) for c in digest.subsystems] == [
        ("hw/arm", 2, (0, 0, 0, 2)),
        ("hw/intc", 1, (0, 1, 0, 1)),
        ("hw/core", 1, (0, 0, 0, 1)),
        ("hw/net", 1, (0, 0, 0, 1)),
        ("hw/virtio", 1, (0, 0, 0, 1)),
        ("target/i386", 1, (0, 0, 0, 1)),
    ]
    assert [(r.name, r.findings, r.changes) for r in digest.rules][:2] == [
        ("MIG001", 4, 4),
        ("MIG011", 2, 2),
    ]
    issue = render_markdown(digest)
    assert issue.startswith("<!-- migbot:digest:2026-W06 -->")
    assert "migration::ack by paolo: MIG011 on cpu" in issue
    assert f"[`qemu/qemu!1`]({URL.format(n=1)}) e1000: migrate mit\\_timer — alice `net`" in issue


def test_an_earlier_week_sees_the_state_of_then(engine: Engine) -> None:
    seed(engine)
    # W04 alone: #8 merged clean; nothing of W06 leaks in.
    digest = digest_from_store(
        engine,
        Period(MONDAY - timedelta(days=21), MONDAY - timedelta(days=14)),
        weeks=1,
        now=MONDAY,
    )
    assert [(x.ref, x.outcome) for x in digest.lines()] == [("qemu/qemu!8", Outcome.MERGED_CLEAN)]
    quiet = digest_from_store(
        engine,
        Period(MONDAY - timedelta(days=42), MONDAY - timedelta(days=35)),
        weeks=1,
        now=MONDAY,
    )
    assert quiet.empty
    assert quiet.reviewed == 0


def test_cli_digest_from_the_store(engine: Engine, db_url: str, tmp_path: Path) -> None:
    seed(engine)
    env = {"MIGBOT_DATABASE_URL": db_url}
    args = ["digest", "--since", "7d", "--until", MONDAY.isoformat(), "--weeks", "2"]
    result = CliRunner().invoke(main, [*args, "--format", "json"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["key"] == "2026-W06"
    assert data["affecting"] == 7
    assert [w["total"] for w in data["weeks"]] == [0, 6]
    out = tmp_path / "digest.html"
    page = CliRunner().invoke(main, [*args, "--format", "html", "-o", str(out)], env=env)
    assert page.exit_code == 0, page.output
    assert 'class="bar" data-week="2026-W06" data-tier="bidirectional" data-count="3"' in (
        out.read_text()
    )
