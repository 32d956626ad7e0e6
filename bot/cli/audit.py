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

from bot.cli.finish import (
    FinishError,
    emit,
    exit_status,
    project_config,
    refine,
    selection_options,
)
from bot.cli.options import (
    TIERS,
    UsageFailure,
    color_option,
    exit_for,
    fail_on_option,
    use_color,
)
from bot.findings import Report, Tier
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
@click.option(
    "--repo",
    type=click.Path(path_type=Path),
    help="QEMU git repository (default: the one around the current directory).",
)
@click.option("--rev", default="HEAD", show_default=True, help="Revision to audit.")
@click.option(
    "--format",
    "fmt",
    default="text",
    type=click.Choice(["text", "json", "markdown", "sarif", "codequality", "github", "rdjson"]),
    show_default=True,
)
@click.option("--tier", type=click.Choice(TIERS), help="Judge every file at this tier.")
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "never"]),
    help="Exit 1 when a finding reaches this severity.  [default: error]",
)
@_jobs
@_cache
@color_option
@selection_options
def audit(
    repo: Path | None,
    rev: str,
    fmt: str,
    tier: str | None,
    fail_on: str | None,
    jobs: int | None,
    cache_dir: Path | None,
    color: bool | None,
    **chosen: Any,
) -> None:
    """Report the latent migration problems of a whole tree, with an inventory.

    \b
    With --baseline only findings the baseline does not accept count, so an
    audit can gate CI on new problems; --write-baseline accepts today's.
    """
    from bot.audit.output import render_audit
    from bot.audit.run import audit as run_audit
    from bot.judge.catalogue import load_catalogue
    from bot.judge.suppress import suppress_in_tree
    from bot.report import render
    from bot.sources.defaults import repo_around
    from bot.sources.errors import SourceError

    repo = repo or repo_around(Path.cwd())
    if repo is None:
        raise UsageFailure("not inside a git repository: give --repo PATH")
    try:
        config = project_config(
            chosen["config_path"],
            repo,
            select=chosen["select"],
            ignore=chosen["ignore"],
            fail_on=fail_on,
            labels=(),
            doc_base=chosen["doc_base"],
            baseline=chosen["baseline"],
        )
    except FinishError as exc:
        raise UsageFailure(str(exc)) from None
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
        report = suppress_in_tree(result.report, repo, rev, catalogue)
        report = refine(report, config, catalogue)
    except (SourceError, FinishError) as exc:
        raise UsageFailure(str(exc)) from None

    def draw(report: Report, fmt: str, colour: bool) -> str:
        if fmt in ("text", "json", "markdown"):
            return render_audit(report, result.inventory, fmt, color=colour, catalogue=catalogue)
        return render(report, fmt, catalogue=catalogue, rule_docs=config.doc_base)

    try:
        emit(
            report,
            fmt=fmt,
            outputs=chosen["outputs"],
            show_statistics=chosen["statistics"],
            color=use_color(color, fmt),
            render=draw,
            write_baseline_to=chosen["write_baseline"],
        )
    except FinishError as exc:
        raise UsageFailure(str(exc)) from None
    written = chosen["write_baseline"] is not None
    sys.exit(exit_status(report, config.fail_on or "error", baseline_written=written))


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
@click.option(
    "--rust",
    is_flag=True,
    help="Dump as a QEMU built with its Rust devices (they replace their C twins).",
)
@_jobs
@_cache
def dump(
    repo: Path,
    rev: str,
    machine: str | None,
    target: str | None,
    output: Path | None,
    rust: bool,
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
            rust=rust,
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
