"""VMSDs from source, in the JSON shape of QEMU's ``-dump-vmstate``.

QEMU writes the dump (migration/savevm.c, ``dump_vmstate_json_to_file``) by
walking every device class with a ``dc->vmsd``, inherited ones included: one
top-level key per QOM type name with ``Name``, ``version_id``,
``minimum_version_id`` and the ``Description``; a description has ``name``,
the two versions, ``Fields`` when ``.fields`` is set and ``Subsections`` when
``.subsections`` is; a field has ``field``, ``version_id``, ``field_exists``,
``num`` for ``VMS_ARRAY`` fields, ``size``, and the nested ``Description`` of a
struct field. ``VMSTATE_VALIDATE`` entries are left out. The first key,
``vmschkmachine``, names the machine type.

What the source cannot say is ``null``: the size of a struct or a buffer
(``sizeof``), a count given by a macro the headers do not define as a number.
What differs from a real dump is listed in docs/audit.md and in the notes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.audit.index import Located, TreeIndex
from bot.audit.layout import StructLayouts
from bot.scanner.model import FieldModel

MAX_DEPTH = 16
"""Nested descriptions deeper than this are cut (a VMSD cannot contain itself)."""

HOST_SIZES = {"QEMUTimer": 48, "hwaddr": 8, "ram_addr_t": 8, "size_t": 8, "vaddr": 8}
"""``sizeof`` of host types on a 64-bit host, as a real dump prints them (the
``size`` of a dump is the C member's, not the bytes on the wire: 48 for a
``VMSTATE_TIMER``, which sends 8)."""

_SIZEOF = re.compile(r"^\(?\s*sizeof\s*\(\s*(?P<type>[^()]*?)\s*\)\s*\)?$")
_MEMBER_SIZEOF = re.compile(
    r"^\(?\s*sizeof\s*\(\s*typeof_field\s*\(\s*(?:struct\s+)?(?P<state>\w+)\s*,"
    r"\s*(?P<member>[^()]*?)\s*\)\s*\)\s*(?:-\s*0\s*)?\)?$"
)
"""``VMSTATE_BUFFER``'s ``sizeof_field(S, buf) - 0``: the member's size."""
_TMP_CHECKS = re.compile(
    r"\+\s*(?:QEMU_BUILD_BUG_ON_ZERO|type_check\w*)\s*\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\)"
)
"""The compile-time checks ``VMSTATE_WITH_TMP`` adds to ``sizeof`` (they are 0)."""


@dataclass(frozen=True, slots=True)
class Dump:
    data: dict[str, Any]
    """The dump, JSON-ready, keys in QEMU's order (machine first, then sections)."""
    notes: tuple[str, ...] = ()


def dump_size(
    f: FieldModel, target_bits: int | None = None, layouts: StructLayouts | None = None
) -> int | None:
    """``VMStateField.size`` as QEMU prints it, when the source tells it (``layouts``:
    the tree's structs, for ``sizeof`` of a struct or of a member)."""
    if not f.size_given:
        return 0  # QEMU prints the 0 of a VMStateField without .size
    if f.size_expr is None:
        return f.size
    expr = _TMP_CHECKS.sub("", f.size_expr).strip()
    m = _MEMBER_SIZEOF.match(expr)
    if m is not None:
        if layouts is None:
            return None
        return layouts.member_size(m.group("state"), m.group("member").replace(" ", ""))
    m = _SIZEOF.match(expr)
    if m is None:
        return None
    typ = m.group("type").removeprefix("struct ").strip()
    if typ.endswith("*"):
        return 8
    if typ == "target_ulong" and target_bits is not None:
        return target_bits // 8
    if typ in HOST_SIZES:
        return HOST_SIZES[typ]
    return layouts.sizeof(typ) if layouts is not None else None


