"""The review comment, read in one glance: order, what to do, one tier line, rule links."""

from __future__ import annotations

import re

from tests.cli.conftest import ADD_FCR, BUMP, UART, edit, run
from tests.fixtures.minirepo import MiniRepo


def _rows(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("| **")]


def test_errors_first_then_warnings_each_by_line(repo: MiniRepo, env: dict[str, str]) -> None:
    sha = edit(repo, UART, BUMP, ADD_FCR)
    got = run(
        env,
        "check",
        "--repo",
        str(repo.path),
        sha,
        "--format",
        "markdown",
        "--tier",
        "bidirectional",
    )
    rows = _rows(got.out)
    severities = [row.split("|")[1].strip() for row in rows]
    assert severities == sorted(severities, key=lambda s: s != "**ERROR**")
    assert severities[0] == "**ERROR**" and severities[-1] == "**WARNING**"
    assert "MIG001" in rows[0] and "MIG008" in rows[-1], "line 23's error before line 16's warning"


def test_how_to_proceed_names_the_label_who_and_what(repo: MiniRepo, env: dict[str, str]) -> None:
    sha = edit(repo, UART, ADD_FCR)
    got = run(env, "check", "--repo", str(repo.path), sha, "--format", "markdown")
    (line,) = [ln for ln in got.out.splitlines() if ln.startswith("**A finding is wrong?**")]
    assert "`migration::ack`" in line, "the label, from rules/policy.toml"
    assert "maintainer" in line, "who may apply it"
    assert "stay visible as notices and the check passes" in line, "what it does"


def test_rule_ids_link_to_their_page_and_docs_still_to_qemu(
    repo: MiniRepo, env: dict[str, str]
) -> None:
    sha = edit(repo, UART, ADD_FCR)
    got = run(
        env,
        "check",
        "--repo",
        str(repo.path),
        sha,
        "--format",
        "markdown",
        "--doc-base",
        "https://docs.example.org/migbot/rules.md",
    )
    assert "[MIG001](https://docs.example.org/migbot/rules.md#mig001-field-added-unversioned)" in (
        got.out
    )
    assert "See [main.html\\#changing-migration-data-structures](https://www.qemu.org/" in got.out
    from bot.judge.catalogue import load_catalogue, render_markdown

    page = render_markdown(load_catalogue())
    assert "## MIG001 field-added-unversioned" in page, "the anchor the link points at"


def test_tier_is_one_line_without_internal_errors(repo: MiniRepo, env: dict[str, str]) -> None:
    repo.git("rm", "-q", "Kconfig")
    repo.commit("a tree whose Kconfig cannot be read")
    sha = edit(repo, UART, ADD_FCR)
    got = run(env, "check", "--repo", str(repo.path), sha, "--format", "markdown")
    tiers = [ln for ln in got.out.splitlines() if ln.startswith("**Tier:**")]
    assert tiers, got.out
    for line in tiers:
        assert "Error" not in line and "<root>" not in line and "\\<root\\>" not in line, line
        assert UART.replace("_", "\\_") not in line, "the path is shown once, above"
    assert "Error:" not in got.out
    assert not re.search(r"`\?`|'\?'|\bNone\b", got.out)
