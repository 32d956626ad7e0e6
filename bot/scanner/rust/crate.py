"""The types of one Rust crate, and what each puts on the wire.

``vmstate_of!(S, f)`` takes everything from the declared type of ``S::f``:
a scalar, an array, a wrapper, a struct with its own VMSD. So the scanner
needs the struct declarations, integer constants and ``impl_vmstate_*!``
invocations of every file of the crate, not only the file under review.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot.scanner.rust.table import RustTable
from bot.scanner.rust.tokens import Item, Tok, inner, items, matching, split_top, string_value

_ATTR_BITSIZE = re.compile(r"#\[bitsize\((\d+)\)\]")


@dataclass(frozen=True, slots=True)
class Shape:
    """What a Rust type puts on the wire, in the terms of a C ``VMStateField``."""

    info: str | None = None
    size: int | None = None
    count: str | None = None
    vmsd: str | None = None
    flags: frozenset[str] = frozenset()
    varray_flag: str | None = None
    why: str | None = None
    """Set when the type could not be followed."""


@dataclass(slots=True)
class Crate:
    structs: dict[str, list[tuple[str, list[Tok]]]] = field(default_factory=dict)
    """Struct name -> (field, type tokens); tuple structs use field ``0``."""
    omitted: dict[str, set[str]] = field(default_factory=dict)
    """Fields marked ``#[migration_state(omit)]``."""
    bitsize: dict[str, int] = field(default_factory=dict)
    impls: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    """Type -> (``struct``/``forward``/``bitsized``/``c_struct``, VMSD ident)."""
    migrated: dict[str, str] = field(default_factory=dict)
    """Type -> its ``ToMigrationState::Migrated`` type."""
    ints: dict[str, int] = field(default_factory=dict)
    cstrs: dict[str, str] = field(default_factory=dict)
    parents: dict[str, str] = field(default_factory=dict)
    """Struct -> its ``type ParentType`` (a struct of the crate or of the bindings)."""
    type_names: dict[str, str] = field(default_factory=dict)
    """Struct -> the constant or literal its ``const TYPE_NAME`` names."""

    def qom_name(self, struct: str) -> str | None:
        """The QOM type name of ``struct`` (``PL011State`` -> ``pl011``)."""
        value = self.type_names.get(struct)
        if value is None:
            return None
        return self.cstrs.get(value)

    def add(self, text: str) -> list[Item]:
        got = items(text)
        attrs: list[Item] = []
        for it in got:
            if it.kind == "attribute_item":
                attrs.append(it)
                continue
            self._item(it, attrs)
            attrs = []
        return got

    # --- reading ---------------------------------------------------------------

    def _item(self, it: Item, attrs: Sequence[Item]) -> None:
        toks = it.toks
        attr_text = "".join(t.text for a in attrs for t in a.toks)
        if it.kind == "struct_item":
            self._struct(toks, attr_text)
        elif it.kind == "macro_invocation":
            self._macro(toks)
        elif it.kind == "impl_item":
            self._impl(toks)
        elif it.kind in ("const_item", "static_item"):
            self._const(toks)

    def _struct(self, toks: Sequence[Tok], attr_text: str) -> None:
        k = next((i for i, t in enumerate(toks) if t.text == "struct"), None)
        if k is None or k + 1 >= len(toks):
            return
        name = toks[k + 1].text
        m = _ATTR_BITSIZE.search(attr_text)
        if m:
            self.bitsize[name] = int(m.group(1))
        if "ToMigrationState" in attr_text and "derive" in attr_text:
            self.migrated[name] = f"{name}Migration"
        j = k + 2
        if j < len(toks) and toks[j].text == "<":
            depth = 0
            while j < len(toks):
                depth += {"<": 1, ">": -1}.get(toks[j].text, 0)
                j += 1
                if depth == 0:
                    break
        if j >= len(toks) or toks[j].text not in ("{", "("):
            return
        body = inner(toks, j)
        fields: list[tuple[str, list[Tok]]] = []
        omitted: set[str] = set()
        for n, piece in enumerate(split_top(body)):
            piece, attrs = _strip_attrs(piece)
            if piece and piece[0].text == "pub":
                piece = _after_pub(piece)
            if toks[j].text == "(":
                fields.append((str(n), piece))
                continue
            if len(piece) >= 3 and piece[1].text == ":":
                fields.append((piece[0].text, piece[2:]))
                if "migration_state(omit)" in attrs:
                    omitted.add(piece[0].text)
        self.structs[name] = fields
        if omitted:
            self.omitted[name] = omitted
        if name in self.migrated:
            self.structs[self.migrated[name]] = [(f, t) for f, t in fields if f not in omitted]

    def _macro(self, toks: Sequence[Tok]) -> None:
        name = toks[0].text
        k = next((i for i, t in enumerate(toks) if t.text in ("(", "{", "[")), None)
        if k is None:
            return
        body = inner(toks, k)
        args = split_top(body)
        kinds = {
            "impl_vmstate_struct": "struct",
            "impl_vmstate_forward": "forward",
            "impl_vmstate_bitsized": "bitsized",
            "impl_vmstate_c_struct": "c_struct",
        }
        if name in kinds and args:
            type_name = _base_name(args[0])
            vmsd: str | None = None
            if kinds[name] == "struct" and len(args) > 1:
                vmsd = struct_vmsd_ident(type_name, args[1])
            elif kinds[name] == "c_struct" and len(args) > 1:
                vmsd = _base_name(args[1])
            if type_name:
                self.impls[type_name] = (kinds[name], vmsd)
            return
        # Structs declared inside other macros (`bits! { pub struct Interrupt(u32) {...} }`).
        for i, t in enumerate(body):
            if t.text == "struct" and i + 2 < len(body) and body[i + 2].text in ("(", "{"):
                end = matching(body, i + 2)
                self._struct(body[i : end + 1], "")

    def _impl(self, toks: Sequence[Tok]) -> None:
        words = [t.text for t in toks[:12]]
        if "for" in words:
            self._type_name(toks, words)
        if "ToMigrationState" not in words or "for" not in words:
            return
        k = words.index("for")
        target = toks[k + 1].text if k + 1 < len(toks) else ""
        for i, t in enumerate(toks):
            if t.text == "Migrated" and i > 0 and toks[i - 1].text == "type":
                end = next((j for j in range(i, len(toks)) if toks[j].text == ";"), len(toks))
                self.migrated[target] = _base_name(list(toks[i + 2 : end]))
                return

    def _type_name(self, toks: Sequence[Tok], words: list[str]) -> None:
        k = words.index("for")
        target = toks[k + 1].text if k + 1 < len(toks) else ""
        for i, t in enumerate(toks):
            if t.text == "ParentType" and i > 0 and toks[i - 1].text == "type":
                end = next((j for j in range(i, len(toks)) if toks[j].text == ";"), len(toks))
                self.parents[target] = _base_name(list(toks[i + 2 : end]))
        for i, t in enumerate(toks):
            if t.text == "TYPE_NAME" and i > 0 and toks[i - 1].text == "const":
                eq = next((j for j in range(i, len(toks)) if toks[j].text == "="), None)
                end = next((j for j in range(i, len(toks)) if toks[j].text == ";"), len(toks))
                if eq is None:
                    return
                value = list(toks[eq + 1 : end])
                strings = [string_value(v) for v in value if v.kind == "str"]
                if strings and strings[0] is not None:
                    self.cstrs[f"{target}::TYPE_NAME"] = strings[0]
                    self.type_names[target] = f"{target}::TYPE_NAME"
                else:
                    idents = [v.text for v in value if v.kind == "ident"]
                    if idents:
                        self.type_names[target] = idents[-1]
                return

    def _const(self, toks: Sequence[Tok]) -> None:
        eq = next((i for i, t in enumerate(toks) if t.text == "="), None)
        if eq is None or eq < 2:
            return
        name = toks[eq - 1].text if toks[eq - 1].kind == "ident" else None
        colon = next((i for i, t in enumerate(toks) if t.text == ":"), None)
        if colon is not None:
            name = toks[colon - 1].text
        value = [t for t in toks[eq + 1 :] if t.text != ";"]
        if not name or not value:
            return
        strings = [string_value(t) for t in value if t.kind == "str"]
        if len(strings) == 1 and strings[0] is not None:
            self.cstrs[name] = strings[0]  # c"x", c_str!("x")
            return
        n = self.int_of(value)
        if n is not None:
            self.ints[name] = n

    # --- evaluating -------------------------------------------------------------

    def int_of(self, toks: Sequence[Tok], table: RustTable | None = None) -> int | None:
        """``16``, ``PL011_FIFO_DEPTH as usize``, ``size_of::<u32>()``, ``1 << 3``."""
        words = [t for t in toks if t.text not in ("(", ")")]
        if "as" in (t.text for t in words):
            words = words[: [t.text for t in words].index("as")]
        if len(words) == 1:
            w = words[0]
            if w.kind == "int":
                return _int(w.text)
            return self.ints.get(w.text)
        idents = [t.text for t in words]
        if "size_of" in idents and "<" in idents:
            ty = idents[idents.index("<") + 1 : len(idents) - idents[::-1].index(">") - 1]
            if len(ty) == 1:
                scalar = (table.scalars.get(ty[0]) if table else None) or _PRIMITIVE.get(ty[0])
                if scalar is not None:
                    return scalar if isinstance(scalar, int) else scalar.size
        if len(words) == 3 and words[1].text in ("<<", "*", "+"):
            a, b = self.int_of(words[:1]), self.int_of(words[2:])
            if a is not None and b is not None:
                return {"<<": a << b, "*": a * b, "+": a + b}[words[1].text]
        return None

    def field_type(self, struct: str, path: Sequence[str], table: RustTable) -> list[Tok] | None:
        """Declared type of ``struct.a.b`` (through transparent wrappers for ``.b``)."""
        current = struct
        ty: list[Tok] | None = None
        for name in path:
            fields = dict(self.structs.get(current, []))
            ty = fields.get(name)
            if ty is None:
                return None
            current = _unwrap(ty, table)
        return ty

    def shape(self, ty: Sequence[Tok], table: RustTable, depth: int = 0) -> Shape:
        """What a field of type ``ty`` sends, following wrappers and impls."""
        toks = [t for t in ty if t.text not in ("&", "'static", "dyn")]
        if depth > 12 or not toks:
            return Shape(why="type not understood")
        first = toks[0].text
        if first == "[":
            parts = split_top(inner(toks, 0), ";")
            if len(parts) != 2:
                return Shape(why=f"array type {_text(toks)} not understood")
            elem = self.shape(parts[0], table, depth + 1)
            n = self.int_of(parts[1], table)
            count = str(n) if n is not None else _text(parts[1])
            if elem.why or elem.count is not None:
                return elem if elem.why else Shape(why="arrays of arrays are not read")
            flags = (elem.flags - {"VMS_SINGLE"}) | {"VMS_ARRAY"}
            return Shape(elem.info, elem.size, count, elem.vmsd, frozenset(flags))
        if first == "*":
            rest = toks[1:]
            if rest and rest[0].text in ("const", "mut"):
                rest = rest[1:]
            return _pointer(self.shape(rest, table, depth + 1))
        base, args = _path(toks)
        if base is None:
            return Shape(why=f"type {_text(toks)} not understood")
        if base in table.transparent and args:
            return self.shape(args[0], table, depth + 1)
        if base in table.pointers and args:
            return _pointer(self.shape(args[0], table, depth + 1))
        if base in table.migratable and args:
            target = _unwrap(args[0], table)
            migrated = self.migrated.get(target)
            if migrated is None:
                return Shape(why=f"{target} has no ToMigrationState the scanner can see")
            return self.shape([Tok(migrated, "ident", toks[0].line)], table, depth + 1)
        if base in table.scalars:
            s = table.scalars[base]
            return Shape(s.info, s.size, flags=frozenset({"VMS_SINGLE"}), varray_flag=s.varray_flag)
        if base in self.impls:
            kind, vmsd = self.impls[base]
            if kind == "forward":
                inner_ty = dict(self.structs.get(base, [])).get("0")
                if inner_ty is None:
                    return Shape(why=f"impl_vmstate_forward!({base}): no tuple struct {base}")
                return self.shape(inner_ty, table, depth + 1)
            if kind == "bitsized":
                bits = self.bitsize.get(base)
                if bits is None:
                    return Shape(why=f"impl_vmstate_bitsized!({base}): no #[bitsize] seen")
                uint = next((f"u{n}" for n in (8, 16, 32, 64) if bits <= n), None)
                if uint is None or uint not in table.scalars:
                    return Shape(why=f"{base}: bitsize {bits} not understood")
                return self.shape([Tok(uint, "ident", toks[0].line)], table, depth + 1)
            return Shape(vmsd=vmsd, flags=frozenset({"VMS_STRUCT"}))
        if base in table.c_structs:
            return Shape(vmsd=table.c_structs[base], flags=frozenset({"VMS_STRUCT"}))
        return Shape(why=f"type {base} has no VMState the scanner can see")


