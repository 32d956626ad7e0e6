"""``migbot check`` fits a contributor's habits: no setup, rules chosen and silenced."""

from __future__ import annotations

import json

from tests.cli.conftest import ADD_FCR, ADD_MCR2, BUMP, UART, edit, run
from tests.fixtures.minirepo import MiniRepo


def test_no_arguments_checks_the_branch_against_master(repo: MiniRepo, env: dict[str, str]) -> None:
    repo.git("checkout", "-q", "-b", "topic")
    edit(repo, UART, ADD_FCR, message="hw/char: acme_uart: add fcr")
    repo.commit("docs: nothing to see")
    got = run(env, "check", "--no-color", cwd=repo.path / "hw")
    assert got.code == 1, got.err
    lines = got.out.splitlines()
    assert lines[0] == "0001/0002 hw/char: acme_uart: add fcr: 1 error"
    assert lines[1] == "0002/0002 docs: nothing to see: ok"
    assert "MIG001" in got.out and "fcr" in got.out


def test_upstream_is_preferred(repo: MiniRepo, env: dict[str, str]) -> None:
    repo.git("checkout", "-q", "-b", "topic")
    first = edit(repo, UART, ADD_FCR, message="hw/char: add fcr")
    repo.git("branch", "-q", "reviewed", first)
    repo.git("branch", "-q", "--set-upstream-to=reviewed")
    repo.commit("hw/char: empty follow-up")
    got = run(env, "check", cwd=repo.path)
    assert got.code == 0, got.out + got.err
    assert got.out.splitlines()[0] == "0001/0001 hw/char: empty follow-up: ok"


def test_outside_a_repository_says_so(tmp_path: object, env: dict[str, str]) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path)) / "empty"
    folder.mkdir()
    got = run(env, "check", cwd=folder)
    assert got.code == 2
    assert got.err.strip() == (
        "migbot: not inside a git repository: give --repo PATH, --patch FILE or --diff FILE"
    )


def test_select_and_ignore_by_id_slug_and_category(repo: MiniRepo, env: dict[str, str]) -> None:
    sha = edit(repo, UART, ADD_FCR, BUMP)
    base = ["check", "--repo", str(repo.path), "--format", "json", sha]
    every = json.loads(run(env, *base).out)
    assert {f["rule_id"] for f in every["findings"]} >= {"MIG008"}
    for selector in ("MIG008", "vmsd-version-bumped", "versions", "MIG00"):
        got = run(env, *base, "--ignore", selector)
        rules = {f["rule_id"] for f in json.loads(got.out)["findings"]}
        assert "MIG008" not in rules, selector
    only = json.loads(run(env, *base, "--select", "versions").out)
    assert {f["rule_id"] for f in only["findings"]} == {"MIG008"}
    bad = run(env, *base, "--select", "nonsense")
    assert bad.code == 2
    assert bad.err.startswith("migbot: no rule or category 'nonsense' (categories: audit, compat")


def test_project_file_sets_rules_and_fail_level(repo: MiniRepo, env: dict[str, str]) -> None:
    sha = edit(repo, UART, ADD_FCR)
    (repo.path / ".migbot.toml").write_text('ignore = ["field-added-unversioned"]\n')
    got = run(env, "check", "--repo", str(repo.path), sha, "--format", "json")
    assert got.code == 0, got.err
    assert [f["rule_id"] for f in json.loads(got.out)["findings"]] == []
    (repo.path / ".migbot.toml").write_text('fail-on = "sometimes"\n')
    bad = run(env, "check", "--repo", str(repo.path), sha)
    assert bad.code == 2
    assert "'fail-on' is 'sometimes'" in bad.err


