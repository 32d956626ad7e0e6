"""The pipeline: a `Change` in, a `Report` out. The one door every caller uses.

sources -> scanner -> compare -> tiers -> judge. Pure: no network, no
database, no clock; the rules, the policy and the tier resolver are passed in,
never read from globals. Every door (CLI, service, digest, mail) calls `review`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.change import Change, FileChange, FileStatus, History, Release
from bot.compare.aliases import aliased_types
from bot.compare.compat_history import entries_against_releases
from bot.compare.context import Context, FileModels
from bot.compare.distance import between_files
from bot.compare.engine import compare
from bot.compare.facts import CompatEntryAdded, Fact, PropertyDefaultChanged
from bot.compare.local_wire import with_local_wire
from bot.compare.machinecompat import older_version_flag_facts
from bot.compare.realize import realize_default_facts
from bot.compare.released import (
    WIRE_FACTS,
    FixedIn,
    ReleasedModel,
    against_release,
    fixed_commits,
    placed_for_released_change,
)
from bot.compare.streams import stream_facts
from bot.compare.treefacts import tree_facts
from bot.compare.twins import with_twins
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
from bot.judge.recipes import specialise
from bot.judge.rules import judge
from bot.judge.suppress import suppress_in_change
from bot.scanner.cache import ScanCache, text_id
from bot.scanner.macros import MacroTable
from bot.scanner.model import FileModel, VmsdModel
from bot.scanner.rust.paths import is_rust_device
from bot.scanner.rust.tree import scan_in_tree
from bot.scanner.scan import same_model, scan
from bot.scanner.treeinfo import TreeLookups, macro_table, same_table
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
    scans: ScanCache | None = None
    """Scan results by content, shared with every other run (None: scan everything)."""


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
    old_table, new_table = _tables(change, options.scans)
    pairs: list[FileModels] = []
    not_understood: list[NotUnderstood] = []
    blind: list[FileChange] = []
    unresolved: list[tuple[str, VmsdModel]] = []
    scanned = 0
    known = (
        _prescan(change, policy, old_table, new_table, options.scans)
        if options.scans is not None
        else {}
    )
    for fc in change.files:
        if fc.binary or not (policy.scans(fc.path) or is_rust_device(fc.path)):
            continue
        if not fc.texts_known:
            blind.append(fc)
            continue
        scanned += 1
        pair = _models(fc, old_table, new_table, options.scans, change, known)
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
    twins = _twins_in_tree(policy.twins, change)
    head_search = TreeSearch(change.head_tree or change.base_tree, new_table)
    ctx = Context(
        resolve=lookups.resolve,
        resolve_old=old_lookups.resolve,
        nested_users=lookups.nested_users,
        vmsds_named=lookups.vmsds_named,
        mentioned=lookups.mentions,
        mentioned_old=old_lookups.mentions,
        twins=twins,
        aliased_by=_aliases_in(head_search, lookups.resolve),
        changed_paths=frozenset(fc.path for fc in change.files),
        rust_vmstate_paths=frozenset(_rust_state_paths(blind)),
    )
    texts = {fc.path: (fc.old_text, fc.new_text) for fc in change.files if fc.texts_known}
    pairs = with_local_wire(pairs, texts)
    facts = compare(pairs, ctx)
    facts = with_twins(
        facts, pairs, change.base_tree, change.head_tree, old_table, new_table, twins
    )
    facts.extend(between_files(change, old_table, new_table))
    models = {p.path: (p.old, p.new) for p in pairs}
    facts.extend(stream_facts(change, head_search.text if change.head_tree else None, models))
    compat_props = {f.entry.prop for f in facts if isinstance(f, CompatEntryAdded)}
    facts.extend(realize_default_facts(pairs, texts, compat_props))
    facts.extend(
        tree_facts(
            pairs,
            ctx,
            texts,
            head_search,
            TreeSearch(change.base_tree, old_table),
            facts,
        )
    )
    release = change.history.last_release() if change.history is not None else None
    if not fixed_commits(change.messages):
        shipped = release.version if release is not None else None
        facts.extend(older_version_flag_facts(pairs, texts, shipped))
    if change.history is not None and any(isinstance(f, CompatEntryAdded) for f in facts):
        facts = placed_for_released_change(facts, _fixed_in(change.history, change.messages))
        facts = entries_against_releases(facts, pairs, change.history, old_table, lookups.resolve)
    if release is not None and any(isinstance(f, WIRE_FACTS) for f in facts):
        facts = against_release(
            facts, pairs, _released_reader(release, old_table, options.scans), release.name, ctx
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
        from bot.compare.hunkmode import hunk_facts

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
    report = Report(
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
    # In-source suppressions, then fix recipes filled with the change's own names.
    return specialise(change, suppress_in_change(change, report))


def _aliases_in(
    search: TreeSearch, resolve: Callable[[str], str | None]
) -> Callable[[str], Sequence[str]]:
    """`Context.aliased_by` read off the tree: the files that register the type."""

    def aliased_by(spelling: str) -> Sequence[str]:
        out: list[str] = []
        for path in search.files_with(spelling):
            if path.endswith(".c"):
                for t in aliased_types(search.text(path) or "", spelling):
                    out.append(t.strip('"') if t.startswith('"') else (resolve(t) or t))
        return out

    return aliased_by


def _twins_in_tree(twins: Sequence[tuple[str, str]], change: Change) -> tuple[tuple[str, str], ...]:
    """The policy's twins whose Rust side exists on either side of the change: a
    tree from before the Rust device was written has only the C one."""
    trees = [t for t in (change.base_tree, change.head_tree) if t is not None]
    touched = {fc.path for fc in change.files}
    if not trees:
        return tuple(twins)
    return tuple(
        (c, rust)
        for c, rust in twins
        if any(p.startswith(rust) for p in touched)
        or any(t.read(rust + name) is not None for t in trees for name in _RUST_CRATE_FILES)
    )


_RUST_CRATE_FILES = ("Cargo.toml", "meson.build")


def _fixed_in(history: History, messages: Sequence[str]) -> list[FixedIn]:
    """The released commits the change's ``Fixes:`` trailers name."""
    out: list[FixedIn] = []
    for sha in fixed_commits(messages):
        shipped = history.release_of(sha)
        before = history.release_before(shipped) if shipped else None
        if shipped and before:
            out.append((sha, shipped, before))
    return out


