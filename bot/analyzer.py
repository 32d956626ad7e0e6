"""Runs the pipeline for one change: scan, compare, tiers, judge, overrides."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.catalogue import Catalogue, load_catalogue
from bot.change import Change, FileChange, FileStatus
from bot.compare import Context, FileModels, compare
from bot.facts import CompatEntryAdded, Fact, PropertyDefaultChanged
from bot.findings import Finding, NotUnderstood, Override, Report, TierDecision
from bot.hunkmode import hunk_facts
from bot.judge import judge
from bot.model import VmsdModel
from bot.pipeline import ReviewOptions, TierResolver
from bot.policy import Policy, load_policy
from bot.scanner.macros import MacroTable
from bot.scanner.rust.tree import is_rust_device, scan_in_tree
from bot.scanner.scan import scan
from bot.tierpick import pick_resolver
from bot.treeinfo import TreeLookups, macro_table
from bot.twinfind import with_twins

_RUST_STATE_WORDS = ("vmstate", "VMState", "version_id", "subsection", "Migrat")


def analyze(
    change: Change,
    options: ReviewOptions,
    *,
    catalogue: Catalogue | None = None,
    policy: Policy | None = None,
) -> Report:
    catalogue = catalogue or load_catalogue()
    policy = policy or load_policy()
    old_table = macro_table(change.base_tree)
    new_table = macro_table(change.head_tree) if change.head_tree else old_table
    pairs: list[FileModels] = []
    not_understood: list[NotUnderstood] = []
    blind: list[FileChange] = []
    unresolved: list[tuple[str, VmsdModel]] = []
    scanned = 0
    for fc in change.files:
        if fc.binary or not (policy.scans(fc.path) or is_rust_device(fc.path)):
            continue
        if not fc.texts_known:
            blind.append(fc)
            continue
        scanned += 1
        pair = _models(fc, old_table, new_table, change)
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
        rust_vmstate_paths=frozenset(_rust_state_paths(blind)),
    )
    facts = compare(pairs, ctx)
    facts = with_twins(
        facts, pairs, change.base_tree, change.head_tree, old_table, new_table, policy.twins
    )
    not_understood.extend(
        NotUnderstood(path, v.line, f"VMSD {v.ident}: name {v.name_expr} not found in the tree")
        for path, v in unresolved
        if v.name_expr and lookups.resolve(v.name_expr) is None
    )
    not_understood.extend(
        NotUnderstood(
            path, None, "Rust VMState changes are read from the tree only: run with --repo"
        )
        for path in sorted(ctx.rust_vmstate_paths)
    )
    for fc in blind:
        if fc.path.endswith(".rs"):
            continue
        got, unknown = hunk_facts(fc, old_table)
        facts.extend(got)
        not_understood.extend(unknown)
        scanned += 1

    facts = _with_compat_of_blind_files(facts)
    tier_of, overrides = _tiers(options, policy, change)
    findings = judge(facts, tier_of, catalogue)
    findings, ack = _acknowledge(findings, options, policy)
    overrides = overrides + ack
    tiers = sorted({(f.path, tier_of(f.path)) for f in findings}, key=lambda t: t[0])
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
        tiers=tuple(tiers),
        overrides=tuple(overrides),
        files_scanned=scanned,
        notes=tuple(notes),
    )


def _models(
    fc: FileChange, old_table: MacroTable, new_table: MacroTable, change: Change
) -> FileModels:
    old_path = fc.old_path or fc.path
    old = (
        (
            scan_in_tree(fc.old_text, old_path, change.base_tree, old_table)
            if old_path.endswith(".rs")
            else scan(fc.old_text, old_path, old_table)
        )
        if fc.old_text is not None and fc.status is not FileStatus.ADDED
        else None
    )
    new = (
        (
            scan_in_tree(fc.new_text, fc.path, change.head_tree, new_table)
            if fc.path.endswith(".rs")
            else scan(fc.new_text, fc.path, new_table)
        )
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
    options: ReviewOptions, policy: Policy, change: Change
) -> tuple[TierResolver, list[Override]]:
    overrides: list[Override] = []
    forced = options.tier
    source = "cli"
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
        source = "label"
        overrides.append(Override(label.name, label.by, f"tier {tier.value}"))
    resolver = options.tier_resolver or pick_resolver(change)
    if forced is None:
        return resolver, overrides
    tier = forced

    def forced_tier(path: str) -> TierDecision:
        base = resolver(path)
        who = next((o.by for o in overrides if o.honoured and o.by), None)
        how = (
            f"label {next(o.label for o in overrides if o.honoured)}"
            if source == "label"
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
