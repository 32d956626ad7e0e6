"""The Rust scanner: a Rust file (and its crate) in, the C scanner's `FileModel` out.

Reads the VMState forms of QEMU's Rust bindings, old and new:

* ``VMStateDescriptionBuilder::<T>::new().name(c"x").version_id(2)...build()``
  in a ``static``/``const`` or inline in ``impl_vmstate_struct!(T, ...)``;
* the older struct literal ``VMStateDescription { name: c"x".as_ptr(), ... }``;
* fields: ``vmstate_of!(S, f[0 .. n], test)`` (type from the declaration of
  ``S::f``), ``vmstate_struct!``, ``vmstate_clock!``, ``vmstate_unused!``,
  ``vmstate_validate!``, ``.with_version_id(v)``, and the first bindings'
  ``vmstate_uint32!(f, S)`` family, read through the C ``VMSTATE_*`` macro of
  the same name (``vmstate.h`` says what it means);
* ``vmstate_subsections!``, ``.needed(&S::f)``, hooks;
* the registration (``const VMSTATE`` of ``impl DeviceImpl``, ``vmsd =>``) and
  the QOM type name (``const TYPE_NAME``), so twins can be found.

Never guesses: what it cannot follow is an `Unknown`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from bot.scanner.fields import interpret
from bot.scanner.lexer import LexError, tokenize
from bot.scanner.macros import MacroTable
from bot.scanner.model import (
    FieldModel,
    FileModel,
    PropertyModel,
    Registration,
    TypeModel,
    Unknown,
    VmsdModel,
)
from bot.scanner.rust.crate import Crate, Shape, struct_vmsd_ident
from bot.scanner.rust.table import RustTable
from bot.scanner.rust.tokens import Item, Tok, inner, matching, split_top, string_value, text

_HOOKS = ("pre_load", "post_load", "pre_save", "post_save")
_MARKERS = (
    "VMStateDescription",
    "vmstate_",
    "VMSTATE",
    "TYPE_NAME",
    "ToMigrationState",
    "#[property(",
)


@dataclass(slots=True)
class _State:
    path: str
    crate: Crate
    table: RustTable
    c_table: MacroTable
    vmsds: list[VmsdModel] = field(default_factory=list)
    props: list[PropertyModel] = field(default_factory=list)
    regs: list[Registration] = field(default_factory=list)
    types: list[TypeModel] = field(default_factory=list)
    unknowns: list[Unknown] = field(default_factory=list)


def scan_rust(
    text_: str,
    path: str,
    table: RustTable,
    c_table: MacroTable,
    crate_texts: Mapping[str, str] | None = None,
) -> FileModel:
    """Model of one Rust file; ``crate_texts`` are the other files of its crate."""
    if not any(m in text_ for m in _MARKERS):
        return FileModel(path=path)
    crate = Crate()
    for other, other_text in (crate_texts or {}).items():
        if other != path:
            crate.add(other_text)  # constants and type names live in lib.rs too
    own = crate.add(text_)
    st = _State(path, crate, table, c_table)
    for it in own:
        if it.has_error and any(t.text.startswith(("VMState", "vmstate")) for t in it.toks):
            st.unknowns.append(Unknown(it.line, "Rust that does not parse: VMState not read here"))
            continue
        try:
            _item(st, it)
        except (IndexError, StopIteration, ValueError) as exc:
            # Rust the forms above do not cover: said, never guessed.
            st.unknowns.append(Unknown(it.line, f"Rust item not understood ({exc!r})"))
    return FileModel(
        path=path,
        vmsds=tuple(st.vmsds),
        properties=tuple(st.props),
        prop_bindings=tuple(sorted({(p.array, p.array) for p in st.props})),
        registrations=tuple(st.regs),
        types=tuple(st.types),
        string_defines=tuple(sorted(crate.cstrs.items())),
        unknowns=tuple(st.unknowns),
    )


def _item(st: _State, it: Item) -> None:
    toks = it.toks
    if it.kind in ("static_item", "const_item"):
        eq = next((k for k, t in enumerate(toks) if t.text == "="), None)
        if eq is None:
            return
        value = list(toks[eq + 1 :])
        if _is_vmsd(value):
            name = next(t.text for t in toks if t.kind == "ident" and t.text not in _KEYWORDS)
            _vmsd(st, name, value, it.line, it.end_line)
    elif it.kind == "macro_invocation":
        head = toks[0].text
        k = next((i for i, t in enumerate(toks) if t.text in ("(", "{", "[")), None)
        if k is None:
            return
        body = inner(toks, k)
        if head == "impl_vmstate_struct":
            args = split_top(body)
            if len(args) == 2 and _is_vmsd(args[1]):
                type_name = [t.text for t in args[0] if t.kind == "ident"][-1]
                ident = struct_vmsd_ident(type_name, args[1])
                _vmsd(st, ident, args[1], it.line, it.end_line)
        elif head.endswith("device_class_init"):
            _vmsd_arrow(st, body)
    elif it.kind == "impl_item":
        _impl(st, toks, it.line)
    elif it.kind == "struct_item":
        _properties(st, toks)


_NOT_NAMES = frozenset({"as_ptr", "c_str", "crate", "self", "super"})
_KEYWORDS = frozenset({"pub", "static", "const", "mut", "crate", "super", "in", "self"})


def _is_vmsd(value: Sequence[Tok]) -> bool:
    if any(t.text == "VMStateDescriptionBuilder" for t in value):
        return True
    return (
        len(value) > 1
        and value[0].text == "VMStateDescription"
        and any(t.text == "{" for t in value[:3])
    )


def _vmsd(st: _State, ident: str, value: Sequence[Tok], line: int, end: int) -> None:
    parts = _builder(value) if value[0].text != "VMStateDescription" else _literal(value)
    name_toks = parts.get("name", [])
    name, name_expr, name_line = _name(st, name_toks)
    version = _int(st, parts.get("version_id"))
    minimum = _int(st, parts.get("minimum_version_id"))
    needed = _callable(parts["needed"]) if "needed" in parts else None
    hooks = tuple((h, _callable(parts[h])) for h in _HOOKS if h in parts)
    fields: list[FieldModel] = []
    fields_ref: str | None = None
    if "fields" in parts:
        fields, fields_ref = _fields(st, ident, parts["fields"])
    subs: tuple[str, ...] = ()
    sub_line: int | None = None
    if "subsections" in parts:
        subs = _subsections(parts["subsections"])
        sub_line = parts["subsections"][0].line if parts["subsections"] else None
    st.vmsds.append(
        VmsdModel(
            ident=ident,
            line=line,
            end_line=end,
            name_expr=name_expr,
            name=name,
            version_id=version if "version_id" in parts else 0,
            version_expr=None,
            minimum_version_id=minimum if "minimum_version_id" in parts else 0,
            needed=needed,
            hooks=hooks,
            unmigratable="unmigratable" in parts and text(parts["unmigratable"]) != "false",
            fields=tuple(fields),
            fields_ref=fields_ref,
            has_end_of_list=True,  # vmstate_fields! always ends the list
            subsections=subs,
            subsections_line=sub_line,
            generated_by=None,
            name_line=name_line,
        )
    )


def _builder(value: Sequence[Tok]) -> dict[str, list[Tok]]:
    """``...::new().name(c"x").version_id(2)`` -> {"name": [c"x"], "version_id": [2]}."""
    out: dict[str, list[Tok]] = {}
    k = 0
    while k < len(value):
        t = value[k]
        if t.text in ("(", "[", "{") and not (k > 0 and value[k - 1].kind == "ident"):
            k = matching(value, k) + 1
            continue
        if (
            t.text == "."
            and k + 2 < len(value)
            and value[k + 1].kind == "ident"
            and value[k + 2].text == "("
        ):
            end = matching(value, k + 2)
            out[value[k + 1].text] = list(value[k + 3 : end])
            k = end + 1
            continue
        if t.text in ("(", "[", "{"):
            k = matching(value, k) + 1
            continue
        k += 1
    return out


def _literal(value: Sequence[Tok]) -> dict[str, list[Tok]]:
    """``VMStateDescription { name: c"x".as_ptr(), version_id: 2, .. }``."""
    brace = next(k for k, t in enumerate(value) if t.text == "{")
    out: dict[str, list[Tok]] = {}
    for piece in split_top(inner(value, brace)):
        if len(piece) >= 3 and piece[0].kind == "ident" and piece[1].text == ":":
            val = piece[2:]
            if len(val) > 3 and val[0].text == "Some" and val[1].text == "(":
                val = inner(val, 1)
            out[piece[0].text] = val
    return out


def _name(st: _State, toks: Sequence[Tok]) -> tuple[str | None, str | None, int | None]:
    if not toks:
        return None, None, None
    line = toks[0].line
    for t in toks:
        s = string_value(t)
        if s is not None:
            return s, None, line
    idents = [t.text for t in toks if t.kind == "ident" and t.text not in _NOT_NAMES]
    if idents and idents[-1] in st.crate.cstrs:
        return st.crate.cstrs[idents[-1]], None, line
    if len(idents) >= 2 and idents[1] in ("TYPE_INFO", "TYPE_NAME"):
        # `PL011State::TYPE_INFO.name`: the QOM type name of the struct.
        qom = st.crate.qom_name(idents[0])
        if qom is not None:
            return qom, None, line
    return None, text(toks), line


def _int(st: _State, toks: Sequence[Tok] | None) -> int | None:
    if not toks:
        return None
    return st.crate.int_of(toks, st.table)


def _callable(toks: Sequence[Tok]) -> str:
    """``&PL011State::clock_needed`` or ``Some(pl011_clock_needed)`` -> the path."""
    words = [t for t in toks if t.text not in ("&", "Some", "(", ")")]
    return "".join(t.text for t in words)


def _subsections(toks: Sequence[Tok]) -> tuple[str, ...]:
    body: Sequence[Tok] = toks
    if len(toks) > 2 and toks[0].text == "vmstate_subsections" and toks[1].text == "!":
        body = inner(toks, 2)
    elif toks and toks[0].text == "&" and len(toks) > 1 and toks[1].text == "[":
        body = inner(toks, 1)
    out = []
    for piece in split_top(body):
        words = [t.text for t in piece if t.kind == "ident" and t.text not in ("None", "Some")]
        if words:
            out.append(words[-1])
    return tuple(out)


# --- fields -----------------------------------------------------------------------


def _fields(st: _State, ident: str, toks: Sequence[Tok]) -> tuple[list[FieldModel], str | None]:
    if len(toks) > 2 and toks[0].text in ("vmstate_fields", "vmstate_fields_ref"):
        out: list[FieldModel] = []
        for piece in split_top(inner(toks, 2)):
            got = _field(st, ident, piece)
            if got is not None:
                out.append(got)
        line = toks[-1].line
        return [*out, FieldModel(macro="VMSTATE_END_OF_LIST", args=(), line=line, name="")], None
    ref = text(toks)
    st.unknowns.append(Unknown(toks[0].line, f"VMSD {ident}: fields {ref} not read"))
    return [], ref


def _field(st: _State, ident: str, piece: Sequence[Tok]) -> FieldModel | None:
    line = piece[0].line
    if len(piece) < 3 or piece[1].text != "!" or piece[2].text not in ("(", "{", "["):
        return _not_read(st, ident, piece, "not a vmstate macro")
    macro = piece[0].text
    close = matching(piece, 2)
    args = split_top(inner(piece, 2))
    chain = _builder(piece[close + 1 :])
    version: int | None = None
    if "with_version_id" in chain:
        version = _int(st, chain["with_version_id"])
    if macro == "vmstate_of":
        got = _vmstate_of(st, ident, piece, args, line)
    elif macro == "vmstate_struct":
        got = _vmstate_struct(st, ident, piece, args, line)
    elif macro == "vmstate_unused":
        size = st.crate.int_of(args[0], st.table) if args else None
        got = _via_c(st, ident, piece, f"VMSTATE_UNUSED({size})" if size else None)
    elif macro == "vmstate_validate" and len(args) == 3:
        name, _, _ = _name(st, args[1])
        c = f'VMSTATE_VALIDATE("{name or text(args[1])}", {_callable(args[2])})'
        got = _via_c(st, ident, piece, c)
        if got is not None:
            got = replace(got, test=_callable(args[2]))
    elif macro == "vmstate_clock" and args:
        c_args = _c_order(st, args)
        got = _via_c(st, ident, piece, f"VMSTATE_CLOCK({c_args})")
    else:
        # The first bindings mirrored the C macros one to one (vmstate_uint32!).
        got = _via_c(st, ident, piece, f"{macro.upper()}({_c_order(st, args)})")
    if got is not None and version is not None:
        got = replace(got, version=version)
    return got


def _c_order(st: _State, args: list[list[Tok]]) -> str:
    """Arguments in C order: the C macros take (field, State), later Rust ones (State, field)."""
    texts = [text(a) for a in args]
    if len(args) >= 2 and texts[0] in st.crate.structs and texts[1] not in st.crate.structs:
        texts[0], texts[1] = texts[1], texts[0]
    return ", ".join(texts)


def _via_c(st: _State, ident: str, piece: Sequence[Tok], c_text: str | None) -> FieldModel | None:
    """Read a field through the C macro that means the same (``vmstate.h``)."""
    macro = piece[0].text + "!"
    if c_text is None:
        return _not_read(st, ident, piece, f"{macro} argument not understood")
    try:
        toks = tokenize(c_text, st.path)
    except LexError:
        return _not_read(st, ident, piece, f"{macro} not understood")
    got, why = interpret(toks, st.c_table, None)
    if why or len(got) != 1:
        return _not_read(st, ident, piece, why or f"{macro} is several fields")
    f = got[0]
    args = tuple(text(a) for a in split_top(inner(piece, 2)))
    return replace(f, macro=macro, args=args, line=piece[0].line)


def _vmstate_of(
    st: _State, ident: str, piece: Sequence[Tok], args: list[list[Tok]], line: int
) -> FieldModel | None:
    if len(args) < 2:
        return _not_read(st, ident, piece, "vmstate_of! needs a struct and a field")
    struct = text(args[0])
    path, varray = _field_path(args[1])
    ty = st.crate.field_type(struct, path, st.table)
    if ty is None:
        return _not_read(st, ident, piece, f"field {'.'.join(path)} of {struct} not found")
    shape = st.crate.shape(ty, st.table)
    test = _callable(args[2]) if len(args) > 2 else None
    return _from_shape(st, ident, piece, shape, struct, path, varray, test, line)


def _vmstate_struct(
    st: _State, ident: str, piece: Sequence[Tok], args: list[list[Tok]], line: int
) -> FieldModel | None:
    """``vmstate_struct!(S, f[0 .. n], &VMSD, Type, test)`` (2025 bindings)."""
    if len(args) < 4:
        return _not_read(st, ident, piece, "vmstate_struct! arguments not understood")
    struct = text(args[0])
    path, varray = _field_path(args[1])
    vmsd = [t.text for t in args[2] if t.kind == "ident"][-1]
    ty = st.crate.field_type(struct, path, st.table)
    count: str | None = None
    flags = {"VMS_STRUCT"}
    if ty is not None and ty[0].text == "[":
        n = split_top(inner(ty, 0), ";")
        if len(n) == 2:
            value = st.crate.int_of(n[1], st.table)
            count = str(value) if value is not None else text(n[1])
            flags.add("VMS_ARRAY")
    shape = Shape(count=count, vmsd=vmsd, flags=frozenset(flags))
    test = _callable(args[4]) if len(args) > 4 else None
    return _from_shape(st, ident, piece, shape, struct, path, varray, test, line)


def _from_shape(
    st: _State,
    ident: str,
    piece: Sequence[Tok],
    shape: Shape,
    struct: str,
    path: list[str],
    varray: str | None,
    test: str | None,
    line: int,
) -> FieldModel | None:
    if shape.why:
        return _not_read(st, ident, piece, shape.why)
    flags = set(shape.flags)
    count = shape.count
    if varray is not None:
        num_ty = st.crate.field_type(struct, [varray], st.table)
        num = st.crate.shape(num_ty, st.table) if num_ty is not None else None
        if num is None or num.varray_flag is None:
            return _not_read(st, ident, piece, f"count {varray}: not a u8/u16/u32 field")
        flags -= {"VMS_ARRAY", "VMS_SINGLE"}
        flags.add(num.varray_flag)
        count = varray
    return FieldModel(
        macro=piece[0].text + "!",
        args=tuple(text(a) for a in split_top(inner(piece, 2))),
        line=line,
        name=".".join(path),
        member=path[-1],
        info=shape.info,
        size=shape.size,
        count=count,
        vmsd=shape.vmsd,
        version=0,
        test=test,
        flags=frozenset(flags),
        state=struct,
    )


def _field_path(toks: Sequence[Tok]) -> tuple[list[str], str | None]:
    """``timers[0 .. num_timers_save]`` -> (["timers"], "num_timers_save")."""
    path: list[str] = []
    varray: str | None = None
    for k, t in enumerate(toks):
        if t.text == "[":
            words = [w.text for w in inner(toks, k) if w.kind == "ident"]
            varray = words[0] if words else None
            break
        if t.kind == "ident":
            path.append(t.text)
    return path, varray


def _not_read(st: _State, ident: str, piece: Sequence[Tok], why: str) -> FieldModel:
    line = piece[0].line if piece else 0
    st.unknowns.append(Unknown(line, f"VMSD {ident}: {why}"))
    return FieldModel(
        macro=(piece[0].text + "!") if piece else "?",
        args=(),
        line=line,
        name=text(piece)[:60],
        understood=False,
    )


# --- registrations and types --------------------------------------------------------


def _impl(st: _State, toks: Sequence[Tok], line: int) -> None:
    words = [t.text for t in toks[:10]]
    if "for" not in words:
        return
    trait = words[words.index("for") - 1]
    target = words[words.index("for") + 1] if words.index("for") + 1 < len(words) else ""
    if trait == "DeviceImpl":
        for k, t in enumerate(toks):
            if t.text == "VMSTATE" and k > 0 and toks[k - 1].text == "const":
                eq = next((j for j in range(k, len(toks)) if toks[j].text == "="), None)
                if eq is None:
                    continue
                end = next((j for j in range(eq, len(toks)) if toks[j].text == ";"), len(toks))
                names = [w.text for w in toks[eq + 1 : end] if w.kind == "ident"]
                names = [n for n in names if n not in ("Some", "None")]
                if names:
                    st.regs.append(Registration("dc->vmsd", names[-1], target, t.line))
            if t.text == "vmsd" and k > 0 and toks[k - 1].text == "fn":
                body = next((j for j in range(k, len(toks)) if toks[j].text == "{"), None)
                if body is not None:
                    names = [w.text for w in inner(toks, body) if w.kind == "ident"]
                    names = [n for n in names if n.isupper() or n.startswith("VMSTATE")]
                    if names:
                        st.regs.append(Registration("dc->vmsd", names[-1], target, t.line))
    if any(t.text == "TYPE_NAME" for t in toks) and target in st.crate.type_names:
        name = st.crate.qom_name(target) or st.crate.type_names[target]
        parent_struct = st.crate.parents.get(target)
        parent = (
            st.crate.qom_name(parent_struct) or st.table.qom_parents.get(parent_struct)
            if parent_struct
            else None
        )
        # class_init is the struct: the Rust registration names it (DeviceImpl for X).
        st.types.append(TypeModel(name, parent, target, line, target))


def _vmsd_arrow(st: _State, body: Sequence[Tok]) -> None:
    """``device_class_init! { ..., vmsd => VMSTATE_PL011 }`` (2024 bindings)."""
    for k, t in enumerate(body):
        if t.text == "vmsd" and k + 2 < len(body) and body[k + 1].text == "=>":
            st.regs.append(Registration("dc->vmsd", body[k + 2].text, None, t.line))


def _properties(st: _State, toks: Sequence[Tok]) -> None:
    """``#[property(rename = "migrate-clk", default = true)] migrate_clock: bool``.

    The struct stands for both the property array and the class_init of the
    C model (``prop_bindings``), so compat entries find the type's properties.
    """
    k = next((i for i, t in enumerate(toks) if t.text == "struct"), None)
    if k is None or k + 2 >= len(toks) or toks[k + 2].text != "{":
        return
    struct = toks[k + 1].text
    for piece in split_top(inner(toks, k + 2)):
        j = 0
        prop: list[Tok] | None = None
        while j + 1 < len(piece) and piece[j].text == "#" and piece[j + 1].text == "[":
            end = matching(piece, j + 1)
            attr = piece[j + 2 : end]
            if attr and attr[0].text == "property" and len(attr) > 1 and attr[1].text == "(":
                prop = inner(attr, 1)
            j = end + 1
        if prop is None:
            continue
        rest = piece[j:]
        if rest and rest[0].text == "pub":
            rest = (
                rest[1:] if len(rest) < 2 or rest[1].text != "(" else rest[matching(rest, 1) + 1 :]
            )
        if not rest or rest[0].kind != "ident":
            continue
        member = rest[0].text
        opts: dict[str, list[Tok]] = {}
        for kv in split_top(prop):
            if len(kv) >= 3 and kv[1].text == "=":
                opts[kv[0].text] = kv[2:]
        name = string_value(opts["rename"][0]) if "rename" in opts else None
        st.props.append(
            PropertyModel(
                array=struct,
                macro="#[property]",
                name=name or member,
                member=member,
                default=text(opts["default"]) if "default" in opts else None,
                line=rest[0].line,
                owner=struct,
            )
        )