@dataclass(slots=True)
class _Notes:
    target_bits: int | None = None
    layouts: StructLayouts | None = None
    unknown_sizes: int = 0
    unknown_counts: int = 0
    not_understood: int = 0
    conditional: int = 0
    missing_nested: int = 0
    missing_subsections: int = 0
    unresolved_names: int = 0

    def lines(self) -> list[str]:
        out = []
        if self.unknown_sizes:
            out.append(
                f"{self.unknown_sizes} field sizes unknown from source "
                "(sizeof of a struct not laid out): null"
            )
        if self.unknown_counts:
            out.append(f"{self.unknown_counts} array counts not a number in the source: null")
        if self.not_understood:
            out.append(f"{self.not_understood} fields not understood: size null")
        if self.conditional:
            out.append(
                f"{self.conditional} fields under #if are all included, "
                "whatever the target would compile"
            )
        if self.missing_nested:
            out.append(f"{self.missing_nested} nested VMSDs not found: no Description")
        if self.missing_subsections:
            out.append(f"{self.missing_subsections} subsections not found: left out")
        if self.unresolved_names:
            out.append(f"{self.unresolved_names} VMSD names not resolved: the C expression")
        return out


def dump_vmstate(
    index: TreeIndex,
    *,
    machine: str | None = None,
    include: Callable[[str], bool] | None = None,
    target_bits: int | None = None,
    layouts: StructLayouts | None = None,
) -> Dump:
    """Every device type with a ``dc->vmsd`` (``include`` filters by the type's file;
    ``target_bits`` sizes ``target_ulong``; ``layouts`` sizes structs)."""
    notes = _Notes(target_bits, layouts)
    sections: dict[str, Any] = {}
    skipped_types = 0
    for entry in sorted(index.types(), key=lambda e: e.name):
        if entry.name in sections or (include is not None and not include(entry.path)):
            continue
        found = index.class_vmsd(entry.name)
        if found is None:
            continue
        _, setter = found
        loc = index.find_vmsd(setter.ident, setter.model)
        if loc is None:
            skipped_types += 1
            continue
        desc = _description(index, loc, notes, 0)
        sections[entry.name] = {
            "Name": entry.name,
            "version_id": desc["version_id"],
            "minimum_version_id": desc["minimum_version_id"],
            "Description": desc,
        }
    data: dict[str, Any] = {"vmschkmachine": {"Name": machine or "none"}}
    data.update(sections)
    lines = notes.lines()
    if skipped_types:
        lines.append(f"{skipped_types} types set dc->vmsd to a VMSD not found in the tree")
    return Dump(data, tuple(lines))


def _description(index: TreeIndex, loc: Located, notes: _Notes, depth: int) -> dict[str, Any]:
    v = loc.vmsd
    name = index.name_of(loc)
    if name is None:
        notes.unresolved_names += 1
        name = v.name_expr or v.ident
    out: dict[str, Any] = {
        "name": name,
        "version_id": v.version_id,
        "minimum_version_id": v.minimum_version_id,
    }
    if v.fields or v.fields_ref:
        out["Fields"] = [
            _field(index, loc, f, notes, depth)
            for f in v.fields
            if not f.is_end and "VMS_MUST_EXIST" not in f.flags
        ]
    if v.subsections_line is not None:
        subs = index.subsections(loc) if depth < MAX_DEPTH else []
        notes.missing_subsections += len(v.subsections) - len(subs)
        out["Subsections"] = [_description(index, s, notes, depth + 1) for s in subs]
    return out


def _field(
    index: TreeIndex, loc: Located, f: FieldModel, notes: _Notes, depth: int
) -> dict[str, Any]:
    if not f.understood:
        notes.not_understood += 1
    if f.condition:
        notes.conditional += 1
    out: dict[str, Any] = {
        "field": f.name,
        "version_id": f.version or 0,
        "field_exists": f.test is not None,
    }
    if "VMS_ARRAY" in f.flags:
        out["num"] = _count(f)
        if out["num"] is None:
            notes.unknown_counts += 1
    out["size"] = dump_size(f, notes.target_bits, notes.layouts)
    if out["size"] is None and f.understood and f.vmsd is None:
        notes.unknown_sizes += 1
    if f.vmsd is not None:
        nested = index.find_vmsd(f.vmsd, loc.model) if depth < MAX_DEPTH else None
        if nested is None:
            notes.missing_nested += 1
        else:
            out["Description"] = _description(index, nested, notes, depth + 1)
    return out


def _count(f: FieldModel) -> int | None:
    if f.count is None:
        return None
    try:
        return int(f.count, 0)
    except ValueError:
        return None
