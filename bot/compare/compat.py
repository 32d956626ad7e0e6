"""Facts about compat arrays and their entries: where they go, what they hit."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from bot.compare import facts as F
from bot.compare.context import FileModels, NameResolver
from bot.compare.properties import same_value
from bot.findings import Side
from bot.scanner.model import (
    CompatArray,
    CompatEntry,
    FileModel,
)

_MACRO = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def with_resolved_props(
    fm: FileModels, resolve: NameResolver, resolve_old: NameResolver
) -> FileModels:
    """``fm`` with compat entries whose property is a macro (``{ "ICH9-LPC",
    ACPI_PM_PROP_FOO, "off" }``) given the string it stands for, so that spelling
    a property by its macro instead of its string is no removal and addition."""

    def fix(model: FileModel | None, res: NameResolver) -> FileModel | None:
        if model is None or not model.compat_arrays:
            return model
        arrays = []
        changed = False
        for arr in model.compat_arrays:
            entries = []
            for e in arr.entries:
                value = res(e.prop) if _MACRO.match(e.prop) else None
                if value is not None and value != e.prop:
                    e = replace(e, prop=value)
                    changed = True
                entries.append(e)
            arrays.append(replace(arr, entries=tuple(entries)))
        return replace(model, compat_arrays=tuple(arrays)) if changed else model

    new, old = fix(fm.new, resolve), fix(fm.old, resolve_old)
    if new is fm.new and old is fm.old:
        return fm
    return replace(fm, new=new, old=old)


def _newest(arrays: Iterable[CompatArray], family: str) -> CompatArray | None:
    same = [a for a in arrays if a.family == family and a.version is not None]
    return max(same, key=lambda a: a.version or (0, 0), default=None)


def compat_facts(fm: FileModels, files: Sequence[FileModels]) -> Iterable[F.Fact]:
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
        if before is not None and not same_value(before.value, e.value):
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
    # The same setting moved to other drivers of one array (a parent type to the
    # subclasses that own the property, an alias to its canonical name): the
    # machine types are the same, so it is no removal, and no new placement.
    for (key, aname), e in list(removed.items()):
        to = [
            (k, a)
            for (k, a), n in added.items()
            if a == aname and k[1] == key[1] and k[0] != key[0] and same_value(n.value, e.value)
        ]
        if not to:
            continue
        del removed[(key, aname)]
        for k in to:
            moved = added.pop(k)
            yield F.CompatEntryMoved(
                path=fm.path,
                line=moved.line,
                subject=_entry_subject(moved),
                entry=moved,
                old_array=aname,
                new_array=aname,
                narrowed=False,
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


def entries_added_by_prop(files: Sequence[FileModels]) -> dict[str, list[CompatEntry]]:
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


def wrong_driver(
    files: Sequence[FileModels],
    compat_added: Mapping[str, list[CompatEntry]],
    resolve: NameResolver,
    aliased_by: Callable[[str], Sequence[str]] = lambda _driver: (),
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
            owners = fm.new.types_with_props(p.array)
            if not owners:
                # Types built at run time (a TypeInfo filled in a loop): who has
                # the property is not known, so no entry can be said to miss it.
                unresolved.add(p.name)
            for t in owners:
                name = resolve(t.name) or t.name
                if name.startswith("TYPE_"):
                    unresolved.add(p.name)
                defined.setdefault(p.name, set()).add(name)
    parents: dict[str, str] = {}
    for fm in files:
        for t in fm.new.types if fm.new is not None else ():
            if t.parent:
                parents[resolve(t.name) or t.name] = resolve(t.parent) or t.parent
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
            if driver is None or driver in types or _descends(driver, types, parents):
                continue  # a subclass inherits the property: the entry reaches it
            spelt = e.driver_expr or f'"{driver}"'
            if any(a in types or _descends(a, types, parents) for a in aliased_by(spelt)):
                continue  # a proxy carrying the device's properties as aliases sets them
            yield F.CompatEntryWrongDriver(
                path=_path_of(files, e),
                line=e.line,
                subject=f"{driver}.{e.prop}",
                entry=e,
                types=tuple(sorted(types)),
            )


def _descends(name: str, ancestors: set[str], parents: Mapping[str, str]) -> bool:
    """Whether QOM type ``name`` is a subclass of one of ``ancestors``, as far as
    the change's files say."""
    seen: set[str] = set()
    while name in parents and name not in seen:
        seen.add(name)
        name = parents[name]
        if name in ancestors:
            return True
    return False


def _path_of(files: Sequence[FileModels], e: CompatEntry) -> str:
    for fm in files:
        if fm.new is not None and any(a.name == e.array for a in fm.new.compat_arrays):
            return fm.path
    return files[0].path


_MACHINE_OPTIONS = re.compile(r"_machine_(?P<major>\d+)_(?P<minor>\d+)_(?:class_)?options$")


def compat_not_applied(fm: FileModels) -> Iterable[F.Fact]:
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
