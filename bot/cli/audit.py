"""``migbot audit``, ``migbot dump`` and ``migbot compare``: whole trees and vmstate dumps.

* ``audit`` reports the latent problems of every VMSD, compat array, property
  and machine definition of one revision, with an inventory;
* ``dump`` writes the VMSDs of a revision in the JSON shape of QEMU's
  ``-dump-vmstate``, from source alone;
* ``compare`` compares two such dumps (from QEMU or from ``dump``) with the
  checks of scripts/vmstate-static-checker.py and two more.

Exit codes as ``migbot check``: 0 nothing reaches --fail-on, 1 something does,
2 bad input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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
from bot.scanner.cache import open_scan_cache
from bot.settings import cache_dir as settings_cache_dir

_format = click.option(
    "--format",
    "fmt",
    default="text",
    type=click.Choice(["text", "json", "markdown"]),
    show_default=True,
)
_jobs = click.option(
    "--jobs", "-j", type=click.IntRange(min=1), help="Worker processes (default: one per CPU)."
)
_cache = click.option(
    "--cache-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where tier maps are kept (default: $MIGBOT_CACHE_DIR/tiers or ~/.cache/migbot/tiers).",
    callback=lambda _ctx, _param, value: value or settings_cache_dir("tiers"),
)


@click.command("audit")
@click.option("--repo", required=True, type=click.Path(path_type=Path), help="QEMU git repository.")
@click.option("--rev", default="HEAD", show_default=True, help="Revision to audit.")
@_format
@click.option("--tier", type=click.Choice(TIERS), help="Judge every file at this tier.")
@fail_on_option
@_jobs
@_cache
@color_option
def audit(
    repo: Path,
    rev: str,
    fmt: str,
    tier: str | None,
    fail_on: str,
    jobs: int | None,
    cache_dir: Path | None,
    color: bool | None,
) -> None:
    """Report the latent migration problems of a whole tree, with an inventory."""
    from bot.audit.output import render_audit
    from bot.audit.run import audit as run_audit
    from bot.judge.catalogue import load_catalogue
    from bot.sources.errors import SourceError

    catalogue = load_catalogue()
    try:
        result = run_audit(
            repo,
            rev,
            tier=Tier(tier) if tier else None,
            jobs=jobs,
            cache_dir=cache_dir,
            scans=open_scan_cache(settings_cache_dir("scans")),
            catalogue=catalogue,
        )
    except SourceError as exc:
        raise UsageFailure(str(exc)) from None
    text = render_audit(
        result.report,
        result.inventory,
        fmt,
        color=use_color(color, fmt),
        catalogue=catalogue,
    )
    click.echo(text, nl=False)
    exit_for(result.report, fail_on)


@click.command("dump")
@click.option("--repo", required=True, type=click.Path(path_type=Path), help="QEMU git repository.")
@click.option("--rev", required=True, help="Revision whose sources are read.")
@click.option(
    "--machine",
    help="Machine type (pc-q35-7.2): keep the device types built into its target, "
    "and name it in vmschkmachine.",
)
@click.option("--target", help="With --machine: the target when several define it (m68k, i386...).")
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the dump here (default: standard output).",
)
@_jobs
@_cache
def dump(
    repo: Path,
    rev: str,
    machine: str | None,
    target: str | None,
    output: Path | None,
    jobs: int | None,
    cache_dir: Path | None,
) -> None:
    """Write the VMSDs of a revision as QEMU's -dump-vmstate would, from source alone.

    What the source cannot tell (sizes given by sizeof) is null; what differs
    from a real dump is printed on standard error (see docs/audit.md).
    """
    from bot.audit.dumptree import MachineNotFoundError, dump_tree
    from bot.sources.errors import SourceError

    if target is not None and machine is None:
        raise UsageFailure("--target needs --machine")
    try:
        result = dump_tree(
            repo,
            rev,
            machine=machine,
            target=target,
            jobs=jobs,
            cache_dir=cache_dir,
            scans=open_scan_cache(settings_cache_dir("scans")),
        )
    except (SourceError, MachineNotFoundError) as exc:
        raise UsageFailure(str(exc)) from None
    text = json.dumps(result.data, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageFailure(f"cannot write {output}: {exc.strerror}") from None
    for note in result.notes:
        click.echo(f"migbot dump: {note}", err=True)


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageFailure(f"cannot read {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageFailure(f"{path} is not JSON: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise UsageFailure(f"{path} is not a vmstate dump (an object of sections)")
    return data


@click.command("compare")
@click.argument("src", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("dst", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--reverse", is_flag=True, help="Check migration from DST to SRC instead.")
@click.option(
    "--tier",
    type=click.Choice(TIERS),
    default=Tier.BIDIRECTIONAL.value,
    show_default=True,
    help="Tier the findings are judged at (dumps carry no source paths).",
)
@click.option(
    "--format",
    "fmt",
    default="text",
    type=click.Choice(["text", "json", "markdown", "upstream"]),
    show_default=True,
    help="'upstream' prints the lines scripts/vmstate-static-checker.py would.",
)
@fail_on_option
@color_option
def compare(
    src: Path,
    dst: Path,
    reverse: bool,
    tier: str,
    fmt: str,
    fail_on: str,
    color: bool | None,
) -> None:
    """Would migration from the QEMU that wrote SRC.json to the one of DST.json load?"""
    from bot.audit.dumpreport import issues_to_report
    from bot.compare.dumps import compare_dumps, upstream_lines
    from bot.judge.catalogue import load_catalogue
    from bot.report import render

    a, b = _load(src), _load(dst)
    if reverse:
        (a, b), (src, dst) = (b, a), (dst, src)
    try:
        issues = compare_dumps(a, b)
    except (AttributeError, KeyError, TypeError) as exc:
        # A hand-edited or truncated dump: the shape, not a finding.
        raise UsageFailure(f"not a vmstate dump ({type(exc).__name__}: {exc})") from None
    catalogue = load_catalogue()
    report = issues_to_report(
        issues, src_name=str(src), dst_name=str(dst), tier=Tier(tier), catalogue=catalogue
    )
    if fmt == "upstream":
        lines = upstream_lines(issues)
        click.echo("".join(f"{line}\n" for line in lines), nl=False)
    else:
        click.echo(render(report, fmt, color=use_color(color, fmt), catalogue=catalogue), nl=False)
    exit_for(report, fail_on)
