"""Compare the old and new models of a change into typed facts.

Pure: models and a little context in, facts out. Whether a fact is allowed is
the judge's business (it depends on the tier). Each concern has its module;
this one runs them and settles what only the whole set of facts shows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from bot.compare import facts as F
from bot.compare.compat import (
    compat_facts,
    compat_not_applied,
    entries_added_by_prop,
    with_resolved_props,
    wrong_driver,
)
from bot.compare.context import Context, FileModels
from bot.compare.properties import property_facts, props_by_name
from bot.compare.registrations import registration_facts, renamed_types, twin_facts
from bot.compare.subsections import leaf
from bot.compare.vmsds import moved_vmsd_facts, vmsd_facts
from bot.scanner.model import FieldModel, VmsdModel


def compare(files: Sequence[FileModels], ctx: Context) -> list[F.Fact]:
    out: list[F.Fact] = []
    files = [with_resolved_props(fm, ctx.resolve, ctx.resolve_old) for fm in files]
    new_props = props_by_name(f.new for f in files)
    compat_added = entries_added_by_prop(files)
    for fm in files:
        out.extend(vmsd_facts(fm, files, ctx, new_props))
        out.extend(compat_facts(fm, files))
        out.extend(property_facts(fm, compat_added))
        out.extend(registration_facts(fm, files))
    out.extend(moved_vmsd_facts(files, ctx))
    out.extend(twin_facts(files, ctx))
    for fm in files:
        out.extend(compat_not_applied(fm))
        out.extend(renamed_types(fm, files, ctx))
    out = _nested_bumps_refused_cleanly(out)
    out = _covered_by_refusal(out, files, ctx)
    out = _same_bytes_on_the_wire(out, files, ctx)
    out = _gates_retired(out, files, ctx)
    out = _retired_with_their_property(out, files, ctx)
    out = _gates_without_compat(out)
    out.extend(wrong_driver(files, compat_added, ctx.resolve, ctx.aliased_by))
    out.extend(_compat_done_right(out))
    return out


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


_COVERED_BY_REFUSAL = (
    F.FieldAdded,
    F.FieldRemoved,
    F.FieldChanged,
    F.FieldsReordered,
    F.SubsectionAdded,
    F.SubsectionRemoved,
    F.NeededRemoved,
    F.VersionBumped,
)


def _covered_by_refusal(
    facts: list[F.Fact], files: Sequence[FileModels], ctx: Context
) -> list[F.Fact]:
    """A VMSD whose minimum version rises above its old version refuses every old
    stream, and old QEMUs refuse its new ones: whatever else changed in it is
    covered by that one clean refusal, which is the one thing to judge.

    A nested VMSD (``VMSTATE_STRUCT``) or a subsection is loaded only inside its
    parents' sections: a refusal by every parent covers it too."""
    refusing = {
        f.vmsd
        for f in facts
        if isinstance(f, F.MinimumVersionRaised) and f.vmsd and f.new > int(f.subject or 0)
    }
    if refusing:
        refusing |= _embedded_only_in(refusing, facts, files, ctx)
    return [f for f in facts if not (isinstance(f, _COVERED_BY_REFUSAL) and f.vmsd in refusing)]


def _embedded_only_in(
    parents: set[str], facts: list[F.Fact], files: Sequence[FileModels], ctx: Context
) -> set[str]:
    """Names of the VMSDs with facts that are loaded only inside ``parents``, as
    nested VMSDs or as subsections (and are no section of their own), through
    nested VMSDs of nested VMSDs too."""
    judged = {f.vmsd for f in facts if isinstance(f, _COVERED_BY_REFUSAL) and f.vmsd} - parents
    users: dict[str, set[str]] = {}
    for fm in files:
        if fm.new is None:
            continue
        model = fm.new
        sections = {r.vmsd for r in model.registrations}
        for v in model.vmsds:
            name = ctx.name_of(v, model)
            if name not in judged or v.ident in sections:
                continue
            holders = set(ctx.nested_users(v.ident)) | {
                ctx.name_of(p, model) for p in model.vmsds if v.ident in p.subsections
            }
            if holders:
                users.setdefault(name, set()).update(holders)
    covered: set[str] = set()
    grew = True
    while grew:
        grew = False
        for name, holders in users.items():
            if name not in covered and holders <= parents | covered:
                covered.add(name)
                grew = True
    return covered


_LAYOUT_FACTS = (F.FieldAdded, F.FieldRemoved, F.FieldChanged)


Size = int | tuple[str | None, str | None]
"""Bytes a field sends, or how its source spells them when no number is known
(``VMSTATE_BUFFER``'s ``sizeof`` of a member, a count from a header)."""


def _size(f: FieldModel) -> Size | None:
    size = f.wire_bytes()
    if size is not None:
        return size
    if f.vmsd is not None or (f.size is None and not f.size_expr):
        return None
    # Spelt the same on both sides, it sends the same bytes; a constant or a
    # member resized elsewhere is judged as a wire size changed from a distance.
    return (f.count, f.size_expr if f.size is None else str(f.size))


def _grow(run: tuple[Size, ...], size: Size) -> tuple[Size, ...]:
    """A run of unconditional bytes, known sizes added up, spelt ones kept in place."""
    if isinstance(size, int) and run and isinstance(run[-1], int):
        return (*run[:-1], run[-1] + size)
    return (*run, size)


def _layout(v: VmsdModel) -> tuple[object, ...] | None:
    """What the stream of a VMSD's field list is made of, names left out: runs of
    unconditional bytes, and each conditional field with its gate. None when a
    size is not known (then fields are judged one by one)."""
    out: list[object] = []
    run: tuple[Size, ...] = ()
    for f in v.wire_fields:
        size = _size(f)
        if size is None or f.vmsd is not None:
            return None
        if f.version is None and f.test is None:
            run = _grow(run, size)
            continue
        if run:
            out.append(run)
            run = ()
        out.append((f.version, f.test, size))
    if run:
        out.append(run)
    return tuple(out)


