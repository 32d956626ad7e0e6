"""Compare the old and new models of a change into typed facts.

Pure: models and a little context in, facts out. Whether a fact is allowed is
the judge's business (it depends on the tier).
"""

from __future__ import annotations

import collections
import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from bot import facts as F
from bot.findings import Side
from bot.model import (
    CompatArray,
    CompatEntry,
    FieldModel,
    FileModel,
    FunctionSummary,
    PropertyModel,
    VmsdModel,
)

NameResolver = Callable[[str], str | None]


@dataclass(frozen=True, slots=True)
class FileModels:
    """Old and new model of one file, and the lines the change touched."""

    path: str
    old: FileModel | None
    new: FileModel | None
    old_path: str | None = None
    changed_old: frozenset[int] = frozenset()
    changed_new: frozenset[int] = frozenset()


@dataclass(slots=True)
class Context:
    """What compare may look up beyond the touched files."""

    resolve: NameResolver = lambda _name: None
    resolve_old: NameResolver = lambda _name: None
    """Resolution in the base tree, for names read from the old side."""
    vmsds_named: Callable[[str], Sequence[str]] = lambda _expr: ()
    """Paths of tree files with a VMSD whose ``.name`` is the macro ``expr``."""
    nested_users: Callable[[str], Sequence[str]] = lambda _ident: ()
    """VMSD section names that embed the VMSD ``ident`` with VMSTATE_STRUCT*, tree-wide."""
    twins: Sequence[tuple[str, str]] = ()
    changed_paths: frozenset[str] = frozenset()
    rust_vmstate_paths: frozenset[str] = frozenset()
    """Rust files whose diff touches migration state."""
    _cache: dict[str, str | None] = field(default_factory=dict)

    def name_of(self, v: VmsdModel, model: FileModel, *, old: bool = False) -> str:
        """The section name, resolved in the tree of the side ``model`` comes from."""
        if v.name is not None:
            return v.name
        expr = v.name_expr or v.ident
        key = ("old:" if old else "new:") + expr
        if key not in self._cache:
            local = dict(model.string_defines)
            resolve = self.resolve_old if old else self.resolve
            self._cache[key] = local.get(expr) or resolve(expr)
        return self._cache[key] or expr


def compare(files: Sequence[FileModels], ctx: Context) -> list[F.Fact]:
    out: list[F.Fact] = []
    new_props = _props_by_name(f.new for f in files)
    compat_added = _compat_added(files)
    for fm in files:
        out.extend(_vmsd_facts(fm, files, ctx, new_props))
        out.extend(_compat_facts(fm, files))
        out.extend(_property_facts(fm, compat_added))
        out.extend(_registration_facts(fm, files))
    out.extend(_moved_vmsd_facts(files, ctx))
    out.extend(_twin_facts(files, ctx))
    for fm in files:
        out.extend(_compat_not_applied(fm))
        out.extend(_renamed_types(fm, files, ctx))
    out = _nested_bumps_refused_cleanly(out)
    out = _gates_without_compat(out)
    out.extend(_wrong_driver(files, compat_added, ctx.resolve))
    out.extend(_compat_done_right(out))
    return out


# --- VMSDs ----------------------------------------------------------------------


def _touched(v: VmsdModel, lines: frozenset[int]) -> bool:
    return any(v.line <= ln <= v.end_line for ln in lines)


def _vmsd_facts(
    fm: FileModels,
    files: Sequence[FileModels],
    ctx: Context,
    props: Mapping[str, PropertyModel],
) -> Iterable[F.Fact]:
    if fm.new is None:
        return
    new = fm.new
    old_by_ident = {v.ident: v for v in fm.old.vmsds} if fm.old else {}
    subsection_idents = {s for v in new.vmsds for s in v.subsections}
    for v in new.vmsds:
        o = old_by_ident.get(v.ident)
        name = ctx.name_of(v, new)
        touched = _touched(v, fm.changed_new) or any(
            sub is not None and _touched(sub, fm.changed_new)
            for sub in (new.vmsd(i) for i in v.subsections)
        )
        if o is None:
            if _moved_from_elsewhere(v, name, files, ctx):
                continue
            # A new VMSD: only its own consistency can be judged.
            yield from _consistency(fm, v, name, ctx, new)
            continue
        # Compared whatever lines changed: a #define, a named field array or a
        # subsection list elsewhere in the file changes a VMSD without touching it.
        yield from _compare_vmsd(fm, o, v, name, ctx, subsection_idents, props)
        if touched or _touched(o, fm.changed_old):
            yield from _consistency(fm, v, name, ctx, new, old=o)


def _moved_from_elsewhere(
    v: VmsdModel, name: str, files: Sequence[FileModels], ctx: Context
) -> bool:
    """True when an unchanged twin of this VMSD left another file of the change."""
    for other in files:
        if other.old is None:
            continue
        for o in other.old.vmsds:
            if o.ident == v.ident and other.new is not None and other.new.vmsd(o.ident) is None:
                return True
    return False