_PRIMITIVE = {"u8": 1, "i8": 1, "u16": 2, "i16": 2, "u32": 4, "i32": 4, "u64": 8, "i64": 8}


def _int(raw: str) -> int | None:
    raw = re.sub(r"(?:u|i)(?:8|16|32|64|size)$", "", raw.replace("_", ""))
    try:
        return int(raw, 0)
    except ValueError:
        return None


def _pointer(s: Shape) -> Shape:
    if s.why:
        return s
    return Shape(s.info, s.size, s.count, s.vmsd, s.flags | {"VMS_POINTER"}, s.varray_flag)


def _path(toks: Sequence[Tok]) -> tuple[str | None, list[list[Tok]]]:
    """``bql::BqlRefCell<PL011Registers>`` -> (``BqlRefCell``, [[PL011Registers]])."""
    base: str | None = None
    k = 0
    while k < len(toks):
        t = toks[k]
        if t.kind == "ident":
            base = t.text
        elif t.text == "<":
            depth = 0
            j = k
            while j < len(toks):
                depth += {"<": 1, ">": -1}.get(toks[j].text, 0)
                if depth == 0:
                    break
                j += 1
            return base, split_top(toks[k + 1 : j])
        elif t.text != "::":
            return None, []
        k += 1
    return base, []


