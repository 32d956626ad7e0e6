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
    rust_files, rust_seconds = scan_rust_tree(head_tree, macro_table(head_tree))
    twins = twin_results(scan, rust_files, head_tree)
    scan = _replace(scan, files=scan.files + tuple(rust_files))
    index = TreeIndex.build(scan.models, scan.strings)
    facts = {f.model.path: f.facts for f in scan.files}
    entries = [(path, e.line) for path, _, e in compat_entries(index.models)]
    literals = literal_hits(git, scan.tree_id, compat_strings(index), entries)
    machines = [mv for m in index.models for mv in m.machines]
    base, base_note = baseline(
        git, scan.commit, scan.tree_id, machines, _always_sent_candidates(index)
    )
    oldest = oldest_in_tree(git, scan.tree_id, machines)
    problems = run_checks(index, facts, literals, base, oldest) + twin_problems(twins)
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