def test_a_comment_on_the_field_line_silences_it_with_its_reason(
    repo: MiniRepo, env: dict[str, str]
) -> None:
    comment = "/* migbot: ignore[MIG001] fcr is reset on load, never read before */"
    pair = (
        ADD_FCR[0],
        ADD_FCR[1]
        .replace("AcmeUARTState),\n", f"AcmeUARTState), {comment}\n", 2)
        .replace("(lcr, AcmeUARTState), " + comment, "(lcr, AcmeUARTState),"),
    )
    sha = edit(repo, UART, pair)
    got = run(env, "check", "--repo", str(repo.path), sha, "--no-color")
    assert got.code == 0, got.out + got.err
    assert "fcr is reset on load, never read before" in got.out
    data = json.loads(run(env, "check", "--repo", str(repo.path), sha, "--format", "json").out)
    (finding,) = [f for f in data["findings"] if f["rule_id"] == "MIG001"]
    assert finding["severity"] == "info" and finding["base_severity"] == "error"
    assert finding["override"]["reason"] == "fcr is reset on load, never read before"
    sarif = json.loads(run(env, "check", "--repo", str(repo.path), sha, "--format", "sarif").out)
    (result,) = sarif["runs"][0]["results"]
    assert result["suppressions"][0]["justification"] == "fcr is reset on load, never read before"


def test_a_comment_on_the_vmsd_line_covers_the_vmsd_and_unused_ones_are_named(
    repo: MiniRepo, env: dict[str, str]
) -> None:
    decl = "static const VMStateDescription vmstate_acme_uart = {\n"
    sha = edit(
        repo,
        UART,
        BUMP,
        (decl, decl.rstrip("\n") + " /* migbot: ignore[vmsd-version-bumped] dev only */\n"),
        (
            "        VMSTATE_UINT8(lsr, AcmeUARTState),\n",
            "        VMSTATE_UINT8(lsr, AcmeUARTState), /* migbot: ignore[MIG022] old */\n",
        ),
    )
    got = run(env, "check", "--repo", str(repo.path), sha, "--tier", "bidirectional")
    assert "dev only" in got.out
    assert (
        f"{UART}:24: unused suppression 'migbot: ignore[MIG022]': it matches no finding" in got.out
    )


def test_baseline_keeps_moved_findings_and_reports_stale_ones(
    repo: MiniRepo, env: dict[str, str], tmp_path: object
) -> None:
    from pathlib import Path

    baseline = Path(str(tmp_path)) / "baseline.json"
    first = edit(repo, UART, ADD_FCR)
    wrote = run(env, "check", "--repo", str(repo.path), first, "--write-baseline", str(baseline))
    assert wrote.code == 0, wrote.err
    assert "wrote 1 finding(s) to the baseline" in wrote.err
    # The same finding, lines moved down by a comment block, plus a new one.
    text = repo.read(UART).replace(
        "static const VMStateDescription", "/*\n * moved\n */\nstatic const VMStateDescription", 1
    )
    (repo.path / UART).write_text(text)
    repo.commit("move")
    base = repo.rev("HEAD~2")
    again = run(
        env,
        "check",
        "--repo",
        str(repo.path),
        f"{base}..HEAD",
        "--format",
        "json",
        "--baseline",
        str(baseline),
    )
    assert again.code == 0, again.out
    data = json.loads(again.out)
    assert data["findings"] == []
    assert any("1 known finding(s) accepted by the baseline" in n for n in data["notes"])
    sha = edit(repo, UART, ADD_MCR2)
    new = run(
        env, "check", "--repo", str(repo.path), sha, "--baseline", str(baseline), "--format", "json"
    )
    assert new.code == 1
    data = json.loads(new.out)
    assert [f["subject"] if "subject" in f else f["field"] for f in data["findings"]] == ["mcr2"]
    assert any("1 stale baseline entry" in n for n in data["notes"])