def _consistency(
    fm: FileModels,
    v: VmsdModel,
    name: str,
    ctx: Context,
    model: FileModel,
    old: VmsdModel | None = None,
) -> Iterable[F.Fact]:
    """Problems a VMSD has on its own: checked where the change touched it."""
    path = fm.path
    yield from _struct_mismatch(fm, v, name)
    fields_changed = old is None or [f.wire_key() for f in old.fields] != [
        f.wire_key() for f in v.fields
    ]
    if v.fields and not v.has_end_of_list and v.fields_ref is None and fields_changed:
        last = v.fields[-1]
        yield F.EndOfListMissing(path=path, line=last.line, vmsd=name)
    version = v.version_id
    old_fields = {f.name: f for f in old.fields} if old else {}
    for f in v.fields:
        if version is not None and f.version is not None and f.version > version:
            before = old_fields.get(f.name)
            if (
                before is None
                or before.version != f.version
                or (old is not None and old.version_id != version)
            ):
                yield F.FieldVersionAboveVmsd(
                    path=path,
                    line=f.line,
                    vmsd=name,
                    subject=f.name,
                    field=f,
                    vmsd_version=version,
                )
        if f.test and f.line in fm.changed_new:
            fn = model.function(f.test)
            if fn is not None and fn.compares_version_eq:
                yield F.TestComparesVersionEq(
                    path=path, line=f.line, vmsd=name, subject=f.name, field=f, function=f.test
                )
    subs_touched = any(
        sub is not None and _touched(sub, fm.changed_new)
        for sub in (model.vmsd(i) for i in v.subsections)
    )
    if old is None or v.subsections != old.subsections or subs_touched:
        known: set[tuple[str, str]] = set()
        if old is not None and fm.old is not None:
            # A problem the tree already had is the audit's business, not this change's.
            known = {
                (bad.problem, bad.sub_name)
                for bad in _subsection_names(fm, old, name, ctx, fm.old, old_side=True)
            }
        for bad in _subsection_names(fm, v, name, ctx, model):
            if (bad.problem, bad.sub_name) not in known:
                yield bad


def _subsection_names(
    fm: FileModels,
    v: VmsdModel,
    name: str,
    ctx: Context,
    model: FileModel,
    *,
    old_side: bool = False,
) -> Iterable[F.SubsectionNameInvalid]:
    seen: dict[str, str] = {}
    for ident in v.subsections:
        sub = model.vmsd(ident)
        if sub is None:
            continue
        sub_name = ctx.name_of(sub, model, old=old_side)
        line = v.subsections_line or v.line
        resolved = name != (v.name_expr or v.ident) or (v.name_expr or "").startswith('"')
        if resolved and not sub_name.startswith(name) and sub_name != (sub.name_expr or ""):
            yield F.SubsectionNameInvalid(
                path=fm.path,
                line=sub.name_line or sub.line,
                vmsd=name,
                subject=sub_name,
                parent_name=name,
                sub_name=sub_name,
                problem="prefix",
            )
        if sub_name in seen:
            yield F.SubsectionNameInvalid(
                path=fm.path,
                line=line,
                vmsd=name,
                subject=sub_name,
                parent_name=name,
                sub_name=sub_name,
                problem="duplicate",
            )
        seen[sub_name] = ident


