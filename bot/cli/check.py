"""``migbot check``: a git range, a patch or mbox series, a diff, or the current branch."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any, BinaryIO

import click

from bot.change import Change
from bot.cli.finish import (
    OUTPUT_FORMATS,
    FinishError,
    emit,
    exit_status,
    project_config,
    refine,
    selection_options,
)
from bot.cli.options import TIERS, UsageFailure
from bot.findings import Report, Tier
from bot.judge.catalogue import load_catalogue
from bot.judge.policy import load_policy
from bot.pipeline import AppliedLabel, ReviewOptions, review
from bot.scanner.cache import open_scan_cache
from bot.settings import cache_dir


@click.command("check")
@click.argument("revs", required=False)
@click.option(
    "--repo",
    type=click.Path(path_type=Path),
    help="QEMU git repository (bare is fine; default: the one around the current directory).",
)
@click.option(
    "--patch",
    "patch",
    type=click.Path(path_type=Path),
    help="A patch file or git format-patch mbox series.",
)
@click.option("--diff", "diff", type=click.File("rb"), help="A unified diff; '-' for stdin.")
@click.option("--base", help="Base revision for --patch (default: base-commit trailer, else HEAD).")
@click.option("--staged", is_flag=True, help="The staged change (git diff --cached) on HEAD.")
@click.option(
    "--format",
    "fmt",
    default="text",
    type=click.Choice(list(OUTPUT_FORMATS)),
    show_default=True,
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "never"]),
    help="Exit 1 when a finding reaches this severity.  [default: error]",
)
@click.option(
    "--tier",
    type=click.Choice(TIERS),
    help="Judge every file at this tier instead of computing it.",
)
@click.option(
    "--label",
    "labels",
    multiple=True,
    help="Try an override label (e.g. migration::ack); repeatable.",
)
@click.option("--color/--no-color", default=None, help="Colour (default: when on a terminal).")
@selection_options
def check(
    revs: str | None,
    repo: Path | None,
    patch: Path | None,
    diff: BinaryIO | None,
    base: str | None,
    staged: bool,
    fmt: str,
    fail_on: str | None,
    tier: str | None,
    labels: tuple[str, ...],
    color: bool | None,
    **chosen: Any,
) -> None:
    """Check a commit or range (A..B, or SHA for SHA^..SHA), a patch/mbox, or a diff.

    \b
    With none of them, the current branch of the repository around the current
    directory: @{upstream}..HEAD, else from the merge base with origin/master.
    Exit codes: 0 nothing reaches --fail-on, 1 something does, 2 bad input.
    """
    from bot.cli.commitlines import commit_lines
    from bot.report import render
    from bot.sources.commits import change_from_range
    from bot.sources.defaults import commits_of, default_range, repo_around, staged_diff
    from bot.sources.errors import SourceError
    from bot.sources.gitrepo import open_repo
    from bot.sources.patch import change_from_patch

    given = [x for x in (revs, patch, diff, staged or None) if x is not None]
    if len(given) > 1:
        raise UsageFailure(
            "give exactly one of: a revision range, --patch FILE, --diff FILE, --staged"
        )
    if not given and repo is None:
        repo = repo_around(Path.cwd())
    try:
        config = project_config(
            chosen["config_path"],
            repo,
            select=chosen["select"],
            ignore=chosen["ignore"],
            fail_on=fail_on,
            labels=labels,
            doc_base=chosen["doc_base"],
            baseline=chosen["baseline"],
        )
    except FinishError as exc:
        raise UsageFailure(str(exc)) from None
    catalogue = load_catalogue()
    policy = load_policy()
    options = ReviewOptions(
        tier=Tier(tier) if tier else None,
        labels=tuple(AppliedLabel(name) for name in config.labels),
        cache_dir=cache_dir("tiers"),
        scans=open_scan_cache(cache_dir("scans")),
    )

    def judged(change: Change) -> Report:
        return refine(
            review(change, options, catalogue=catalogue, policy=policy), config, catalogue
        )

    lines: list[str] = []
    try:
        if staged:
            if repo is None:
                repo = repo_around(Path.cwd())
            if repo is None:
                raise UsageFailure(
                    "--staged needs a git repository: run it inside one or give --repo"
                )
            staged_bytes = staged_diff(open_repo(repo))
            if not staged_bytes.strip():
                click.echo("migbot: nothing staged", err=True)
                sys.exit(0)
            diff = io.BytesIO(staged_bytes)
            base = "HEAD"
        if not given:
            if repo is None:
                raise UsageFailure(
                    "not inside a git repository: give --repo PATH, --patch FILE or --diff FILE"
                )
            revs = default_range(open_repo(repo))
            if not commits_of(open_repo(repo), revs):
                click.echo(f"migbot: nothing to check: no commits in {revs}", err=True)
                sys.exit(0)
        if revs is not None:
            if repo is None:
                repo = repo_around(Path.cwd())
            if repo is None:
                raise UsageFailure("a revision range needs --repo PATH")
            git = open_repo(repo)
            if ".." in revs and fmt == "text":
                lines = commit_lines(git, revs, judged)
            change = change_from_range(git, revs)
        else:
            if patch is not None:
                try:
                    data = patch.read_bytes()
                except OSError as exc:
                    raise UsageFailure(f"cannot read {patch}: {exc.strerror}") from None
            else:
                assert diff is not None
                data = diff.read()
            change = change_from_patch(data, repo, base, strict=repo is not None)
        report = judged(change)
    except (SourceError, FinishError) as exc:
        raise UsageFailure(str(exc)) from None
    colour = sys.stdout.isatty() if color is None else color
    doc_base = config.doc_base

    def draw(report: Report, fmt: str, colour: bool) -> str:
        return render(report, fmt, color=colour and fmt == "text", rule_docs=doc_base)

    if lines:
        click.echo("\n".join(lines) + "\n")
    try:
        emit(
            report,
            fmt=fmt,
            outputs=chosen["outputs"],
            show_statistics=chosen["statistics"],
            color=colour,
            render=draw,
            write_baseline_to=chosen["write_baseline"],
        )
    except FinishError as exc:
        raise UsageFailure(str(exc)) from None
    written = chosen["write_baseline"] is not None
    sys.exit(exit_status(report, config.fail_on or "error", baseline_written=written))
