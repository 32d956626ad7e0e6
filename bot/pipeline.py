"""The pipeline: a `Change` in, a `Report` out. The one door every caller uses.

sources -> scanner -> compare -> tiers -> judge. Pure: no network, no
database, no clock; the rules, the policy and the tier resolver are passed in,
never read from globals. Every door (CLI, service, digest, mail) calls `review`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.change import Change, FileChange, FileStatus
from bot.compare.context import Context, FileModels
from bot.compare.engine import compare
from bot.compare.facts import CompatEntryAdded, Fact, PropertyDefaultChanged
from bot.compare.hunkmode import hunk_facts
from bot.compare.treefacts import tree_facts
from bot.findings import (
    Finding,
    NotUnderstood,
    Override,
    Report,
    Tier,
    TierDecision,
    TierResolver,
    TierSource,
)
from bot.judge.catalogue import Catalogue
from bot.judge.policy import Policy
from bot.judge.rules import judge
from bot.scanner.macros import MacroTable
from bot.scanner.model import VmsdModel
from bot.scanner.scan import scan
from bot.scanner.treeinfo import TreeLookups, macro_table
from bot.scanner.treesearch import TreeSearch
from bot.tiers.pick import pick_resolver

_RUST_STATE_WORDS = ("vmstate", "VMState", "version_id", "subsection", "Migrat")


@dataclass(frozen=True, slots=True)
class AppliedLabel:
    """A label on the merge request, and who applied it (when the forge says)."""

    name: str
    by: str | None = None
    by_is_maintainer: bool | None = None
    """None when unknown (the CLI): the label is taken at face value."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewOptions:
    tier: Tier | None = None
    """Force one tier for every file (``--tier``)."""
    labels: Sequence[AppliedLabel] = field(default=())
    cache_dir: Path | None = None
    """Where computed tier maps are kept; None keeps them in memory only."""


def review(
    change: Change,
    options: ReviewOptions | None = None,
    *,
    catalogue: Catalogue,
    policy: Policy,
    tiers: TierResolver | None = None,
) -> Report:
    """Judge a change. ``tiers`` None: computed from the change's own trees."""
    options = options or ReviewOptions()
    old_table = macro_table(change.base_tree)
    new_table = macro_table(change.head_tree) if change.head_tree else old_table
    pairs: list[FileModels] = []
    not_understood: list[NotUnderstood] = []
    blind: list[FileChange] = []
    unresolved: list[tuple[str, VmsdModel]] = []
    scanned = 0
    for fc in change.files:
        if fc.binary or not policy.scans(fc.path):
            continue
        if not fc.texts_known:
            blind.append(fc)
            continue
        scanned += 1
        pair = _models(fc, old_table, new_table)
        pairs.append(pair)
        not_understood.extend(_unknowns_in_change(pair))
        unresolved.extend(_unresolved_names(pair))
    lookups = TreeLookups(
        change.head_tree or change.base_tree,
        new_table,
        [p.new for p in pairs if p.new is not None] + [p.old for p in pairs if p.old is not None],
    )
    old_lookups = TreeLookups(
        change.base_tree, old_table, [p.old for p in pairs if p.old is not None]
    )
    ctx = Context(
        resolve=lookups.resolve,
        resolve_old=old_lookups.resolve,
        nested_users=lookups.nested_users,
        vmsds_named=lookups.vmsds_named,
        twins=policy.twins,
        changed_paths=frozenset(fc.path for fc in change.files),
        rust_vmstate_paths=frozenset(_rust_state_paths(change.files)),
    )
    facts = compare(pairs, ctx)
    texts = {fc.path: (fc.old_text, fc.new_text) for fc in change.files if fc.texts_known}
    facts.extend(
        tree_facts(
            pairs,
            ctx,
            texts,
            TreeSearch(change.head_tree or change.base_tree, new_table),
            TreeSearch(change.base_tree, old_table),
            facts,
        )
    )
    not_understood.extend(
        NotUnderstood(path, v.line, f"VMSD {v.ident}: name {v.name_expr} not found in the tree")
        for path, v in unresolved
        if v.name_expr and lookups.resolve(v.name_expr) is None
    )
    not_understood.extend(
        NotUnderstood(path, None, "Rust VMState changes are not parsed: review this file by hand")
        for path in sorted(ctx.rust_vmstate_paths)
    )
    for fc in blind:
        got, unknown = hunk_facts(fc, old_table)
        facts.extend(got)
        not_understood.extend(unknown)
        scanned += 1

    facts = _with_compat_of_blind_files(facts)
    tier_of, overrides = _tiers(options, policy, tiers or pick_resolver(change, options.cache_dir))
    findings = judge(facts, tier_of, catalogue)
    findings, ack = _acknowledge(findings, options, policy)
    overrides = overrides + ack
    decided = sorted({(f.path, tier_of(f.path)) for f in findings}, key=lambda t: t[0])
    notes = list(change.notes)
    if blind:
        notes.append(
            "Judged from the diff alone (no repository): "
            + ", ".join(fc.path for fc in blind)
            + ". Field lists, versions, subsections, property defaults and which compat "
            "array is the newest were not seen outside the hunks; run with --repo for a "
            "full check."
        )
    return Report(
        change_title=change.title,
        base=change.base,
        head=change.head,
        findings=tuple(findings),
        not_understood=tuple(not_understood),
        tiers=tuple(decided),
        overrides=tuple(overrides),
        files_scanned=scanned,
        notes=tuple(notes),
    )