def _compare_vmsd(
    fm: FileModels,
    o: VmsdModel,
    v: VmsdModel,
    name: str,
    ctx: Context,
    subsection_idents: set[str],
    props: Mapping[str, PropertyModel],
) -> Iterable[F.Fact]:
    assert fm.old is not None and fm.new is not None
    path = fm.path
    if o.unmigratable:
        return  # nothing was ever sent: any layout is a first one
    old_name = ctx.name_of(o, fm.old, old=True)
    if old_name != name:
        yield F.VmsdRenamed(
            path=path, line=v.line, vmsd=name, subject=old_name, old_name=old_name, new_name=name
        )
    if v.unmigratable:
        # Nothing of it is sent any more: the layout no longer matters.
        yield F.UnmigratableAdded(path=path, line=v.line, vmsd=name)
        return
    ov, nv = o.effective_version, v.effective_version
    version_changed = o.version_id is not None and v.version_id is not None and nv != ov
    minimum_raised = v.minimum_version_id is not None and (v.minimum_version_id or 0) > (
        o.minimum_version_id or 0
    )
    nested: tuple[str, ...] = ()
    if (version_changed or minimum_raised) and v.ident not in subsection_idents:
        registered = any(r.vmsd == v.ident for r in fm.new.registrations)
        nested = () if registered else tuple(ctx.nested_users(v.ident))
    if nested:
        # Embedded with VMSTATE_STRUCT only: loaded at its own local version, so
        # neither number is on the wire; only fields gated by the version matter.
        added = [f.name for f in v.fields if f.version is not None and f.version > ov]
        if nv > ov:
            # With no field gated by the new version nothing on the wire depends on
            # it; the bump is still versioning of a device's state, judged by tier.
            yield F.VersionBumped(
                path=path,
                line=v.line,
                vmsd=name,
                old=ov,
                new=nv,
                nested_in=nested if added else (),
                is_subsection=False,
                added_versioned_fields=tuple(added),
            )
    elif version_changed:
        if nv > ov:
            yield F.VersionBumped(
                path=path,
                line=v.line,
                vmsd=name,
                old=ov,
                new=nv,
                nested_in=nested,
                is_subsection=v.ident in subsection_idents,
                added_versioned_fields=tuple(
                    f.name for f in v.fields if f.version is not None and f.version > ov
                ),
            )
        else:
            yield F.VersionLowered(path=path, line=v.line, vmsd=name, old=ov, new=nv)
    om = o.minimum_version_id or 0
    nm = v.minimum_version_id or 0
    if minimum_raised and not nested:
        yield F.MinimumVersionRaised(
            path=path, line=v.line, vmsd=name, old=om, new=nm, subject=str(ov)
        )
    refuses_old_streams = nm > ov and not nested
    old_model = fm.old
    yield from _field_facts(
        path,
        o,
        v,
        name,
        refuses_old_streams,
        lambda test: (
            not _reads_runtime_state(test, old_model) and old_model.function(test) is not None
        ),
    )
    yield from _subsection_facts(fm, o, v, name, ctx, props)
    if (
        o.needed
        and not v.needed
        and v.ident in subsection_idents
        and _reads_runtime_state(o.needed, fm.old)
    ):
        # A property-gated subsection losing its .needed is the cleanup after the
        # compat entries that switched it off went away with their machine types.
        yield F.NeededRemoved(path=path, line=v.line, vmsd=name, subject=name, function=o.needed)