Place = tuple[int, tuple[Size, ...], Size, bool]


def _value_places(v: VmsdModel) -> dict[str, list[Place]]:
    """Where each named field's value sits in the stream: (conditional items before
    it, what precedes it in its unconditional run, bytes, whether those are a byte
    buffer). Only called on a known layout."""
    places: dict[str, list[Place]] = {}
    gates = 0
    offset: tuple[Size, ...] = ()
    for f in v.wire_fields:
        size = _size(f) or 0
        if f.version is None and f.test is None:
            if not f.is_unused:
                places.setdefault(f.name, []).append((gates, offset, size, f.info == "buffer"))
            offset = _grow(offset, size)
        else:
            gates += 1
            offset = ()
    return places


def _stays(old: Place, new: Place) -> bool:
    """A byte buffer cut short keeps its first bytes where they were (its tail
    read by the fields carved out of it); any other value needs its own bytes."""
    if old[:2] != new[:2]:
        return False
    if old[2] == new[2]:
        return True
    return (old[3] and new[3] and isinstance(old[2], int) and isinstance(new[2], int)) and new[
        2
    ] < old[2]


def _values_stay(o: VmsdModel, v: VmsdModel) -> bool:
    """Whether every member kept by name is still read from the bytes it was sent
    in: an ``int32`` widened to ``int64`` over the bytes of a dropped neighbour
    keeps the byte count but reads a different value."""
    old, new = _value_places(o), _value_places(v)
    return all(_stays(old[name][0], new[name][0]) for name in old.keys() & new.keys())


def _same_bytes_on_the_wire(
    facts: list[F.Fact], files: Sequence[FileModels], ctx: Context
) -> list[F.Fact]:
    """Field names are not on the wire: a list rewritten so that the same bytes go
    out in the same places (one ``VMSTATE_UNUSED`` for several retired fields, a
    buffer split into fields, a size spelt another way) changes no stream."""
    same: set[tuple[str, str]] = set()
    for fm in files:
        if fm.old is None or fm.new is None:
            continue
        old = {ctx.name_of(v, fm.old, old=True): v for v in fm.old.vmsds}
        for v in fm.new.vmsds:
            name = ctx.name_of(v, fm.new)
            o = old.get(name)
            if o is None or o.fields == v.fields:
                continue
            if sorted(f.name for f in o.wire_fields) == sorted(f.name for f in v.wire_fields):
                continue  # the same fields in another order: values land in each other's place
            layout = _layout(v)
            if layout is not None and layout == _layout(o) and _values_stay(o, v):
                same.add((fm.path, name))
    return [f for f in facts if not (isinstance(f, _LAYOUT_FACTS) and (f.path, f.vmsd) in same)]


def _gates_retired(facts: list[F.Fact], files: Sequence[FileModels], ctx: Context) -> list[F.Fact]:
    """A field sent only when its ``_TEST`` predicate said so, removed along with
    every flag the predicate read (``cpu->pre_2_8_migration``): the machine types
    that set the flag are gone (their compat arrays or options went first, or in
    the same change), so no registered machine type sends or expects the field.
    Were they still registered, the flag's compat entries would be reported as
    removed from a live array (MIG020)."""
    olds = {fm.path: fm.old for fm in files}
    out: list[F.Fact] = []
    for f in facts:
        if isinstance(f, F.FieldRemoved) and f.field.test and f.replacement is None:
            model = olds.get(f.path)
            predicate = model.function(f.field.test) if model is not None else None
            flags = tuple(sorted(predicate.members)) if predicate is not None else ()
            if flags and not any(ctx.mentioned(flag) for flag in flags):
                out.append(
                    F.GateRetired(
                        path=f.path,
                        line=f.line,
                        side=f.side,
                        vmsd=f.vmsd,
                        subject=f.subject,
                        inner=f,
                        flags=flags,
                    )
                )
                continue
        if isinstance(f, F.FieldRemoved) and f.config_gated:
            continue  # its configuration is still in the tree: the compat checks judge it
        out.append(f)
    return out


def _retired_with_their_property(
    facts: list[F.Fact], files: Sequence[FileModels], ctx: Context
) -> list[F.Fact]:
    """A compat entry removed along with the property it set: the change deletes the
    property's definition and the head tree spells its name nowhere, so the
    behaviour it pinned is gone for every machine type (a feature removed after
    its deprecation) and the entry could no longer be applied."""
    had = {p.name for fm in files if fm.old is not None for p in fm.old.properties}
    has = {p.name for fm in files if fm.new is not None for p in fm.new.properties}
    gone = had - has
    return [
        f
        for f in facts
        if not (
            isinstance(f, F.CompatEntryRemoved)
            and f.entry.prop in gone
            and not ctx.mentioned(f.entry.prop)
        )
    ]


def _gates_without_compat(facts: list[F.Fact]) -> list[F.Fact]:
    """A subsection gated by a property this change adds, on by default, with no
    compat entry: old machine types get it too, so nothing gates it by machine."""
    unpinned = {
        leaf(f.prop.member)
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
            (f"subsection {g.subject}" for g in gates if g.gate == leaf(pf.prop.member or "")),
            None,
        ) or next((f"_TEST field {t.subject}" for t in tests), None)
        if gate is None:
            continue
        yield F.CompatDoneRight(
            path=pf.path, line=pf.line, subject=pf.prop.name, prop=pf.prop, entry=entry, gate=gate
        )
