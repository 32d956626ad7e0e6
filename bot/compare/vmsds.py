"""Facts about VMSDs and their fields: added, removed, resized, reordered, versioned."""

from __future__ import annotations

import collections
import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from bot.compare import facts as F
from bot.compare.context import Context, FileModels
from bot.compare.subsections import instance_struct, reads_runtime_state, subsection_facts
from bot.findings import Side
from bot.scanner.model import (
    FieldModel,
    FileModel,
    PropertyModel,
    VmsdModel,
)


def _role(v: VmsdModel, model: FileModel) -> str:
    """``subsection``, ``nested`` (embedded with VMSTATE_STRUCT*) or ``section``."""
    if any(v.ident in other.subsections for other in model.vmsds):
        return "subsection"
    if any(f.vmsd == v.ident for other in model.vmsds for f in other.fields):
        return "nested"
    return "section"


def _touched(v: VmsdModel, lines: frozenset[int]) -> bool:
    return any(v.line <= ln <= v.end_line for ln in lines)


def vmsd_facts(
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
        if o is not None and fm.old is not None and _role(o, fm.old) != _role(v, new):
            # The identifier now names another VMSD: a nested one renamed and its
            # old name reused for a subsection (or the reverse). Nested names are
            # not on the wire; the subsection is new, and judged as such.
            o = None
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
            before = old_fields.get(f.name)
            was = fm.old.function(f.test) if fm.old is not None else None
            if before is not None and before.test == f.test and was and was.compares_version_eq:
                continue  # the tree had it so: a line reformatted is no new gate
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
    yield from field_facts(
        path,
        o,
        v,
        name,
        refuses_old_streams,
        lambda test: (
            not reads_runtime_state(test, old_model) and old_model.function(test) is not None
        ),
        renamed_tests(o, v, fm.old, fm.new),
    )
    yield from subsection_facts(fm, o, v, name, ctx, props)
    if (
        o.needed
        and not v.needed
        and v.ident in subsection_idents
        and reads_runtime_state(o.needed, fm.old)
    ):
        # A property-gated subsection losing its .needed is the cleanup after the
        # compat entries that switched it off went away with their machine types.
        yield F.NeededRemoved(path=path, line=v.line, vmsd=name, subject=name, function=o.needed)


def renamed_tests(o: VmsdModel, v: VmsdModel, old: FileModel, new: FileModel) -> dict[str, str]:
    """``_TEST`` predicates renamed by the change (old name -> new name): the old
    function is gone from the file and the new one was not there, paired in the
    order the field lists use them. A predicate renamed with the member it reads
    still gates the same bytes."""
    gone = [
        f.test
        for f in o.fields
        if f.test and new.function(f.test) is None and old.function(f.test) is not None
    ]
    born = [
        f.test
        for f in v.fields
        if f.test and old.function(f.test) is None and new.function(f.test) is not None
    ]
    gone, born = list(dict.fromkeys(gone)), list(dict.fromkeys(born))
    if len(gone) != len(born):
        return {}
    return dict(zip(gone, born, strict=True))


def field_facts(
    path: str,
    o: VmsdModel,
    v: VmsdModel,
    name: str,
    refuses_old_streams: bool,
    config_gated: Callable[[str], bool] = lambda _test: False,
    tests_renamed: Mapping[str, str] | None = None,
) -> Iterable[F.Fact]:
    if refuses_old_streams:
        return  # every old stream is refused, cleanly: judged as the minimum version raise
    old = list(o.wire_fields)
    if tests_renamed:
        old = [
            replace(f, test=tests_renamed[f.test]) if f.test and f.test in tests_renamed else f
            for f in old
        ]
    new = list(v.wire_fields)
    if any(not f.understood for f in old + new):
        return  # reported as not understood instead of guessed
    old = _with_states_renamed(old, new)
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
        used: set[int] = set()
        gone: list[FieldModel] = []
        for of in olds:
            # Several entries may share a member's name (sub-arrays of one
            # register file): the first one not taken yet, in list order.
            nf = next((n for n in news if n.name == of.name and id(n) not in used), None)
            if nf is not None:
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
            # Only sent when a configuration test said so (a compat property):
            # it goes away with that configuration, cleanup rather than layout.
            config_gated=bool(of.test and config_gated(of.test)),
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


def _with_states_renamed(old: list[FieldModel], new: list[FieldModel]) -> list[FieldModel]:
    """The old fields with their struct spelt as the new side spells it, where the
    struct was only renamed (``FooState`` -> ``FooDevState`` for every field).

    A size taken as ``sizeof(typeof_field(FooState, buf))`` names the struct; a
    rename of the whole struct leaves every member's size alone. A struct that
    is still used on the new side, or one that splits into two, is no rename.
    """
    olds = {f.state for f in old if f.state}
    news = {f.state for f in new if f.state}
    by_name = {f.name: f for f in new}
    renames: dict[str, str] = {}
    for f in old:
        n = by_name.get(f.name)
        if f.state is None or n is None or n.state is None or n.state == f.state:
            continue
        if renames.setdefault(f.state, n.state) != n.state:
            return old
    renames = {a: b for a, b in renames.items() if a not in news and b not in olds}
    if not renames:
        return old
    spelt = re.compile(r"\b(" + "|".join(map(re.escape, renames)) + r")\b")
    return [
        replace(
            f,
            state=renames.get(f.state, f.state) if f.state else None,
            size_expr=spelt.sub(lambda m: renames[m.group(1)], f.size_expr)
            if f.size_expr
            else None,
        )
        for f in old
    ]


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


def moved_vmsd_facts(files: Sequence[FileModels], ctx: Context) -> Iterable[F.Fact]:
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


def _struct_mismatch(fm: FileModels, v: VmsdModel, name: str) -> Iterable[F.Fact]:
    """A field of a touched VMSD whose offset is taken in another struct.

    The expected struct is the instance struct of the QOM type that registers
    the VMSD as ``dc->vmsd``, else the one nearly every other field uses.
    """
    states = [f.state for f in v.wire_fields if f.state]
    if not states:
        return
    majority = instance_struct(fm.new, v.ident) if fm.new is not None else None
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