def test_several_outputs_in_one_run(repo: MiniRepo, env: dict[str, str], tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    sha = edit(repo, UART, ADD_FCR)
    summary = folder / "summary.md"
    summary.write_text("")
    got = run(
        {**env, "GITHUB_STEP_SUMMARY": str(summary)},
        "check",
        "--repo",
        str(repo.path),
        sha,
        "--format",
        "github",
        "-o",
        f"sarif={folder / 'out.sarif'}",
        "-o",
        f"rdjson={folder / 'out.rdjson'}",
        "--statistics",
    )
    assert got.code == 1
    annotation = next(line for line in got.out.splitlines() if line.startswith("::error "))
    assert annotation.startswith(
        f"::error file={UART},line=23,title=MIG001 field-added-unversioned::"
    )
    assert "1  MIG001  field-added-unversioned  error" in got.err
    assert "### migbot: 1 error" in summary.read_text()
    sarif = json.loads((folder / "out.sarif").read_text())
    assert sarif["runs"][0]["results"][0]["ruleId"] == "MIG001"
    rd = json.loads((folder / "out.rdjson").read_text())
    diag = rd["diagnostics"][0]
    assert diag["location"] == {"path": UART, "range": {"start": {"line": 23}}}
    assert diag["severity"] == "ERROR" and diag["code"]["value"].startswith("MIG001")
    bad = run(env, "check", "--repo", str(repo.path), sha, "-o", "pdf=x.pdf")
    assert bad.code == 2 and "unknown format 'pdf'" in bad.err


def test_statistics_count_per_rule(repo: MiniRepo, env: dict[str, str]) -> None:
    sha = edit(repo, UART, ADD_FCR, ADD_MCR2)
    got = run(env, "check", "--repo", str(repo.path), sha, "--statistics", "--no-color")
    assert got.out.splitlines()[-2:] == ["2  MIG001  field-added-unversioned  error", "2  total"]


def test_rule_page(env: dict[str, str]) -> None:
    got = run(env, "rule", "MIG001")
    assert got.code == 0
    assert got.out.startswith("MIG001 field-added-unversioned: Field added without a version")
    assert "What breaks:" in got.out and "backward breaks" in got.out
    assert "See: https://www.qemu.org/docs/master/devel/migration/main.html" in got.out
    assert run(env, "rule", "subsection-name-prefix").out.startswith("MIG013 ")
    bad = run(env, "rule", "MIG999")
    assert bad.code == 2 and bad.err == "migbot: no rule 'MIG999'; 'migbot rule --all' lists them\n"


def test_a_missing_release_tag_is_explained(repo: MiniRepo, env: dict[str, str]) -> None:
    got = run(env, "check", "--repo", str(repo.path), "v10.2.0..HEAD")
    assert got.code == 2
    assert "this repository has no tag v10.2.0" in got.err
    assert "git fetch --tags" in got.err


def test_ack_turning_every_error_into_a_notice_exits_0(repo: MiniRepo, env: dict[str, str]) -> None:
    sha = edit(repo, UART, ADD_FCR)
    got = run(
        env,
        "check",
        "--repo",
        str(repo.path),
        sha,
        "--label",
        "migration::ack",
        "--fail-on",
        "error",
    )
    assert got.code == 0, got.out
    assert "notice" in got.out


def test_on_master_there_is_nothing_to_check_even_in_a_bare_mirror(
    repo: MiniRepo, env: dict[str, str], tmp_path: object
) -> None:
    from pathlib import Path

    mirror = Path(str(tmp_path)) / "mirror.git"
    repo.git("clone", "-q", "--bare", str(repo.path), str(mirror))
    got = run(env, "check", cwd=mirror)
    assert got.code == 0, got.err
    assert got.err.startswith("migbot: nothing to check: no commits in ")
    assert got.out == ""


def test_every_output_shows_the_suppression_reason(repo: MiniRepo, env: dict[str, str]) -> None:
    comment = "/* migbot: ignore[field-added-unversioned] read back after load */"
    added = ADD_FCR[1].replace("(fcr, AcmeUARTState),", f"(fcr, AcmeUARTState), {comment}")
    sha = edit(repo, UART, (ADD_FCR[0], added))
    for fmt in ("text", "json", "markdown", "sarif", "codequality", "github", "rdjson"):
        got = run(env, "check", "--repo", str(repo.path), sha, "--format", fmt)
        assert got.code == 0, (fmt, got.err)
        assert "read back after load" in got.out, fmt
