"""The whole-tree audit: scan, index, check, judge by tier, count.

``audit(repo, rev)`` is what ``migbot audit`` and bench/audit.py call. The git
questions (the files, string literals, a past release) are asked here and in
`bot.audit.walk` / `bot.audit.gitfacts`; everything after is pure.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from dataclasses import replace as _replace
from pathlib import Path

from bot.audit.checks import Problem, compat_entries, compat_strings, run_checks
from bot.audit.gitfacts import baseline, literal_hits, oldest_in_tree
from bot.audit.index import TreeIndex
from bot.audit.inventory import Inventory, take_inventory
from bot.audit.judge import TierOf, judge_problems
from bot.audit.rusttwins import scan_rust_tree, twin_problems, twin_results
from bot.audit.walk import TreeScan, scan_tree
from bot.change import Tree
from bot.findings import NotUnderstood, Report, Tier, TierDecision, TierSource
from bot.judge.catalogue import Catalogue, load_catalogue
from bot.scanner.cache import ScanCache
from bot.scanner.treeinfo import macro_table
from bot.sources.gitrepo import GitRepo, open_repo


@dataclass(frozen=True, slots=True)
class AuditResult:
    report: Report
    inventory: Inventory
    problems: tuple[Problem, ...]
    """Before tiers: what the checks found, whether reported or not."""
    commit: str
    files: int
    seconds: float
    scan_seconds: float
    jobs: int


def forced_resolver(tier: Tier, computed: TierOf | None = None) -> TierOf:
    """``--tier``: the tier is forced, the machines that reach a file stay known
    (rules such as MIG034 need to know whether a versioned machine does)."""

    def resolve(path: str) -> TierDecision:
        base = computed(path) if computed is not None else None
        machines = base.machines if base is not None else ()
        return TierDecision(tier, f"tier {tier.value}: set with --tier", machines, TierSource.CLI)

    return resolve


def tree_tier_resolver(tree: Tree, cache_dir: Path | None) -> TierOf:
    """Tiers computed from the tree (bot.tiers)."""
    from bot.tiers import tree_resolver

    return tree_resolver(tree, cache_dir)


def audit(
    repo: Path | GitRepo,
    rev: str = "HEAD",
    *,
    tier: Tier | None = None,
    tier_of: TierOf | None = None,
    jobs: int | None = None,
    cache_dir: Path | None = None,
    scans: ScanCache | None = None,
    catalogue: Catalogue | None = None,
) -> AuditResult:
    """Audit revision ``rev`` of ``repo``.

    ``tier`` forces one tier for every file; ``tier_of`` gives a resolver;
    otherwise tiers are computed from the tree (`bot.tiers`), cached in
    ``cache_dir`` (None: in memory only).
    """
    start = time.perf_counter()
    git = open_repo(repo)
    catalogue = catalogue or load_catalogue()
    scan = scan_tree(git, rev, jobs=jobs, cache=scans)
    head_tree = git.tree(scan.tree_id)
    table = scan.table if scan.table is not None else macro_table(head_tree, scans)
    rust_files, rust_seconds = scan_rust_tree(head_tree, table)
    twins = twin_results(scan, rust_files, head_tree)
    scan = _replace(scan, files=scan.files + tuple(rust_files))
    index = TreeIndex.build(scan.models, scan.strings)
    facts = {f.model.path: f.facts for f in scan.files}
    entries = [(path, e.line) for path, _, e in compat_entries(index.models)]
    literals = literal_hits(git, scan.tree_id, compat_strings(index), entries)
    machines = [mv for m in index.models for mv in m.machines]
    base, base_note = baseline(
        git, scan.commit, scan.tree_id, machines, _always_sent_candidates(index), scans
    )
    oldest = oldest_in_tree(git, scan.tree_id, machines)
    problems = run_checks(index, facts, literals, base, oldest) + twin_problems(twins)
    if tier_of is None and cache_dir is not None:
        _parent_map(git, scan.commit, cache_dir)
    computed = tier_of or tree_tier_resolver(git.tree(scan.tree_id), cache_dir)
    resolve = forced_resolver(tier, computed) if tier is not None else computed
    findings = judge_problems(problems, resolve, catalogue)
    inventory = _replace(take_inventory(index, resolve), rust_twins=tuple(t.twin for t in twins))
    seconds = time.perf_counter() - start
    report = Report(
        change_title=f"audit of {rev} ({scan.commit[:12]})",
        base=None,
        head=scan.commit,
        findings=tuple(findings),
        not_understood=tuple(_not_understood(scan)),
        tiers=tuple(sorted({(f.path, resolve(f.path)) for f in findings}, key=lambda t: t[0])),
        files_scanned=len(scan.files),
        notes=(
            f"{len(scan.files)} files scanned with {scan.jobs} worker(s) in "
            f"{scan.seconds:.1f} s; audit done in {seconds:.1f} s",
            base_note,
            f"{len(rust_files)} Rust device files scanned in {rust_seconds:.2f} s",
        ),
    )
    return AuditResult(
        report=report,
        inventory=inventory,
        problems=tuple(problems),
        commit=scan.commit,
        files=len(scan.files),
        seconds=seconds,
        scan_seconds=scan.seconds,
        jobs=scan.jobs,
    )


_NO_BLOB = "0" * 40


def _parent_map(git: GitRepo, commit: str, cache_dir: Path) -> None:
    """Give the commit its first parent's tier map when the commit touched nothing
    the map was built from (CI audits each push after the one before: Kconfig,
    meson and the machine files rarely change)."""
    from bot.tiers.cache import alias_map
    from bot.tiers.rules import load_tier_rules

    head = git.commit(commit)
    if not head.parents:
        return
    base = git.commit(head.parents[0]).tree
    raw = git.run(["diff-tree", "-r", "--no-renames", "-z", base, head.tree])
    fields = raw.split(b"\0")
    changed: list[tuple[str, str | None, str | None]] = []
    for meta, name in zip(fields[0::2], fields[1::2], strict=False):
        parts = meta.decode("ascii", "replace").split()
        if len(parts) != 5:
            continue
        old, new = (None if oid == _NO_BLOB else oid for oid in parts[2:4])
        changed.append(
            (
                name.decode("utf-8", "surrogateescape"),
                git.blob_text(old) if old else None,
                git.blob_text(new) if new else None,
            )
        )
    alias_map(cache_dir, base, head.tree, load_tier_rules(), changed)


def _always_sent_candidates(index: TreeIndex) -> set[str]:
    """Names whose presence in the baseline release MIG011 asks about."""
    names: set[str] = set()
    for loc in index.vmsds():
        for sub in index.subsections(loc):
            if sub.vmsd.needed is None:
                names.update(n for n in (index.name_of(loc), index.name_of(sub)) if n)
    return names


def _not_understood(scan: TreeScan) -> list[NotUnderstood]:
    return [
        NotUnderstood(f.model.path, u.line, u.what) for f in scan.files for u in f.model.unknowns
    ]
