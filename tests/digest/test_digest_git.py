"""The git door: a mirror alone gives the digest, with changes dated by when they landed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.digest.build import build
from bot.digest.gitsource import LinkTemplates, changes_from_git, landings
from bot.digest.model import Outcome
from bot.digest.period import Period
from bot.sources.gitrepo import GitRepo
from tests.digest.history import (
    FIFO_SUBJECT,
    SERIES_OPEN_V2,
    Shas,
    build_history,
)

NOW = datetime(2026, 3, 1, tzinfo=UTC)
LINKS = LinkTemplates(
    "https://git.example.org/qemu/commit/{sha}", "https://lists.example.org/{name}/"
)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Shas]:
    path = tmp_path_factory.mktemp("digest-git") / "qemu"
    return path, build_history(path)


def test_first_parent_walk_dates_a_change_by_its_merge(history: tuple[Path, Shas]) -> None:
    path, s = history
    p04 = Period.parse("2026-01-19", "2026-01-26", NOW)
    p06 = Period.parse("2026-02-02", "2026-02-09", NOW)
    with GitRepo(path) as repo:
        w04 = landings(repo, "master", p04.since, p04.until)
        w06 = landings(repo, "master", p06.since, p06.until)
    # Written in W04, the NIC patch is not a W04 change: it landed (merged) in W06.
    assert w04 == []
    assert [(c.sha, c.merge) for c in w06] == [(s.nic_merge, True), (s.soc, False)]
    assert w06[0].parent == s.base


def test_week_digest_from_git_alone(history: tuple[Path, Shas]) -> None:
    path, s = history
    period = Period.parse("2026-02-02", "2026-02-16", NOW)
    with GitRepo(path) as repo:
        changes = changes_from_git(
            repo,
            "master",
            period.since,
            period.until,
            series_patterns=["refs/heads/2026*"],
            series_exclude=["*_ci"],
            links=LINKS,
        )
    digest = build(changes, period, generated_at=NOW, source="git", weeks=2)
    lines = {x.ref: x for x in digest.lines()}
    # 4 landings (two merges, two direct commits) and one open series; the v1 series
    # became an earlier review of the merge that brought v2.
    assert digest.reviewed == 5
    assert {ref: x.outcome for ref, x in lines.items()} == {
        SERIES_OPEN_V2: Outcome.OPEN_ERRORS,
        s.nic_merge[:12]: Outcome.MERGED_ERRORS,
        s.uart_merge[:12]: Outcome.FIXED,
        s.soc[:12]: Outcome.MERGED_CLEAN,
    }
    nic = lines[s.nic_merge[:12]]
    assert (nic.title, nic.via, nic.author) == (
        "pull-net-20260203",
        "https://git.example.org/jason/qemu",
        "Jason Net",
    )
    assert nic.what == ("acme-nic: field-added-unversioned (irq_mask)",)
    assert nic.url == f"https://git.example.org/qemu/commit/{s.nic_merge}"
    assert [p.sha for p in nic.patches] == [s.nic_patch]
    uart = lines[s.uart_merge[:12]]
    assert uart.fixed == ("MIG001 field-added-unversioned (acme-uart)",)
    assert uart.compat == ('hw_compat_10_2 + { "acme-uart", "x-migrate-fifo", "off" }',)
    assert [p.subject for p in uart.patches] == [FIFO_SUBJECT]
    soc = lines[s.soc[:12]]
    assert (soc.tier, soc.author, soc.errors) == ("best-effort", "Peter Arm", 0)
    # Two versions of one series (same author and first subject): one line, the newest.
    series = lines[SERIES_OPEN_V2]
    assert series.url == f"https://lists.example.org/{SERIES_OPEN_V2}/"
    assert (series.author, series.what) == ("Carol Net", ("acme-nic: field-removed (status)",))
    assert series.title == "hw/net/acme_nic: drop the status register (+1)"
    assert [p.url for p in series.patches] == [None, None]  # not upstream commits
    assert [(w.label, dict(w.counts)) for w in digest.weeks] == [
        ("2026-W06", {"bidirectional": 1, "forward": 0, "best-effort": 1, "unknown": 0}),
        ("2026-W07", {"bidirectional": 2, "forward": 0, "best-effort": 0, "unknown": 0}),
    ]
    [array] = digest.compat
    assert (array.array, [e.entry for e in array.added]) == (
        "hw_compat_10_2",
        ['{ "acme-uart", "x-migrate-fifo", "off" }'],
    )
    assert [(c.name, c.changes) for c in digest.subsystems] == [
        ("hw/net", 2),
        ("hw/arm", 1),
        ("hw/char", 1),
        ("hw/core", 1),
    ]
    assert digest.rules[0].name == "MIG001"
    assert (digest.rules[0].findings, digest.rules[0].changes) == (2, 2)


def test_cli_digest_from_a_repository(history: tuple[Path, Shas], tmp_path: Path) -> None:
    path, _ = history
    env = {
        "MIGBOT_DIGEST_COMMIT_URL": "https://git.example.org/qemu/commit/{sha}",
        "MIGBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
    }
    args = ["digest", "--repo", str(path), "--since", "7d", "--until", "2026-02-09"]
    result = CliRunner().invoke(main, [*args, "--format", "json"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["key"] == "2026-W06"
    assert [w["label"] for w in data["weeks"]] == ["2026-W06"]
    assert [(g["outcome"], g["count"]) for g in data["groups"]] == [
        ("merged-errors", 1),
        ("merged-clean", 1),
    ]
    site = tmp_path / "site"
    posted = CliRunner().invoke(main, [*args, "--post", "--html-dir", str(site)], env=env)
    assert posted.exit_code == 0, posted.output
    assert (site / "digest-2026-W06.html").read_text() == (site / "index.html").read_text()
    assert "pull-net-20260203" in (site / "index.html").read_text()
    # A week with nothing migration-related: the short, friendly digest.
    quiet = CliRunner().invoke(
        main,
        ["digest", "--repo", str(path), "--since", "2026-01-19", "--until", "2026-01-26"],
        env=env,
    )
    assert quiet.exit_code == 0, quiet.output
    assert "A quiet week: 0 changes looked at" in quiet.stdout
    assert not (tmp_path / "unused.sqlite3").exists()  # the git door needs no database
    bad = CliRunner().invoke(main, ["digest", "--repo", str(path), "--since", "soon"], env=env)
    assert bad.exit_code == 2
    missing = CliRunner().invoke(
        main, ["digest", "--repo", str(path), "--branch", "nope", "--since", "7d"], env=env
    )
    assert missing.exit_code == 2
    assert "unknown revision" in missing.output


def test_analysed_ranges_are_kept_for_the_next_run(
    history: tuple[Path, Shas], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.digest import analysis

    path, s = history
    ranges = [(s.base, s.nic_merge), (s.nic_merge, s.soc)]
    (tmp_path / "0123456789abcdef").mkdir()  # another migbot version's results
    with GitRepo(path) as repo:
        first = analysis.analyse_all(repo, ranges, cache_dir=tmp_path)
        assert [r.verdict for r in first] == ["fail", "pass"]

        def not_again(*_args: object) -> analysis.Analysed:
            raise AssertionError("analysed twice")

        monkeypatch.setattr(analysis, "analyse", not_again)
        assert analysis.analyse_all(repo, ranges, cache_dir=tmp_path) == first
    assert [p.name for p in tmp_path.iterdir()] == [analysis.code_version()]


def test_analysis_in_worker_processes_agrees(history: tuple[Path, Shas]) -> None:
    from bot.digest.analysis import analyse_all

    path, s = history
    ranges = [(s.base, s.nic_merge), (s.nic_merge, s.soc), (s.soc, s.uart_merge)]
    with GitRepo(path) as repo:
        assert analyse_all(repo, ranges, jobs=2) == analyse_all(repo, ranges, jobs=1)