def _released_reader(release: Release, table: MacroTable, scans: ScanCache | None) -> ReleasedModel:
    """Scans a changed file as the release had it: same path, else old path, else the
    file of the release where one of its VMSDs was (moved since)."""

    def read(pair: FileModels) -> FileModel | None:
        for path in dict.fromkeys(p for p in (pair.path, pair.old_path) if p):
            text = release.tree.read(path)
            if text is not None:
                return _scan(text, path, table, scans)
        if release.tree.grep is None:
            return None
        idents = [v.ident for side in (pair.old, pair.new) if side for v in side.vmsds]
        for ident in dict.fromkeys(idents):
            for path in release.tree.grep(ident, "*.c")[:1]:
                text = release.tree.read(path)
                if text is not None:
                    return _scan(text, path, table, scans)
        return None

    return read


def _tables(change: Change, scans: ScanCache | None) -> tuple[MacroTable, MacroTable]:
    """The macro tables of the base and head; the head's is the base's when the
    change touches no header that defines ``VMSTATE_`` macros."""
    old = macro_table(change.base_tree, scans)
    head = change.head_tree
    if head is None:
        return old, old
    if change.base_tree is not None and not any(
        "#define VMSTATE_" in (fc.old_text or "") + (fc.new_text or "")
        for fc in change.files
        if fc.path.endswith(".h") or (fc.old_path or "").endswith(".h")
    ):
        same_table(head, old, scans)
        return old, old
    return old, macro_table(head, scans)


def _scan(
    text: str,
    path: str,
    table: MacroTable,
    scans: ScanCache | None,
    known: Mapping[str, FileModel] | None = None,
) -> FileModel:
    if scans is None:
        return scan(text, path, table)
    key = _key(text, path, table)
    if known and key in known:
        return known[key]
    return scans.through(key, lambda: scan(text, path, table))


