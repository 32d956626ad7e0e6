"""``migbot tiers``: the tier of source files, as the review would compute it."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bot.findings import TierDecision
from bot.report.common import printable

_MACHINES_SHOWN = 8


class _Usage(click.ClickException):
    """Bad input or usage: exit code 2 with a one-line reason (as ``migbot check``)."""

    exit_code = 2

    def show(self, file: object = None) -> None:
        click.echo(f"migbot: {printable(self.format_message())}", err=True)


def _as_json(path: str, d: TierDecision) -> dict[str, object]:
    return {
        "path": path,
        "tier": d.tier.value,
        "reason": d.reason,
        "machines": list(d.machines),
        "source": d.source,
    }


def _as_text(path: str, d: TierDecision) -> str:
    lines = [f"{path}: {d.tier.value} ({d.source})", f"  {d.reason}"]
    if d.machines:
        shown = ", ".join(d.machines[:_MACHINES_SHOWN])
        more = len(d.machines) - _MACHINES_SHOWN
        lines.append(f"  machines: {shown}{f' (+{more} more)' if more > 0 else ''}")
    return "\n".join(lines)


@click.command("tiers")
@click.argument("files", nargs=-1)
@click.option("--repo", type=click.Path(path_type=Path), help="QEMU git repository (bare is fine).")
@click.option("--rev", default="HEAD", show_default=True, help="Revision whose tree is read.")
@click.option("--all", "all_files", is_flag=True, help="Every file meson builds (needs --repo).")
@click.option(
    "--format", "fmt", default="text", type=click.Choice(["text", "json"]), show_default=True
)
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where tier maps are kept (default: $MIGBOT_CACHE_DIR/tiers or ~/.cache/migbot/tiers).",
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
def tiers(
    files: tuple[str, ...],
    repo: Path | None,
    rev: str,
    all_files: bool,
    fmt: str,
    cache_dir: Path | None,
    no_cache: bool,
) -> None:
    """Show the migration tier of FILEs: which machines can contain them, and why.

    \b
    With --repo the tier is computed from that tree (Kconfig, meson.build,
    configs/devices, machine definitions); without it, from path rules only.
    Exit codes: 0 done, 2 bad input.
    """
    from bot.sources.errors import SourceError
    from bot.tiers.cache import default_cache_dir
    from bot.tiers.gittree import tree_from_git
    from bot.tiers.resolve import default_decision, open_tiers
    from bot.tiers.rules import TierRulesError, load_tier_rules

    if all_files and files:
        raise _Usage("give FILEs or --all, not both")
    if not all_files and not files:
        raise _Usage("give at least one FILE, or --all with --repo")
    if all_files and repo is None:
        raise _Usage("--all needs --repo PATH")
    try:
        rules = load_tier_rules()
    except TierRulesError as exc:
        raise _Usage(str(exc)) from None

    header: dict[str, object] = {}
    notes: list[str] = []
    if repo is None:
        decisions = [(f, default_decision(f, rules)) for f in files]
    else:
        try:
            tree = tree_from_git(repo, rev)
        except SourceError as exc:
            raise _Usage(str(exc)) from None
        directory = None if no_cache else (cache_dir or default_cache_dir())
        header = {"rev": rev, "tree_id": tree.tree_id}
        opened = open_tiers(tree, rules, directory)
        if isinstance(opened, str):  # as in a review: path rules, saying why
            if all_files:
                raise _Usage(opened)
            notes = [opened]
            decisions = [(f, default_decision(f, rules, opened)) for f in files]
        else:
            tmap = opened.map
            paths = sorted(tmap.files) if all_files else list(files)
            decisions = [(p, opened.decide(p)) for p in paths]
            header["boards"] = len(tmap.boards)
            notes = list(tmap.notes)

    if fmt == "json":
        doc = {**header, "notes": notes, "files": [_as_json(p, d) for p, d in decisions]}
        click.echo(json.dumps(doc, indent=2))
        return
    for note in notes:  # what the tree reader skipped: worth knowing, not fatal
        click.echo(f"note: {note}", err=True)
    click.echo("\n".join(_as_text(p, d) for p, d in decisions))
