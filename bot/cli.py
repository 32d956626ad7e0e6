"""``migbot``: the command line. Each door turns its input into a `Change`."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any, BinaryIO

import click

from bot import __version__
from bot.cli_finish import (
    OUTPUT_FORMATS,
    FinishError,
    emit,
    exit_status,
    project_config,
    refine,
    selection_options,
)
from bot.findings import Report, Severity, Tier
from bot.pipeline import AppliedLabel, ReviewOptions, review

_FAIL_ON = {"error": Severity.ERROR, "warning": Severity.WARNING, "never": None}


class UsageFailure(click.ClickException):
    """Bad input or usage: exit code 2 with a one-line reason."""

    exit_code = 2

    def show(self, file: object = None) -> None:
        click.echo(f"migbot: {self.format_message()}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="migbot")
def main() -> None:
    """Review QEMU changes for live-migration compatibility."""


@main.command()
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
    type=click.Choice(list(_FAIL_ON)),
    help="Exit 1 when a finding reaches this severity.  [default: error]",
)
@click.option(
    "--tier",
    type=click.Choice([t.value for t in Tier]),
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
    from bot.catalogue import load_catalogue
    from bot.commitlines import commit_lines
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
    options = ReviewOptions(
        tier=Tier(tier) if tier else None,
        labels=tuple(AppliedLabel(name) for name in config.labels),
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
                lines = commit_lines(git, revs, options, lambda r: refine(r, config, catalogue))
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
            change = change_from_patch(data, repo, base)
        report = refine(review(change, options), config, catalogue)
    except (SourceError, FinishError) as exc:
        raise UsageFailure(str(exc)) from None
    use_color = sys.stdout.isatty() if color is None else color
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
            color=use_color,
            render=draw,
            write_baseline_to=chosen["write_baseline"],
        )
    except FinishError as exc:
        raise UsageFailure(str(exc)) from None
    written = chosen["write_baseline"] is not None
    sys.exit(exit_status(report, config.fail_on or "error", baseline_written=written))


def exit_code(report: Report, threshold: Severity | None) -> int:
    if threshold is None:
        return 0
    return 1 if report.reaches(threshold) else 0


def _register_commands() -> None:
    """The other doors' commands; their modules import their heavy parts lazily."""
    from bot.cli_audit import audit, compare, dump
    from bot.cli_digest import digest
    from bot.cli_doctor import doctor
    from bot.cli_rule import rule
    from bot.cli_service import jobs, serve, worker
    from bot.cli_tiers import tiers

    for cmd in (tiers, serve, worker, jobs, audit, dump, compare, digest, rule, doctor):
        main.add_command(cmd)


_register_commands()