def _models(fc: FileChange, old_table: MacroTable, new_table: MacroTable) -> FileModels:
    old = (
        scan(fc.old_text, fc.old_path or fc.path, old_table)
        if fc.old_text is not None and fc.status is not FileStatus.ADDED
        else None
    )
    new = (
        scan(fc.new_text, fc.path, new_table)
        if fc.new_text is not None and fc.status is not FileStatus.DELETED
        else None
    )
    return FileModels(
        path=fc.path,
        old=old,
        new=new,
        old_path=fc.old_path,
        changed_old=fc.changed_old_lines(),
        changed_new=fc.changed_new_lines(),
    )


def _unknowns_in_change(pair: FileModels) -> list[NotUnderstood]:
    """What the scanner could not follow, where the change touched it."""
    if pair.new is None:
        return []
    touched: list[VmsdModel] = [
        v for v in pair.new.vmsds if any(v.line <= ln <= v.end_line for ln in pair.changed_new)
    ]
    out = []
    for u in pair.new.unknowns:
        if u.line in pair.changed_new or any(v.line <= u.line <= v.end_line for v in touched):
            out.append(NotUnderstood(pair.path, u.line, u.what))
    return out


def _with_compat_of_blind_files(facts: list[Fact]) -> list[Fact]:
    """Hunk mode sees one file at a time: a default change whose compat entry
    another file of the change adds is pinned, not a finding."""
    pinned = {f.entry.prop for f in facts if isinstance(f, CompatEntryAdded)}
    return [
        f
        for f in facts
        if not (isinstance(f, PropertyDefaultChanged) and not f.compat and f.new.name in pinned)
    ]


def _unresolved_names(pair: FileModels) -> list[tuple[str, VmsdModel]]:
    if pair.new is None:
        return []
    return [
        (pair.path, v)
        for v in pair.new.vmsds
        if v.name is None and any(v.line <= ln <= v.end_line for ln in pair.changed_new)
    ]


def _rust_state_paths(files: Sequence[FileChange]) -> list[str]:
    out = []
    for fc in files:
        if not fc.path.endswith(".rs") or not fc.path.startswith("rust/hw/"):
            continue  # bindings and the VMState builder itself are not device state
        if any(
            word in ln.text
            for h in fc.hunks
            for ln in h.lines
            if ln.kind in "+-"
            for word in _RUST_STATE_WORDS
        ):
            out.append(fc.path)
    return out


def _tiers(
    options: ReviewOptions, policy: Policy, resolver: TierResolver
) -> tuple[TierResolver, list[Override]]:
    overrides: list[Override] = []
    forced = options.tier
    source = TierSource.CLI
    for label in options.labels:
        tier = policy.tier_for_label(label.name)
        if tier is None:
            continue
        if label.by_is_maintainer is False:
            overrides.append(
                Override(
                    label.name,
                    label.by,
                    f"tier {tier.value}",
                    honoured=False,
                    reason=f"{label.by or 'someone'} has no maintainer rights",
                )
            )
            continue
        forced = tier
        source = TierSource.LABEL
        overrides.append(Override(label.name, label.by, f"tier {tier.value}"))
    if forced is None:
        return resolver, overrides
    tier = forced

    def forced_tier(path: str) -> TierDecision:
        base = resolver(path)
        who = next((o.by for o in overrides if o.honoured and o.by), None)
        how = (
            f"label {next(o.label for o in overrides if o.honoured)}"
            if source is TierSource.LABEL
            else ("--tier")
        )
        by = f" by {who}" if who else ""
        return TierDecision(
            tier,
            f"tier {tier.value}: set with {how}{by} (computed: {base.tier.value})",
            base.machines,
            source,
        )

    return forced_tier, overrides


def _acknowledge(
    findings: list[Finding], options: ReviewOptions, policy: Policy
) -> tuple[list[Finding], list[Override]]:
    ack = [lb for lb in options.labels if lb.name == policy.ack_label]
    if not ack:
        return findings, []
    label = ack[-1]
    if label.by_is_maintainer is False:
        return findings, [
            Override(
                label.name,
                label.by,
                "acknowledge findings",
                honoured=False,
                reason=f"{label.by or 'someone'} has no maintainer rights",
            )
        ]
    override = Override(label.name, label.by, "errors and warnings shown as notices")
    out = []
    for f in findings:
        lowered = policy.acked(f.severity)
        if lowered is not f.severity:
            f = replace(f, severity=lowered, base_severity=f.severity, override=override)
        out.append(f)
    return out, [override]