def _unwrap(ty: Sequence[Tok], table: RustTable) -> str:
    """The struct a field type stands for, through transparent wrappers."""
    base, args = _path(ty)
    while base in table.transparent and args:
        base, args = _path(args[0])
    return base or ""


def _base_name(toks: Sequence[Tok]) -> str:
    idents = [t.text for t in toks if t.kind == "ident" and t.text not in ("mut", "const")]
    return idents[-1] if idents else ""


def struct_vmsd_ident(type_name: str, expr: Sequence[Tok]) -> str:
    """The VMSD of ``impl_vmstate_struct!(T, expr)``: a named one, or the inline builder."""
    if any(t.text in ("VMStateDescriptionBuilder", "VMStateDescription") for t in expr):
        names = [string_value(t) for t in expr if t.kind == "str"]
        return inline_ident(type_name, names[0] if names else None)
    return _base_name(expr)


def inline_ident(type_name: str, name: str | None = None) -> str:
    """Ident of a VMSD written inline in ``impl_vmstate_struct!``: by its section
    name when it has one, so renaming the Rust struct does not look like a new VMSD."""
    return f'impl_vmstate_struct!("{name}")' if name else f"impl_vmstate_struct!({type_name})"


def _strip_attrs(piece: list[Tok]) -> tuple[list[Tok], str]:
    attrs = ""
    while len(piece) >= 2 and piece[0].text == "#" and piece[1].text == "[":
        end = matching(piece, 1)
        attrs += "".join(t.text for t in piece[: end + 1])
        piece = piece[end + 1 :]
    return piece, attrs


def _after_pub(piece: list[Tok]) -> list[Tok]:
    if len(piece) > 1 and piece[1].text == "(":
        return piece[matching(piece, 1) + 1 :]
    return piece[1:]


def _text(toks: Iterable[Tok]) -> str:
    return "".join(t.text for t in toks)
