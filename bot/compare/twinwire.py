"""Twin equivalence: do a C device and its Rust twin put the same bytes on the wire?

A guest migrated between a QEMU built with the C pl011 and one built with the
Rust pl011 must load, so both descriptions must agree on what the stream
holds: section name, versions, the sequence of bytes the fields send (nested
``VMS_STRUCT`` descriptions are inline on the wire, so they are flattened),
and the subsections with their names and contents. Field names, struct names
and hooks are not on the wire and are not compared; neither are ``_TEST``
predicates, whose code cannot be compared across languages.

Pure: models in, differences (plain sentences) out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.scanner.model import FieldModel, FileModel, VmsdModel

IntOf = Callable[[str], int | None]
"""Value of a named constant (``PL011_FIFO_DEPTH``), from the side's tree."""

_SCALAR = re.compile(r"^u?int(8|16|32|64)$|^bool$|^timer$|^float64$|^cpudouble$|^int32_le$")


@dataclass(frozen=True, slots=True)
class Side:
    """One language's models: where its VMSDs and nested VMSDs are looked up."""

    label: str
    models: Sequence[FileModel]
    int_of: IntOf = lambda _name: None

    def vmsd(self, ident: str, near: FileModel | None = None) -> VmsdModel | None:
        key = ident.removeprefix("bindings::")
        if near is not None and (v := near.vmsd(key)) is not None:
            return v
        for m in self.models:
            v = m.vmsd(key)
            if v is not None:
                return v
        return None

    def model_of(self, v: VmsdModel) -> FileModel | None:
        return next((m for m in self.models if any(x is v for x in m.vmsds)), None)


@dataclass(frozen=True, slots=True)
class _Item:
    label: str
    kind: tuple[object, ...]


def differences(c: Side, c_vmsd: VmsdModel, rust: Side, r_vmsd: VmsdModel) -> list[str] | None:
    """What differs on the wire between the two descriptions; empty when they agree,
    None when a field of either could not be read (then nothing is claimed)."""
    if not (_understood(c, c_vmsd) and _understood(rust, r_vmsd)):
        return None
    out: list[str] = []
    _compare(c, c_vmsd, rust, r_vmsd, c_vmsd.name or c_vmsd.ident, out, top=True)
    return out


def _understood(side: Side, v: VmsdModel, depth: int = 0) -> bool:
    if any(not f.understood for f in v.fields):
        return False
    near = side.model_of(v)
    for ident in (*v.subsections, *(f.vmsd for f in v.fields if f.vmsd)):
        sub = side.vmsd(ident, near)
        if sub is not None and depth < 8 and not _understood(side, sub, depth + 1):
            return False
    return True


def _compare(
    c: Side, cv: VmsdModel, rust: Side, rv: VmsdModel, where: str, out: list[str], top: bool
) -> None:
    if cv.name != rv.name:
        out.append(f"{where}: section name '{cv.name}' in C, '{rv.name}' in Rust")
    if top or cv.needed is not None:
        if cv.version_id != rv.version_id:
            out.append(f"{where}: version_id {cv.version_id} in C, {rv.version_id} in Rust")
        if cv.minimum_version_id != rv.minimum_version_id:
            out.append(
                f"{where}: minimum_version_id {cv.minimum_version_id} in C, "
                f"{rv.minimum_version_id} in Rust"
            )
    ci = _items(c, cv, 0)
    ri = _items(rust, rv, 0)
    for k, (a, b) in enumerate(zip(ci, ri, strict=False)):
        if a.kind != b.kind:
            out.append(
                f"{where}: field {k + 1} is {a.label} ({_kind(a.kind)}) in C, "
                f"{b.label} ({_kind(b.kind)}) in Rust"
            )
            break
    else:
        if len(ci) != len(ri):
            longer, side = (ci, "C") if len(ci) > len(ri) else (ri, "Rust")
            extra = ", ".join(i.label for i in longer[min(len(ci), len(ri)) :][:3])
            out.append(f"{where}: only {side} sends {extra}")
    _subsections(c, cv, rust, rv, where, out)