def _key(text: str, path: str, table: MacroTable) -> str:
    return ScanCache.key("file", text_id(text), path, table.digest)


PARALLEL_SCANS = 24
"""A change with at least this many C files to scan (not in the cache) scans them
in worker processes, one per CPU: a header move rewrites hundreds of files."""


def _prescan(
    change: Change, policy: Policy, old_table: MacroTable, new_table: MacroTable, scans: ScanCache
) -> dict[str, FileModel]:
    """The C models a large change needs, by cache key, scanned in parallel when
    not cached; the old sides first, as a new side that differs only in
    ``#include`` lines is its old side's model (`same_model`)."""
    files = [
        fc
        for fc in change.files
        if not fc.binary and fc.texts_known and policy.scans(fc.path) and fc.path.endswith(".c")
    ]
    if len(files) < PARALLEL_SCANS:
        return {}
    from bot.scanner.parallel import cpus  # (multiprocessing: only for a large change)

    if (jobs := cpus()) < 2:
        return {}
    known: dict[str, FileModel] = {}
    old_sides = {
        fc.path: (fc.old_text, fc.old_path or fc.path)
        for fc in files
        if fc.old_text is not None and fc.status is not FileStatus.ADDED
    }
    olds = _scan_missing(list(old_sides.values()), old_table, scans, jobs)
    known.update((_key(text, path, old_table), m) for (text, path), m in olds.items())
    new_sides = []
    for fc in files:
        if fc.new_text is None or fc.status is FileStatus.DELETED:
            continue
        old = olds.get(old_sides[fc.path]) if fc.path in old_sides else None
        if (
            old is not None
            and fc.old_text is not None
            and new_table is old_table
            and same_model(fc.old_text, fc.new_text, old, fc.path)
        ):
            known[_key(fc.new_text, fc.path, new_table)] = replace(old, path=fc.path)
            continue
        new_sides.append((fc.new_text, fc.path))
    news = _scan_missing(new_sides, new_table, scans, jobs)
    known.update((_key(text, path, new_table), m) for (text, path), m in news.items())
    return known


def _scan_missing(
    sides: list[tuple[str, str]], table: MacroTable, scans: ScanCache, jobs: int
) -> dict[tuple[str, str], FileModel]:
    """The models of (text, path) pairs, scanning in parallel those not cached."""
    keys = {side: _key(side[0], side[1], table) for side in sides}
    found = scans.get_many(keys.values())
    missing = [side for side in dict.fromkeys(sides) if keys[side] not in found]
    if len(missing) >= PARALLEL_SCANS:
        from bot.scanner.parallel import scan_many

        models = scan_many(missing, table, jobs)
        fresh = {keys[side]: model for side, model in zip(missing, models, strict=True)}
        scans.put_many(fresh)
        found.update(fresh)
    return {side: m for side in sides if isinstance(m := found.get(keys[side]), FileModel)}


def _models(
    fc: FileChange,
    old_table: MacroTable,
    new_table: MacroTable,
    scans: ScanCache | None,
    change: Change,
    known: Mapping[str, FileModel],
) -> FileModels:
    old_path = fc.old_path or fc.path
    old = (
        (
            scan_in_tree(fc.old_text, old_path, change.base_tree, old_table)
            if old_path.endswith(".rs")
            else _scan(fc.old_text, old_path, old_table, scans, known)
        )
        if fc.old_text is not None and fc.status is not FileStatus.ADDED
        else None
    )
    new = (
        (
            scan_in_tree(fc.new_text, fc.path, change.head_tree, new_table)
            if fc.path.endswith(".rs")
            else (
                known[key]
                if known and (key := _key(fc.new_text, fc.path, new_table)) in known
                else replace(old, path=fc.path)
                if old is not None
                and fc.old_text is not None
                and new_table is old_table
                and same_model(fc.old_text, fc.new_text, old, fc.path)
                else _scan(fc.new_text, fc.path, new_table, scans)
            )
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