def _field_facts(
    path: str,
    o: VmsdModel,
    v: VmsdModel,
    name: str,
    refuses_old_streams: bool,
    config_gated: Callable[[str], bool] = lambda _test: False,
) -> Iterable[F.Fact]:
    if refuses_old_streams:
        return  # every old stream is refused, cleanly: judged as the minimum version raise
    old = list(o.wire_fields)
    new = list(v.wire_fields)
    if any(not f.understood for f in old + new):
        return  # reported as not understood instead of guessed
    if [f.wire_key() for f in old] == [f.wire_key() for f in new]:
        # Same bytes in the same order: renamed members are harmless, but the
        # same fields in another order swap values.
        yield from _swapped(path, name, old, new)
        return
    ov = o.effective_version
    matcher = difflib.SequenceMatcher(
        a=[(f.name, f.wire_key()) for f in old],
        b=[(f.name, f.wire_key()) for f in new],
        autojunk=False,
    )
    removed: list[tuple[FieldModel, FieldModel | None]] = []
    added: list[tuple[FieldModel, bool]] = []
    changed: list[tuple[FieldModel, FieldModel]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        olds, news = old[i1:i2], new[j1:j2]
        at_end = i1 == len(old)
        by_name = {f.name: f for f in news}
        used: set[int] = set()
        gone: list[FieldModel] = []
        for of in olds:
            nf = by_name.get(of.name)
            if nf is not None and id(nf) not in used:
                used.add(id(nf))
                changed.append((of, nf))
                continue
            same = next(
                (n for n in news if id(n) not in used and n.wire_key() == of.wire_key()), None
            )
            if same is not None:
                used.add(id(same))  # renamed member, same bytes
                continue
            gone.append(of)
        # Padding replaces a removed field only in the same place of the list.
        padding = [n for n in news if id(n) not in used and n.is_unused]
        for of in gone:
            repl = padding.pop(0) if padding else None
            if repl is not None:
                used.add(id(repl))
            removed.append((of, repl))
        for nf in news:
            if id(nf) not in used:
                added.append((nf, at_end))
    # A field removed here and added there, unchanged, was moved.
    moved = {f.name for f, _ in removed} & {f.name for f, _ in added}
    moved = {
        n
        for n in moved
        if next(f for f, _ in removed if f.name == n).wire_key()
        == next(f for f, _ in added if f.name == n).wire_key()
    }
    if moved:
        first = min((f for f, _ in added if f.name in moved), key=lambda f: f.line)
        yield F.FieldsReordered(
            path=path,
            line=first.line,
            vmsd=name,
            subject=",".join(sorted(moved)),
            names=tuple(sorted(moved)),
        )
    nv = v.effective_version
    for of, repl in removed:
        if of.name in moved:
            continue
        if of.test and config_gated(of.test):
            # Only sent when a configuration test said so (a compat property):
            # it goes away with that configuration, cleanup rather than layout.
            continue
        if of.version is not None and of.version > nv:
            continue  # only streams newer than this VMSD carried it: they are refused
        yield F.FieldRemoved(
            path=path,
            line=(repl.line if repl else of.line),
            side=Side.NEW if repl else Side.OLD,
            vmsd=name,
            subject=of.name,
            field=of,
            replacement=repl,
        )
    minimum = v.minimum_version_id or 0
    for of, nf in changed:
        what = _what_changed(of, nf)
        if what is None:
            continue
        if what == "gate" and not _gate_breaks_old_streams(of, nf, minimum, ov):
            continue  # a version or test moved without changing what old streams hold
        if what == "gate" and nf.version is not None and nf.version > nv:
            continue  # never sent at all: reported as a field version above its VMSD
        yield F.FieldChanged(
            path=path, line=nf.line, vmsd=name, subject=nf.name, old=of, new=nf, what=what
        )
    misplaced_padding = any(repl is None for _, repl in removed)
    for nf, at_end in added:
        if nf.name in moved or (nf.is_unused and misplaced_padding):
            continue  # padding meant for a removed field: reported with that removal
        yield F.FieldAdded(
            path=path,
            line=nf.line,
            vmsd=name,
            subject=nf.name,
            field=nf,
            at_end=at_end,
            vmsd_version_old=ov,
            vmsd_version_new=nv,
            in_new_vmsd_version=nf.version is not None and nf.version > ov,
        )


def _swapped(
    path: str, name: str, old: Sequence[FieldModel], new: Sequence[FieldModel]
) -> Iterable[F.Fact]:
    """Same wire shapes, names permuted: the values trade places.

    Renamed members also leave the shapes alone, so only a permutation of the
    same distinct names counts.
    """
    differ = [k for k, (a, b) in enumerate(zip(old, new, strict=True)) if a.name != b.name]
    before = [old[k].name for k in differ]
    after = [new[k].name for k in differ]
    if len(differ) < 2 or sorted(before) != sorted(after) or len(set(before)) != len(before):
        return
    moved = sorted(before)
    first = min((new[k] for k in differ), key=lambda f: f.line)
    yield F.FieldsReordered(
        path=path, line=first.line, vmsd=name, subject=",".join(moved), names=tuple(moved)
    )


def _gate_breaks_old_streams(o: FieldModel, n: FieldModel, minimum: int, current: int) -> bool:
    """Whether some stream version still accepted now holds the field but is not read so.

    Old QEMUs send versions up to ``current``; the new one accepts from ``minimum``.
    """
    for version in range(max(minimum, 0), current + 1):
        held = version >= (o.version or 0)
        expected = version >= (n.version or 0)
        if held != expected:
            return True
    return False


def _what_changed(o: FieldModel, n: FieldModel) -> str | None:
    """What changed on the wire, or None when nothing certain did.

    A count the source cannot evaluate (a constant from a header) is not judged
    as changed: the same count is often spelt another way. The member holding a
    variable count is not sent. Buffer sizes spelt differently are reported: a
    buffer's size is its whole wire format.
    """
    if o.wire_key() == n.wire_key():
        return None
    if o.vmsd != n.vmsd:
        return "nested"
    if o.wire_shape()[0] != n.wire_shape()[0] and not _same_width_maybe(o, n):
        return "type"
    if (o.size != n.size or o.size_expr != n.size_expr) and not _same_width_maybe(o, n):
        return "size"
    if o.count != n.count and _countable(o.count) and _countable(n.count):
        return "count"
    if o.wire_shape()[-1] != n.wire_shape()[-1]:
        return "flags"
    if (o.version, o.test, o.condition) != (n.version, n.test, n.condition):
        return "gate"
    return None


def _countable(count: str | None) -> bool:
    """A literal element count (None is one element); ``@member`` counts are not sent."""
    return count is None or count.isdigit()


def _same_width_maybe(o: FieldModel, n: FieldModel) -> bool:
    """``VMSTATE_UINTTL`` is 4 or 8 bytes by target: against a fixed-width integer
    the change depends on the target's word size, which a file does not say."""
    infos = {o.info, n.info}
    return "uinttl" in infos and bool(infos & {"int32", "uint32", "int64", "uint64"})


def _subsection_facts(
    fm: FileModels,
    o: VmsdModel,
    v: VmsdModel,
    name: str,
    ctx: Context,
    props: Mapping[str, PropertyModel],
) -> Iterable[F.Fact]:
    assert fm.old is not None and fm.new is not None
    old_names = {ctx.name_of(s, fm.old, old=True): s for s in _subs(o, fm.old)}
    new_subs = _subs(v, fm.new)
    new_names = {ctx.name_of(s, fm.new): s for s in new_subs}
    for sname, sub in new_names.items():
        if sname in old_names or sub.ident in {s.ident for s in old_names.values()}:
            continue
        gate = _gate(sub.needed, fm.new, props)
        fn = fm.new.function(sub.needed) if sub.needed else None
        always = fn is not None and fn.returns_constant in ("true", "1")
        yield F.SubsectionAdded(
            path=fm.path,
            line=sub.line,
            vmsd=name,
            subject=sname,
            sub=sub,
            needed=None if always else sub.needed,
            gate=gate,
            new_parent=False,
        )
    new_idents = {s.ident for s in new_subs}
    for sname, sub in old_names.items():
        if sname not in new_names and sub.ident not in new_idents:
            yield F.SubsectionRemoved(
                path=fm.path,
                line=v.subsections_line or v.line,
                vmsd=name,
                subject=sname,
                sub_name=sname,
            )
    # A subsection list naming a VMSD from another file cannot be checked here.


def _subs(v: VmsdModel, model: FileModel) -> list[VmsdModel]:
    return [s for s in (model.vmsd(i) for i in v.subsections) if s is not None]


def _gate(needed: str | None, model: FileModel, props: Mapping[str, PropertyModel]) -> str | None:
    """The property-backed member a ``.needed``/test function reads, if any."""
    if needed is None:
        return None
    fn = model.function(needed)
    if fn is None:
        return None
    members = {_leaf(p.member) for p in props.values() if p.member} | {
        _leaf(p.member) for p in model.properties if p.member
    }
    hit = sorted(fn.members & members)
    if hit:
        return hit[0]
    return _gate_through_calls(fn, model, members)


def _leaf(member: str) -> str:
    """``qdev.migrate_pr`` -> ``migrate_pr``: what a function reads as ``s->qdev.migrate_pr``."""
    return re.split(r"\.|->", member)[-1].strip()


def _instance_struct(model: FileModel, ident: str) -> str | None:
    inits = {r.function for r in model.registrations if r.vmsd == ident and r.kind == "dc->vmsd"}
    found = {t.instance for t in model.types if t.class_init in inits and t.instance}
    return found.pop() if len(found) == 1 else None


def _reads_runtime_state(needed: str, model: FileModel) -> bool:
    """True when a ``.needed`` reads device state rather than configuration.

    A test of a property or of a machine-class flag (a global, no member read)
    is configuration: dropping it once the old machine types are gone is cleanup.
    """
    fn = model.function(needed)
    if fn is None or not fn.members:
        return False
    return _gate(needed, model, _props_by_name([model])) is None


def _gate_through_calls(fn: FunctionSummary, model: FileModel, members: set[str]) -> str | None:
    for callee in fn.identifiers:
        other = model.function(callee)
        if other is not None and other is not fn:
            hit = sorted(other.members & members)
            if hit:
                return hit[0]
    return None


def _moved_vmsd_facts(files: Sequence[FileModels], ctx: Context) -> Iterable[F.Fact]:
    """A VMSD that left one file and arrived in another: compare the two."""
    gone: dict[str, tuple[FileModels, VmsdModel]] = {}
    for fm in files:
        if fm.old is None:
            continue
        for o in fm.old.vmsds:
            if fm.new is None or fm.new.vmsd(o.ident) is None:
                gone[o.ident] = (fm, o)
    for fm in files:
        if fm.new is None:
            continue
        for v in fm.new.vmsds:
            if fm.old is not None and fm.old.vmsd(v.ident) is not None:
                continue
            if v.ident in gone:
                src, o = gone[v.ident]
                assert src.old is not None
                pair = FileModels(fm.path, src.old, fm.new, changed_new=fm.changed_new)
                yield from _compare_vmsd(pair, o, v, ctx.name_of(v, fm.new), ctx, set(), {})


# --- compat arrays ----------------------------------------------------------------


def _newest(arrays: Iterable[CompatArray], family: str) -> CompatArray | None:
    same = [a for a in arrays if a.family == family and a.version is not None]
    return max(same, key=lambda a: a.version or (0, 0), default=None)


def _compat_facts(fm: FileModels, files: Sequence[FileModels]) -> Iterable[F.Fact]:
    old_arrays = {a.name: a for a in fm.old.compat_arrays} if fm.old else {}
    new_arrays = {a.name: a for a in fm.new.compat_arrays} if fm.new else {}
    if not old_arrays and not new_arrays:
        return
    old_entries = {(e.key, a): e for a, arr in old_arrays.items() for e in arr.entries}
    new_entries = {(e.key, a): e for a, arr in new_arrays.items() for e in arr.entries}
    added = {k: e for k, e in new_entries.items() if k not in old_entries}
    removed = {k: e for k, e in old_entries.items() if k not in new_entries}
    for k, e in new_entries.items():
        before = old_entries.get(k)
        if before is not None and before.value != e.value:
            yield F.CompatEntryValueChanged(
                path=fm.path, line=e.line, subject=_entry_subject(e), old=before, new=e
            )
    for (key, aname), e in list(added.items()):
        src = next(((k, a) for (k, a) in removed if k == key), None)
        if src is None:
            continue
        new_arr = new_arrays[aname]
        del removed[src]
        del added[(key, aname)]
        # Moving a misplaced entry into the newest array is the fix of MIG019;
        # an unversioned array (a machine's defaults) renamed is no move at all.
        old_arr = old_arrays[src[1]]
        narrowed = (
            old_arr.version is not None
            and new_arr.version is not None
            and aname != _newest_name(fm.new, new_arrays.values(), new_arr)
        )
        yield F.CompatEntryMoved(
            path=fm.path,
            line=e.line,
            subject=_entry_subject(e),
            entry=e,
            old_array=src[1],
            new_array=aname,
            narrowed=narrowed,
        )
    for (_key, aname), e in added.items():
        arr = new_arrays[aname]
        newest = _newest_name(fm.new, new_arrays.values(), arr)
        if newest is not None and newest not in old_arrays and newest in new_arrays:
            # The change itself opens a new release ("hw: add compat machines"):
            # entries made before that point in the range belong one array down.
            previous = _newest_name(fm.old, old_arrays.values(), arr)
            if previous == aname:
                newest = aname
        yield F.CompatEntryAdded(
            path=fm.path,
            line=e.line,
            subject=_entry_subject(e),
            entry=e,
            newest=newest,
            array_is_new=aname not in old_arrays,
        )
    for (_key, aname), e in removed.items():
        yield F.CompatEntryRemoved(
            path=fm.path,
            line=e.line,
            side=Side.OLD,
            subject=_entry_subject(e),
            entry=e,
            array_removed=aname not in new_arrays,
        )


def _newest_name(
    model: FileModel | None, arrays: Iterable[CompatArray], arr: CompatArray
) -> str | None:
    """The array a change of this cycle belongs in.

    In a machine file (pseries, s390x keep local arrays) that is the newest
    released machine version of the file: every version but the latest. In
    hw/core/machine.c and hw/i386/pc.c it is the newest array.
    """
    if model is not None and model.machines and arr.version is not None:
        versions = sorted({m.version[:2] for m in model.machines})
        if len(versions) >= 2:
            major, minor = versions[-2]
            same = [a for a in arrays if a.family == arr.family and a.version == (major, minor)]
            if same:
                return same[0].name
            return f"the {major}.{minor} machine options"
    newest = _newest(arrays, arr.family)
    return newest.name if newest else None


def _entry_subject(e: CompatEntry) -> str:
    return f"{e.driver or e.driver_expr}.{e.prop}"


def _compat_added(files: Sequence[FileModels]) -> dict[str, list[CompatEntry]]:
    """Compat entries added anywhere in the change, by property name."""
    out: dict[str, list[CompatEntry]] = {}
    for fm in files:
        if fm.new is None:
            continue
        old = {
            (e.key, e.array) for a in (fm.old.compat_arrays if fm.old else ()) for e in a.entries
        }
        for arr in fm.new.compat_arrays:
            for e in arr.entries:
                if (e.key, e.array) not in old:
                    out.setdefault(e.prop, []).append(e)
    return out


# --- properties ---------------------------------------------------------------------

_ON = {"true", "1", "ON_OFF_AUTO_ON", "on"}


def _props_by_name(models: Iterable[FileModel | None]) -> dict[str, PropertyModel]:
    return {p.name: p for m in models if m is not None for p in m.properties}


def _property_facts(
    fm: FileModels, compat_added: Mapping[str, list[CompatEntry]]
) -> Iterable[F.Fact]:
    if fm.new is None or fm.old is None:
        return
    old = {(p.array, p.name, p.condition): p for p in fm.old.properties}
    old_arrays = {p.array for p in fm.old.properties}
    for p in fm.new.properties:
        before = old.get((p.array, p.name, p.condition))
        compat = tuple(compat_added.get(p.name, ()))
        if before is None:
            if p.array in old_arrays:
                yield F.PropertyAdded(
                    path=fm.path, line=p.line, subject=p.name, prop=p, compat=compat
                )
        elif before.default != p.default and before.member == p.member:
            yield F.PropertyDefaultChanged(
                path=fm.path, line=p.line, subject=p.name, old=before, new=p, compat=compat
            )


def _nested_bumps_refused_cleanly(facts: list[F.Fact]) -> list[F.Fact]:
    """A nested bump is clean when every parent also refuses the old streams.

    Nested versions are not on the wire, but a parent whose minimum version
    rises above its old version refuses old streams (and an older QEMU refuses
    the new one) with a clear error: plain versioning, judged by tier.
    """
    refusing = {
        f.vmsd
        for f in facts
        if isinstance(f, F.MinimumVersionRaised) and f.new > int(f.subject or 0)
    }
    out: list[F.Fact] = []
    for f in facts:
        if isinstance(f, F.VersionBumped) and f.nested_in and set(f.nested_in) <= refusing:
            f = replace(f, nested_in=())
        out.append(f)
    return out


def _gates_without_compat(facts: list[F.Fact]) -> list[F.Fact]:
    """A subsection gated by a property this change adds, on by default, with no
    compat entry: old machine types get it too, so nothing gates it by machine."""
    unpinned = {
        _leaf(f.prop.member)
        for f in facts
        if isinstance(f, F.PropertyAdded)
        and f.prop.member
        and not f.compat
        and f.prop.default in ("true", "ON_OFF_AUTO_ON")
        # an "x-" compat knob without its entry is reported as such (MIG023)
        and not f.prop.name.startswith("x-")
    }
    return [
        replace(f, gate=None) if isinstance(f, F.SubsectionAdded) and f.gate in unpinned else f
        for f in facts
    ]


def _compat_done_right(facts: Sequence[F.Fact]) -> Iterable[F.Fact]:
    wrong = {f.entry.prop for f in facts if isinstance(f, F.CompatEntryWrongDriver)}
    facts = [f for f in facts if not (isinstance(f, F.PropertyAdded) and f.prop.name in wrong)]
    gates = [f for f in facts if isinstance(f, F.SubsectionAdded) and f.gate]
    tests = [f for f in facts if isinstance(f, F.FieldAdded) and f.field.test]
    newest_entries = [
        f for f in facts if isinstance(f, F.CompatEntryAdded) and f.newest == f.entry.array
    ]
    for pf in facts:
        if not isinstance(pf, F.PropertyAdded):
            continue
        entry = next((e.entry for e in newest_entries if e.entry.prop == pf.prop.name), None)
        if entry is None:
            continue
        gate = next(
            (f"subsection {g.subject}" for g in gates if g.gate == _leaf(pf.prop.member or "")),
            None,
        ) or next((f"_TEST field {t.subject}" for t in tests), None)
        if gate is None:
            continue
        yield F.CompatDoneRight(
            path=pf.path, line=pf.line, subject=pf.prop.name, prop=pf.prop, entry=entry, gate=gate
        )


def _wrong_driver(
    files: Sequence[FileModels],
    compat_added: Mapping[str, list[CompatEntry]],
    resolve: NameResolver,
) -> Iterable[F.Fact]:
    """A compat entry for a property added in this change, naming another type.

    Compat entries match by QOM cast: naming a subclass misses the siblings
    that inherit the property; naming a parent reaches subclasses that lack it.
    """
    defined: dict[str, set[str]] = {}
    unresolved: set[str] = set()
    for fm in files:
        if fm.new is None:
            continue
        old = {(p.array, p.name) for p in fm.old.properties} if fm.old else set()
        for p in fm.new.properties:
            if (p.array, p.name) in old or p.name not in compat_added:
                continue
            for t in fm.new.types_with_props(p.array):
                name = resolve(t.name) or t.name
                if name.startswith("TYPE_"):
                    unresolved.add(p.name)
                defined.setdefault(p.name, set()).add(name)
    for prop, types in defined.items():
        if prop in unresolved:
            continue  # a type name that cannot be resolved: say nothing
        drivers = {e.driver or resolve(e.driver_expr) for e in compat_added[prop]}
        uncovered = sorted(types - {d for d in drivers if d})
        if len(types) > 1 and uncovered and drivers & types:
            # The property went to several types and the entries name some of them:
            # the others get the new behaviour on old machine types.
            first = compat_added[prop][0]
            yield F.CompatEntryWrongDriver(
                path=_path_of(files, first),
                line=first.line,
                subject=f"uncovered.{prop}",
                entry=replace(first, driver=", ".join(sorted(d for d in drivers if d))),
                types=tuple(uncovered),
            )
            continue
        for e in compat_added[prop]:
            driver = e.driver or resolve(e.driver_expr)
            if driver is None or driver in types:
                continue
            yield F.CompatEntryWrongDriver(
                path=_path_of(files, e),
                line=e.line,
                subject=f"{driver}.{e.prop}",
                entry=e,
                types=tuple(sorted(types)),
            )


def _path_of(files: Sequence[FileModels], e: CompatEntry) -> str:
    for fm in files:
        if fm.new is not None and any(a.name == e.array for a in fm.new.compat_arrays):
            return fm.path
    return files[0].path


_MACHINE_OPTIONS = re.compile(r"_machine_(?P<major>\d+)_(?P<minor>\d+)_(?:class_)?options$")


def _renamed_types(fm: FileModels, files: Sequence[FileModels], ctx: Context) -> Iterable[F.Fact]:
    """A ``#define TYPE_FOO "..."`` whose string changed renames the sections named by it."""
    if fm.old is None or fm.new is None:
        return
    old, new = dict(fm.old.string_defines), dict(fm.new.string_defines)
    for macro in sorted(old.keys() & new.keys()):
        if old[macro] == new[macro] or not macro.startswith("TYPE_"):
            continue
        users = {
            other.path
            for other in files
            if other.new is not None and any(v.name_expr == macro for v in other.new.vmsds)
        } | set(ctx.vmsds_named(macro))
        for path in sorted(users):
            yield F.VmsdRenamed(
                path=path,
                line=None,
                side=Side.FILE,
                vmsd=new[macro],
                subject=old[macro],
                old_name=old[macro],
                new_name=new[macro],
            )


def _compat_not_applied(fm: FileModels) -> Iterable[F.Fact]:
    """A non-latest machine version whose options stop applying hw_compat_X_Y."""
    if fm.new is None or not fm.new.machines or fm.old is None:
        return
    latest = max(m.version[:2] for m in fm.new.machines)
    for fn in fm.new.functions:
        m = _MACHINE_OPTIONS.search(fn.name)
        if m is None:
            continue
        version = (int(m.group("major")), int(m.group("minor")))
        before = fm.old.function(fn.name)
        deleted = before is not None and any(
            before.line <= ln <= before.end_line for ln in fm.changed_old
        )
        if version >= latest or not (
            deleted or any(fn.line <= ln <= fn.end_line for ln in fm.changed_new)
        ):
            continue
        array = f"hw_compat_{version[0]}_{version[1]}"
        if array in fn.identifiers:
            continue
        yield F.CompatArrayNotApplied(
            path=fm.path, line=fn.line, subject=fn.name, function=fn.name, array=array
        )


def _struct_mismatch(fm: FileModels, v: VmsdModel, name: str) -> Iterable[F.Fact]:
    """A field of a touched VMSD whose offset is taken in another struct.

    The expected struct is the instance struct of the QOM type that registers
    the VMSD as ``dc->vmsd``, else the one nearly every other field uses.
    """
    states = [f.state for f in v.wire_fields if f.state]
    if not states:
        return
    majority = _instance_struct(fm.new, v.ident) if fm.new is not None else None
    if majority is None:
        if len(states) < 3:
            return
        majority, count = collections.Counter(states).most_common(1)[0]
        if count < len(states) - 1 or count < 2:
            return
    for f in v.wire_fields:
        if f.state and f.state != majority and f.line in fm.changed_new:
            yield F.FieldStructMismatch(
                path=fm.path,
                line=f.line,
                vmsd=name,
                subject=f.name,
                field=f,
                state=f.state,
                expected=majority,
            )


# --- registrations and twins --------------------------------------------------------


def _registration_facts(fm: FileModels, files: Sequence[FileModels]) -> Iterable[F.Fact]:
    """A VMSD that becomes a section twice: embedded by a registered parent, or
    registered by hand as well as through ``dc->vmsd``.

    Sibling classes sharing one VMSD through ``dc->vmsd`` are fine: each
    instance is one section.
    """
    if fm.new is None or fm.old is None:
        return
    old = {(r.kind, r.vmsd, r.function) for r in fm.old.registrations}
    nested_anywhere = {
        f.vmsd: v.ident
        for other in files
        if other.new is not None
        for v in other.new.vmsds
        for f in v.fields
        if f.vmsd
    }
    for r in fm.new.registrations:
        if (r.kind, r.vmsd, r.function) in old:
            continue
        others: list[str] = []
        if r.kind == "dc->vmsd" and r.vmsd in nested_anywhere:
            others.append(f"embedded in {nested_anywhere[r.vmsd]}")
        others.extend(
            f"{o.kind} in {o.function or 'file scope'}"
            for o in fm.new.registrations
            if o.vmsd == r.vmsd and o.kind != r.kind
        )
        if others:
            yield F.SecondRegistration(
                path=fm.path,
                line=r.line,
                vmsd=r.vmsd,
                subject=r.vmsd,
                registration=r,
                others=tuple(others),
            )


def _twin_facts(files: Sequence[FileModels], ctx: Context) -> Iterable[F.Fact]:
    migration_paths = {
        fm.path for fm in files if fm.new is not None and fm.old is not None and _state_changed(fm)
    } | set(ctx.rust_vmstate_paths)
    for c_path, rust_dir in ctx.twins:
        c_hit = c_path in migration_paths
        rust_hit = any(p.startswith(rust_dir) for p in migration_paths)
        rust_touched = any(p.startswith(rust_dir) for p in ctx.changed_paths)
        c_touched = c_path in ctx.changed_paths
        if c_hit and not rust_touched:
            yield F.RustTwinOneSided(
                path=c_path, line=None, side=Side.FILE, subject=rust_dir, twin=rust_dir
            )
        elif rust_hit and not c_touched:
            path = next(p for p in migration_paths if p.startswith(rust_dir))
            yield F.RustTwinOneSided(
                path=path, line=None, side=Side.FILE, subject=c_path, twin=c_path
            )


def _state_changed(fm: FileModels) -> bool:
    """Whether the file's migration state (any VMSD's version, fields, subsections) changed."""
    assert fm.old is not None and fm.new is not None
    return _state_of(fm.old) != _state_of(fm.new)


def _state_of(model: FileModel) -> list[tuple[object, ...]]:
    return [
        (v.ident, v.version_id, [f.wire_key() for f in v.fields], v.subsections)
        for v in model.vmsds
    ]