def _subsections(
    c: Side, cv: VmsdModel, rust: Side, rv: VmsdModel, where: str, out: list[str]
) -> None:
    cs = _subs(c, cv)
    rs = _subs(rust, rv)
    cnames = [s.name for s in cs]
    rnames = [s.name for s in rs]
    for s in cs:
        if s.name not in rnames:
            out.append(f"{where}: subsection '{s.name}' only in C")
    for s in rs:
        if s.name not in cnames:
            out.append(f"{where}: subsection '{s.name}' only in Rust")
    for s in cs:
        twin = next((r for r in rs if r.name == s.name), None)
        if twin is None:
            continue
        if (s.needed is None) != (twin.needed is None):
            has = "C" if s.needed is not None else "Rust"
            out.append(f"{where}: subsection '{s.name}' has a .needed test only in {has}")
        _compare(c, s, rust, twin, f"subsection '{s.name}'", out, top=False)


def _subs(side: Side, v: VmsdModel) -> list[VmsdModel]:
    near = side.model_of(v)
    return [s for s in (side.vmsd(i, near) for i in v.subsections) if s is not None]


def _items(side: Side, v: VmsdModel, depth: int) -> list[_Item]:
    """The wire items of ``v``, nested structs flattened."""
    near = side.model_of(v)
    out: list[_Item] = []
    for f in v.wire_fields:
        if _sends_nothing(f):
            continue
        version = f.version if (f.version or 0) > (v.minimum_version_id or 0) else 0
        gate: tuple[object, ...] = (version,) if version else ()
        count = _count(side, f)
        if f.vmsd is not None:
            nested = side.vmsd(f.vmsd, near) if depth < 8 else None
            body: tuple[object, ...]
            if nested is None:
                body = ("vmsd", f.vmsd.removeprefix("bindings::"))
            else:
                inner = _items(side, nested, depth + 1)
                subs = tuple(s.name for s in _subs(side, nested))
                if count is None and not subs:
                    # One struct, no subsections: its fields are inline on the wire.
                    out.extend(_Item(i.label, (*gate, *i.kind)) for i in inner)
                    continue
                body = ("struct", tuple(i.kind for i in inner), subs)
            out.append(_Item(f.name or f.member or "?", (*gate, count, body)))
            continue
        if f.is_unused:
            out.append(_Item("unused", (*gate, None, ("bytes", f.size))))
            continue
        info = f.info or "?"
        kind: tuple[object, ...] = ("int", f.size) if _SCALAR.match(info) else (info, f.size)
        out.append(_Item(f.name or f.member or "?", (*gate, count, kind)))
    return out


def _sends_nothing(f: FieldModel) -> bool:
    """``VMSTATE_VALIDATE``: an array of no element, only its test runs."""
    return "VMS_MUST_EXIST" in f.flags and f.count == "0" and f.info is None


def _count(side: Side, f: FieldModel) -> object:
    varray = next((fl for fl in f.flags if fl.startswith("VMS_VARRAY")), None)
    if varray is not None:
        return (varray, "var")
    if f.count is None:
        return None
    try:
        return int(f.count, 0)
    except ValueError:
        pass
    n = side.int_of(f.count.split(" as ")[0].strip("() "))
    return n if n is not None else f.count


def _kind(kind: tuple[object, ...]) -> str:
    body = kind[-1]
    count = kind[-2]
    assert isinstance(body, tuple)
    if body[0] == "int":
        what = f"{body[1]}-byte integer"
    elif body[0] == "bytes":
        what = f"{body[1]} unused bytes"
    elif body[0] == "vmsd":
        what = f"struct {body[1]}"
    elif body[0] == "struct":
        what = f"struct of {len(body[1])} field(s)"
    else:
        what = str(body[0])
    if isinstance(count, tuple):
        what += f", as many as {count[0].removeprefix('VMS_VARRAY_').lower()} says"
    elif count is not None:
        what += f" x{count}"
    if len(kind) > 2:
        what += f", from version {kind[0]}"
    return what
