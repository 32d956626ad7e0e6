"""``migbot check``: a git range, a patch or mbox series, or a diff, reviewed."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import click

from bot.cli.options import (
    TIERS,
    UsageFailure,
    color_option,
    exit_for,
    fail_on_option,
    use_color,
)
from bot.findings import Tier
from bot.judge.catalogue import load_catalogue
from bot.judge.policy import load_policy
from bot.pipeline import AppliedLabel, ReviewOptions, review
from bot.scanner.cache import open_scan_cache
from bot.settings import cache_dir


@click.command("check")
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
@fail_on_option
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
@color_option
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
        cache_dir=cache_dir("tiers"),
        scans=open_scan_cache(cache_dir("scans")),
    )
    report = review(change, options, catalogue=load_catalogue(), policy=load_policy())
    click.echo(render(report, fmt, color=use_color(color, fmt)), nl=False)
    exit_for(report, fail_on)
