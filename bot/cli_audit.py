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
import sys
from pathlib import Path
from typing import Any

import click

from bot.findings import Report, Severity, Tier
from bot.report.common import printable

_FAIL_ON = {"error": Severity.ERROR, "warning": Severity.WARNING, "never": None}
_TIERS = [t.value for t in Tier]


class _Usage(click.ClickException):
    """Bad input or usage: exit code 2 with a one-line reason (as ``migbot check``)."""

    exit_code = 2

    def show(self, file: object = None) -> None:
        click.echo(f"migbot: {printable(self.format_message())}", err=True)


def _exit(report: Report, fail_on: str) -> None:
    threshold = _FAIL_ON[fail_on]
    sys.exit(1 if threshold is not None and report.reaches(threshold) else 0)


def _color(color: bool | None, fmt: str) -> bool:
    return fmt == "text" and (sys.stdout.isatty() if color is None else color)


_fail_on = click.option(
    "--fail-on",
    type=click.Choice(list(_FAIL_ON)),
    default="error",
    show_default=True,
    help="Exit 1 when a finding reaches this severity.",
)
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
)


@click.command("audit")
@click.option("--repo", required=True, type=click.Path(path_type=Path), help="QEMU git repository.")
@click.option("--rev", default="HEAD", show_default=True, help="Revision to audit.")
@_format
@click.option("--tier", type=click.Choice(_TIERS), help="Judge every file at this tier.")
@_fail_on
@_jobs
@_cache
@click.option("--color/--no-color", default=None, help="Colour (default: when on a terminal).")
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
    from bot.catalogue import load_catalogue
    from bot.sources.errors import SourceError

    catalogue = load_catalogue()
    try:
        result = run_audit(
            repo,
            rev,
            tier=Tier(tier) if tier else None,
            jobs=jobs,
            cache_dir=cache_dir,
            catalogue=catalogue,
        )
    except SourceError as exc:
        raise _Usage(str(exc)) from None
    text = render_audit(
        result.report,
        result.inventory,
        fmt,
        color=_color(color, fmt),
        catalogue=catalogue,
    )
    click.echo(text, nl=False)
    _exit(result.report, fail_on)


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
        raise _Usage("--target needs --machine")
    try:
        result = dump_tree(
            repo, rev, machine=machine, target=target, jobs=jobs, cache_dir=cache_dir
        )
    except (SourceError, MachineNotFoundError) as exc:
        raise _Usage(str(exc)) from None
    text = json.dumps(result.data, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise _Usage(f"cannot write {output}: {exc.strerror}") from None
    for note in result.notes:
        click.echo(f"migbot dump: {note}", err=True)


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _Usage(f"cannot read {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _Usage(f"{path} is not JSON: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise _Usage(f"{path} is not a vmstate dump (an object of sections)")
    return data


@click.command("compare")
@click.argument("src", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("dst", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--reverse", is_flag=True, help="Check migration from DST to SRC instead.")
@click.option(
    "--tier",
    type=click.Choice(_TIERS),
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
@_fail_on
@click.option("--color/--no-color", default=None, help="Colour (default: when on a terminal).")
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
    from bot.audit.comparedump import compare_dumps, issues_to_report, upstream_lines
    from bot.catalogue import load_catalogue
    from bot.report import render

    a, b = _load(src), _load(dst)
    if reverse:
        (a, b), (src, dst) = (b, a), (dst, src)
    try:
        issues = compare_dumps(a, b)
    except (AttributeError, KeyError, TypeError) as exc:
        # A hand-edited or truncated dump: the shape, not a finding.
        raise _Usage(f"not a vmstate dump ({type(exc).__name__}: {exc})") from None
    catalogue = load_catalogue()
    report = issues_to_report(
        issues, src_name=str(src), dst_name=str(dst), tier=Tier(tier), catalogue=catalogue
    )
    if fmt == "upstream":
        lines = upstream_lines(issues)
        click.echo("".join(f"{line}\n" for line in lines), nl=False)
    else:
        click.echo(render(report, fmt, color=_color(color, fmt), catalogue=catalogue), nl=False)
    _exit(report, fail_on)
