"""``migbot``: the command line. Each door turns its input into a `Change`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import BinaryIO

import click

from bot import __version__
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
@click.option("--repo", type=click.Path(path_type=Path), help="QEMU git repository (bare is fine).")
@click.option(
    "--patch",
    "patch",
    type=click.Path(path_type=Path),
    help="A patch file or git format-patch mbox series.",
)
@click.option("--diff", "diff", type=click.File("rb"), help="A unified diff; '-' for stdin.")
@click.option("--base", help="Base revision for --patch (default: base-commit trailer, else HEAD).")
@click.option(
    "--format",
    "fmt",
    default="text",
    type=click.Choice(["text", "json", "markdown", "sarif", "codequality"]),
    show_default=True,
)
@click.option(
    "--fail-on",
    type=click.Choice(list(_FAIL_ON)),
    default="error",
    show_default=True,
    help="Exit 1 when a finding reaches this severity.",
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
def check(
    revs: str | None,
    repo: Path | None,
    patch: Path | None,
    diff: BinaryIO | None,
    base: str | None,
    fmt: str,
    fail_on: str,
    tier: str | None,
    labels: tuple[str, ...],
    color: bool | None,
) -> None:
    """Check a commit or range (A..B, or SHA for SHA^..SHA), a patch/mbox, or a diff.

    \b
    Exit codes: 0 nothing reaches --fail-on, 1 something does, 2 bad input.
    """
    from bot.report import render
    from bot.sources.commits import change_from_range
    from bot.sources.errors import SourceError
    from bot.sources.patch import change_from_patch

    given = [x for x in (revs, patch, diff) if x is not None]
    if len(given) != 1:
        raise UsageFailure("give exactly one of: a revision range, --patch FILE, --diff FILE")
    try:
        if revs is not None:
            if repo is None:
                raise UsageFailure("a revision range needs --repo PATH")
            change = change_from_range(repo, revs)
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
    except SourceError as exc:
        raise UsageFailure(str(exc)) from None
    options = ReviewOptions(
        tier=Tier(tier) if tier else None,
        labels=tuple(AppliedLabel(name) for name in labels),
    )
    report = review(change, options)
    use_color = sys.stdout.isatty() if color is None else color
    click.echo(render(report, fmt, color=use_color and fmt == "text"), nl=False)
    sys.exit(exit_code(report, _FAIL_ON[fail_on]))


def exit_code(report: Report, threshold: Severity | None) -> int:
    if threshold is None:
        return 0
    return 1 if report.reaches(threshold) else 0


def _register_commands() -> None:
    """The other doors' commands; their modules import their heavy parts lazily."""
    from bot.cli_audit import audit, compare, dump
    from bot.cli_digest import digest
    from bot.cli_mail import mail
    from bot.cli_service import jobs, serve, worker
    from bot.cli_tiers import tiers

    for cmd in (tiers, serve, worker, jobs, audit, dump, compare, digest, mail):
        main.add_command(cmd)


_register_commands()
