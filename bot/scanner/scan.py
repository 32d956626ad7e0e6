"""The scanner: C text in, `FileModel` out.

Walks the top level of a file (tokens from libclang's lexer) and picks out
VMSDs, named field arrays, compat arrays, qdev property arrays, TypeInfos,
versioned machine definitions and the functions that ``.needed`` hooks and
``_TEST`` predicates name. What it cannot follow becomes an `Unknown`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.scanner.cpp import CodeToken, Define, ExpansionError, expand, split_directives
from bot.scanner.expr import (
    address_of,
    designated,
    identifier,
    int_value,
    matching,
    split_top,
    string_value,
    strip_parens,
    text,
)
from bot.scanner.fields import interpret
from bot.scanner.lexer import Kind, LexError, Token, tokenize
from bot.scanner.macros import MacroTable
from bot.scanner.model import (
    CompatArray,
    CompatEntry,
    FieldModel,
    FileModel,
    FunctionSummary,
    MachineVersion,
    PropertyModel,
    Registration,
    TypeModel,
    Unknown,
    VmsdModel,
)

StringResolver = Callable[[str], str | None]
"""Resolves a ``TYPE_*`` macro to its string, from headers of the tree."""

_INTERESTING = re.compile(
    rb"VMState|GlobalProperty|Property|_MACHINE|vmsd|vmstate_register|TypeInfo"
    rb"|#\s*define\s+TYPE_"
)
_COMPAT_NAME = re.compile(r"^(?P<family>[a-z0-9]+)_compat_(?P<major>\d+)_(?P<minor>\d+)$")
_COMPAT_MACRO = re.compile(r"^(?P<family>[A-Z0-9]+)_COMPAT_(?P<major>\d+)_(?P<minor>\d+)$")
_MACHINE_MACRO = re.compile(r"^DEFINE_(?P<family>\w*?)_?MACHINE(?P<rest>\w*)$")
_HOOKS = (
    "pre_load",
    "post_load",
    "pre_save",
    "post_save",
    "post_load_errp",
    "pre_load_errp",
    "pre_save_errp",
)
_REGISTER_FUNCS = {
    "vmstate_register": 2,
    "vmstate_register_any": 1,
    "vmstate_register_with_alias_id": 2,
    # spapr's pre-2.10 stand-in for vmstate_register (removed in QEMU 9.2)
    "vmstate_replace_hack_for_ppc": 2,
}


@dataclass(slots=True)
class _State:
    path: str
    table: MacroTable
    resolve: StringResolver | None
    vmsds: list[VmsdModel] = field(default_factory=list)
    field_arrays: dict[str, tuple[list[list[CodeToken]], int]] = field(default_factory=dict)
    subsection_arrays: dict[str, tuple[str, ...]] = field(default_factory=dict)
    subsection_array_ends: dict[str, bool] = field(default_factory=dict)
    compat: list[CompatArray] = field(default_factory=list)
    props: list[PropertyModel] = field(default_factory=list)
    machines: list[MachineVersion] = field(default_factory=list)
    regs: list[Registration] = field(default_factory=list)
    funcs: list[FunctionSummary] = field(default_factory=list)
    types: list[TypeModel] = field(default_factory=list)
    bindings: list[tuple[str, str]] = field(default_factory=list)
    local_funcs: dict[str, Define] = field(default_factory=dict)
    unknowns: list[Unknown] = field(default_factory=list)
    pending_vmsds: list[tuple[str, list[CodeToken], int, int, str | None]] = field(
        default_factory=list
    )

    def string(self, tokens: Sequence[Token]) -> str | None:
        direct = string_value(tokens, self.table.strings)
        if direct is not None:
            return direct
        name = identifier(tokens)
        if name and self.resolve:
            return self.resolve(name)
        return None


_INCLUDE_LINE = re.compile(r"\s*#\s*include\b")


def same_model(old_text: str, new_text: str, old: FileModel, new_path: str) -> bool:
    """Whether ``scan(new_text, new_path)`` is ``old`` (the scan of ``old_text``, with
    the same macro table) under its new path, without scanning: the texts are the
    same (a rename) or differ only in ``#include`` lines, line for line, outside
    every VMSD. The scanner reads no included file and keeps no token, so such
    an edit (a header moved, its includers updated) changes nothing it reports."""
    if old.path.rsplit(".", 1)[-1:] != new_path.rsplit(".", 1)[-1:]:
        return False
    if old_text == new_text:
        return True
    old_lines = old_text.split("\n")
    new_lines = new_text.split("\n")
    if len(old_lines) != len(new_lines):
        return False
    if bool(_INTERESTING.search(old_text.encode("utf-8", "replace"))) != bool(
        _INTERESTING.search(new_text.encode("utf-8", "replace"))
    ):
        return False
    for k, (a, b) in enumerate(zip(old_lines, new_lines, strict=True)):
        if a == b:
            continue
        line = k + 1
        if not (_INCLUDE_LINE.match(a) and _INCLUDE_LINE.match(b)):
            return False
        if "\\" in a or "\\" in b or "/*" in a + b or "*/" in a + b:
            return False  # a continued line or a comment: not a plain directive
        if k > 0 and (old_lines[k - 1].endswith("\\") or new_lines[k - 1].endswith("\\")):
            return False
        if any(v.line <= line <= v.end_line for v in old.vmsds):
            return False
    return True


def scan(
    text_: str,
    path: str,
    table: MacroTable,
    *,
    resolve: StringResolver | None = None,
) -> FileModel:
    """Model of one C file. Never raises on odd C: it records an `Unknown`."""
    if not _INTERESTING.search(text_.encode("utf-8", "replace")):
        return FileModel(path=path)
    try:
        tokens = tokenize(text_, path)
    except LexError as exc:
        return FileModel(path=path, unknowns=(Unknown(1, f"could not lex the file: {exc}"),))
    pre = split_directives(tokens, path)
    local = table.overlay(pre.defines)
    st = _State(path, local, resolve)
    st.local_funcs = {d.name: d for d in pre.defines if d.function_like}
    _walk(st, list(pre.code), pre.defines)
    _compat_macros(st, pre.defines)
    for d in pre.directives:
        if d.keyword == "include" and any(v.line <= d.line <= v.end_line for v in st.vmsds):
            st.unknowns.append(
                Unknown(
                    d.line, f"#include {text(d.tokens)} inside a VMSD: its fields were not read"
                )
            )
    for ident, body, line, end, generated in st.pending_vmsds:
        _vmsd(st, ident, body, line, end, generated)
    return FileModel(
        path=path,
        vmsds=tuple(st.vmsds),
        compat_arrays=tuple(st.compat),
        properties=tuple(st.props),
        machines=tuple(st.machines),
        registrations=tuple(st.regs),
        functions=tuple(st.funcs),
        string_defines=tuple(
            sorted((d.name, local.strings[d.name]) for d in pre.defines if d.name in local.strings)
        ),
        types=tuple(st.types),
        prop_bindings=tuple(st.bindings),
        unknowns=tuple(st.unknowns),
    )


def _compat_macros(st: _State, defines: Sequence[Define]) -> None:
    """Compat lists of older trees: ``#define PC_COMPAT_2_6 HW_COMPAT_2_6 { ... },``."""
    for d in defines:
        m = _COMPAT_MACRO.match(d.name)
        if m is None or d.function_like:
            continue
        body = list(d.body)
        entries: list[CompatEntry] = []
        k = 0
        while k < len(body):
            if body[k].text != "{":
                k += 1
                continue
            end = matching(body, k)
            init = designated(body[k : end + 1])
            if init and "driver" in init:
                entries.append(
                    _entry(
                        st,
                        d.name,
                        init["driver"],
                        init.get("property", []),
                        init.get("value", []),
                        body[k].line,
                        False,
                    )
                )
            k = end + 1
        version = (int(m.group("major")), int(m.group("minor")))
        st.compat.append(
            CompatArray(d.name, m.group("family").lower(), version, d.line, tuple(entries))
        )


def _entry(
    st: _State,
    array: str,
    drv: Sequence[Token],
    prop: Sequence[Token],
    val: Sequence[Token],
    line: int,
    optional: bool,
) -> CompatEntry:
    return CompatEntry(
        array=array,
        driver_expr=text(drv),
        driver=st.string(drv),
        prop=st.string(prop) or text(prop),
        value=st.string(val) or text(val),
        line=line,
        optional=optional,
    )


def _walk(st: _State, code: list[CodeToken], defines: Sequence[Define]) -> None:
    """Top-level declarations of ``code``."""
    local_generators = {d.name for d in defines if d.function_like and _generates_vmsd(d)}
    i = 0
    n = len(code)
    stmt_start = 0
    while i < n:
        t = code[i]
        if t.text in (";", "}"):
            i += 1
            stmt_start = i
            continue
        if t.text == "{":
            end = _match(code, i)
            _declaration(st, code, stmt_start, i, end)
            i = end + 1
            # A function body or an initializer followed by ';' both end here.
            if i < n and code[i].text == ";":
                i += 1
            stmt_start = i
            continue
        if t.kind == Kind.IDENT and i == stmt_start and i + 1 < n and code[i + 1].text == "(":
            end = _match(code, i + 1)
            if _MACHINE_MACRO.match(t.text):
                _machine(st, t, code[i + 2 : end])
            elif t.text in local_generators or (
                t.text in st.table.functions and _generates_vmsd(st.table.functions[t.text])
            ):
                _generated(st, code, i, end)
            i = end + 1
            if i < n and code[i].text == ";":
                i += 1
            stmt_start = i
            continue
        i += 1


def _generates_vmsd(d: Define) -> bool:
    return any(tok.text == "VMStateDescription" for tok in d.body)


def _match(code: Sequence[CodeToken], start: int) -> int:
    """`matching` on code tokens, without copying the tokens (it is called per brace)."""
    opening = code[start].tok.text
    closing = {"(": ")", "[": "]", "{": "}"}[opening]
    depth = 0
    for k in range(start, len(code)):
        t = code[k].tok.text
        if t == opening:
            depth += 1
        elif t == closing:
            depth -= 1
            if depth == 0:
                return k
    return len(code)


def _declaration(st: _State, code: list[CodeToken], start: int, brace: int, end: int) -> None:
    head = code[start:brace]
    words = [c.text for c in head]
    body = code[brace : end + 1]
    line, end_line = code[brace].line, code[min(end, len(code) - 1)].line
    if "=" in words:
        eq = words.index("=")
        decl = words[:eq]
        name = _declared_name(head[:eq])
        if name is None:
            return
        if "VMStateDescription" in decl and "*" in decl:
            # `const VMStateDescription * const foo_subsections[] = { &a, NULL }`:
            # a named subsection list, used as `.subsections = foo_subsections`.
            st.subsection_arrays[name] = _vmsd_refs([c.tok for c in body[1:-1]])
            st.subsection_array_ends[name] = _null_terminated([c.tok for c in body[1:-1]])
        elif "VMStateDescription" in decl:
            if "[" in decl:
                for k, elem in enumerate(_split_items(body)):
                    _queue_vmsd(st, f"{name}[{k}]", elem, head[0].line)
            else:
                st.pending_vmsds.append(
                    (name, body, head[0].line if head else line, end_line, None)
                )
        elif "VMStateField" in decl:
            st.field_arrays[name] = (_split_items(body), line)
        elif "GlobalProperty" in decl:
            _compat_array(st, name, body, head[0].line if head else line)
        elif "Property" in decl:
            _property_array(st, name, body)
        elif "TypeInfo" in decl:
            elems = _split_items(body) if "[" in decl else [body]
            for elem in elems:
                _type_info(st, elem)
        return
    # A function definition: NAME ( params ) {
    if len(head) >= 3 and words[-1] == ")":
        open_paren = _open_of(words)
        if open_paren > 0 and head[open_paren - 1].kind == Kind.IDENT:
            fname = head[open_paren - 1].text
            _function(st, fname, head[0].line, body)


def _type_info(st: _State, elem: Sequence[CodeToken]) -> None:
    toks = _expanded_element(st, [c.tok for c in elem])
    d = designated(toks)
    if not d or "name" not in d:
        return
    st.types.append(
        TypeModel(
            name=st.string(d["name"]) or text(d["name"]),
            parent=(st.string(d["parent"]) or text(d["parent"])) if "parent" in d else None,
            class_init=identifier(d.get("class_init", [])),
            line=elem[0].line if elem else 0,
            instance=_sizeof_type(d.get("instance_size", [])),
        )
    )


def _expanded_element(st: _State, toks: list[Token]) -> list[Token]:
    """An array element written as a macro call (``DEFINE_M68K_CPU_TYPE(m68000)``,
    CPU models by the dozen) as the initializer the macro expands to."""
    if (
        len(toks) < 3
        or toks[0].kind != Kind.IDENT
        or toks[1].text != "("
        or matching(toks, 1) != len(toks) - 1
    ):
        return toks
    d = st.table.functions.get(toks[0].text)
    if d is None or not d.body or d.body[0].text != "{":
        return toks
    try:
        return expand(toks, st.table.functions, only=(d.name,))
    except ExpansionError:
        return toks


def _sizeof_type(tokens: Sequence[Token]) -> str | None:
    toks = strip_parens(tokens)
    if len(toks) >= 4 and toks[0].text == "sizeof" and toks[1].text == "(":
        inner = [t.text for t in toks[2:-1] if t.text != "struct"]
        if len(inner) == 1:
            return inner[0]
    return None


def _open_of(words: list[str]) -> int:
    depth = 0
    for k in range(len(words) - 1, -1, -1):
        if words[k] == ")":
            depth += 1
        elif words[k] == "(":
            depth -= 1
            if depth == 0:
                return k
    return -1


def _declared_name(head: Sequence[CodeToken]) -> str | None:
    idents = [c.text for c in head if c.kind == Kind.IDENT]
    # `static const VMStateDescription vmstate_foo` -> last identifier
    return idents[-1] if idents else None


def _split_items(body: Sequence[CodeToken]) -> list[list[CodeToken]]:
    """Entries of ``{ a, b, c }`` keeping each token's #if condition."""
    inner = list(body[1:-1])
    items: list[list[CodeToken]] = [[]]
    depth = 0
    for c in inner:
        if c.text in ("(", "[", "{"):
            depth += 1
        elif c.text in (")", "]", "}"):
            depth -= 1
        if c.text == "," and depth == 0:
            items.append([])
            continue
        items[-1].append(c)
    return [it for it in items if it]


def _queue_vmsd(st: _State, ident: str, elem: list[CodeToken], line: int) -> None:
    if elem:
        st.pending_vmsds.append((ident, elem, elem[0].line, elem[-1].line, None))


def _vmsd(
    st: _State,
    ident: str,
    body: list[CodeToken],
    line: int,
    end_line: int,
    generated: str | None,
) -> None:
    toks = [c.tok for c in body]
    d = designated(toks)
    if d is None:
        st.unknowns.append(Unknown(line, f"VMSD {ident}: initializer is not designated"))
        return
    base_cond = body[0].condition if body else None
    name_expr = text(d["name"]) if "name" in d else None
    name = st.string(d["name"]) if "name" in d else None
    ints = st.table.objects
    version = int_value(strip_parens(d.get("version_id", [])), ints) if "version_id" in d else 0
    minimum = (
        int_value(strip_parens(d["minimum_version_id"]), ints) if "minimum_version_id" in d else 0
    )
    fields: list[FieldModel] = []
    fields_ref: str | None = None
    has_end = True
    if "fields" in d:
        fields, fields_ref, has_end = _fields(st, ident, body, d["fields"], base_cond)
    subsections: tuple[str, ...] = ()
    sub_line: int | None = None
    subs_ended = True
    if "subsections" in d:
        subs = d["subsections"]
        sub_line = subs[0].line if subs else None
        named = identifier(subs)
        if named is not None and named in st.subsection_arrays:
            subsections = st.subsection_arrays[named]
            subs_ended = st.subsection_array_ends.get(named, True)
        elif named is not None:
            st.unknowns.append(
                Unknown(sub_line or line, f"VMSD {ident}: subsections {named} not found")
            )
        else:
            subsections = _vmsd_refs(_braced_tail(subs))
            subs_ended = _null_terminated(_braced_tail(subs))
    hooks = tuple((h, identifier(d[h]) or text(d[h])) for h in _HOOKS if h in d)
    unmig = "unmigratable" in d and text(d["unmigratable"]) not in ("0", "false")
    # `.needed = &fn` is as common as `.needed = fn` (virtio, virtio-pci).
    needed = (address_of(d["needed"]) or text(d["needed"])) if "needed" in d else None
    st.vmsds.append(
        VmsdModel(
            ident=ident,
            line=line,
            end_line=end_line,
            name_expr=name_expr,
            name=name,
            version_id=version,
            version_expr=None if version is not None else text(d.get("version_id", [])),
            minimum_version_id=minimum,
            minimum_version_expr=(
                None if minimum is not None else text(d.get("minimum_version_id", []))
            ),
            needed=needed,
            hooks=hooks,
            unmigratable=unmig,
            fields=tuple(fields),
            fields_ref=fields_ref,
            has_end_of_list=has_end,
            subsections=subsections,
            subsections_line=sub_line,
            subsections_terminated=subs_ended,
            generated_by=generated,
            name_line=d["name"][0].line if d.get("name") else None,
        )
    )


def _vmsd_refs(tokens: Sequence[Token]) -> tuple[str, ...]:
    """``&a, &b, NULL`` -> ``("a", "b")``."""
    return tuple(s for s in (address_of(item) for item in split_top(tokens)) if s and s != "NULL")


def _null_terminated(tokens: Sequence[Token]) -> bool:
    """A subsection list ends with ``NULL``: the loader walks it until a null pointer."""
    items = split_top(tokens)
    if not items:
        return True  # an empty list: nothing to say
    return [t.text for t in items[-1]] in (["NULL"], ["0"])


def _braced_tail(tokens: Sequence[Token]) -> list[Token]:
    """``(const VMStateDescription *const []) { a, b }`` -> ``a, b``."""
    toks = list(tokens)
    for k, t in enumerate(toks):
        if t.text == "{":
            return toks[k + 1 : matching(toks, k)]
    return []


def _fields(
    st: _State,
    ident: str,
    body: list[CodeToken],
    value: list[Token],
    base_cond: str | None,
) -> tuple[list[FieldModel], str | None, bool]:
    """Fields of a VMSD: an inline compound literal or a named array."""
    ref = identifier(value)
    if ref is not None:
        if ref not in st.field_arrays:
            st.unknowns.append(
                Unknown(value[0].line, f"VMSD {ident}: fields array {ref} not found in this file")
            )
            return [], ref, True
        items, _ = st.field_arrays[ref]
    else:
        # Locate the compound literal's braces among the body's tokens (keeping
        # #if conditions, which `designated` dropped).
        if not value:
            st.unknowns.append(Unknown(body[0].line, f"VMSD {ident}: .fields not understood"))
            return [], None, True
        first = value[0]
        start = next((k for k, c in enumerate(body) if c.tok is first), None)
        if start is None:
            return [], None, True
        k = start
        while k < len(body) and body[k].text != "{":
            k += 1
        if k >= len(body):
            st.unknowns.append(Unknown(first.line, f"VMSD {ident}: .fields not understood"))
            return [], None, True
        items = _split_items(body[k : _match(body, k) + 1])
    fields: list[FieldModel] = []
    for item in items:
        cond = item[0].condition
        if cond == base_cond:
            cond = None
        elif base_cond and cond and cond.startswith(base_cond + " && "):
            cond = cond[len(base_cond) + 4 :]
        got, why = interpret([c.tok for c in item], st.table, cond)
        if why:
            st.unknowns.append(Unknown(item[0].line, f"VMSD {ident}: {why}"))
            fields.append(
                FieldModel(
                    macro=item[0].text,
                    args=(),
                    line=item[0].line,
                    name=text([c.tok for c in item])[:60],
                    understood=False,
                    condition=cond,
                )
            )
        fields.extend(got)
    has_end = bool(fields) and fields[-1].is_end
    return fields, ref, has_end


def _compat_array(st: _State, name: str, body: list[CodeToken], line: int) -> None:
    m = _COMPAT_NAME.match(name)
    family = m.group("family") if m else name
    version = (int(m.group("major")), int(m.group("minor"))) if m else None
    entries: list[CompatEntry] = []
    for item in _split_items(body):
        toks = [c.tok for c in item]
        inner = toks[1:-1] if toks and toks[0].text == "{" else toks
        d = designated(toks)
        if d is not None and "driver" in d:
            drv, prop, val = d.get("driver", []), d.get("property", []), d.get("value", [])
            optional = text(d.get("optional", [])) in ("true", "1")
        else:
            parts = split_top(inner)
            if len(parts) < 3:
                st.unknowns.append(Unknown(toks[0].line, f"{name}: entry not understood"))
                continue
            drv, prop, val = parts[0], parts[1], parts[2]
            optional = len(parts) > 3 and text(parts[3]) in ("true", ".optional = true")
        entries.append(_entry(st, name, drv, prop, val, toks[0].line, optional))
    st.compat.append(CompatArray(name, family, version, line, tuple(entries)))


_PROP_DEFAULT_ARG = {
    "DEFINE_PROP_BOOL": 3,
    "DEFINE_PROP_UINT8": 3,
    "DEFINE_PROP_UINT16": 3,
    "DEFINE_PROP_UINT32": 3,
    "DEFINE_PROP_INT32": 3,
    "DEFINE_PROP_UINT64": 3,
    "DEFINE_PROP_INT64": 3,
    "DEFINE_PROP_SIZE": 3,
    "DEFINE_PROP_STRING": None,
    "DEFINE_PROP_BIT": 4,
    "DEFINE_PROP_BIT64": 4,
    "DEFINE_PROP_ON_OFF_AUTO": 3,
}


def _property_array(st: _State, name: str, body: list[CodeToken]) -> None:
    for item in _split_items(body):
        head = item[0].text
        if head in st.local_funcs and not head.startswith("DEFINE_PROP"):
            # A file-local macro standing for several properties
            # (``DEFINE_SCSI_DISK_PROPERTIES()``): expand it in place.
            try:
                expanded = expand([c.tok for c in item], st.local_funcs)
            except ExpansionError:
                continue
            for sub in split_top(expanded):
                _property(st, name, sub, item[0].condition)
            continue
        _property(st, name, [c.tok for c in item], item[0].condition)


def _property(st: _State, name: str, toks: Sequence[Token], condition: str | None) -> None:
    if not toks or toks[0].kind != Kind.IDENT or len(toks) < 3 or toks[1].text != "(":
        return
    macro = toks[0].text
    if macro == "DEFINE_PROP_END_OF_LIST":
        return
    parts = split_top(toks[2:-1])
    if not parts:
        return
    # A name from a header macro stays as written: both sides of a change
    # spell it the same way, and compat entries usually use the string.
    pname = st.string(parts[0]) or text(parts[0])
    default_idx = _PROP_DEFAULT_ARG.get(macro, len(parts) - 1 if len(parts) > 3 else None)
    default = (
        text(parts[default_idx]) if default_idx is not None and default_idx < len(parts) else None
    )
    st.props.append(
        PropertyModel(
            array=name,
            macro=macro,
            name=pname,
            member=text(parts[2]) if len(parts) > 2 else None,
            default=default,
            line=toks[0].line,
            owner=text(parts[1]) if len(parts) > 1 else None,
            condition=condition,
        )
    )


def _machine(st: _State, t: CodeToken, args: Sequence[CodeToken]) -> None:
    m = _MACHINE_MACRO.match(t.text)
    assert m is not None
    nums: list[int] = []
    for part in split_top([c.tok for c in args]):
        v = int_value(part, st.table.objects)
        if v is None:
            break
        nums.append(v)
    if len(nums) >= 2:
        family = m.group("family").lower() or "machine"
        st.machines.append(
            MachineVersion(t.text, family, tuple(nums), t.line, latest="LATEST" in t.text)
        )


def _generated(st: _State, code: list[CodeToken], start: int, end: int) -> None:
    call = [c.tok for c in code[start : end + 1]]
    macro = call[0].text
    try:
        expanded = expand(call, st.table.functions, only=[macro])
    except ExpansionError as exc:
        st.unknowns.append(Unknown(call[0].line, f"{macro}: {exc}"))
        return
    cond = code[start].condition
    sub = [CodeToken(t, cond) for t in expanded]
    before = len(st.pending_vmsds)
    _walk(st, sub, ())
    st.pending_vmsds[before:] = [
        (ident, body, line, end_line, macro)
        for ident, body, line, end_line, _ in st.pending_vmsds[before:]
    ]


_VERSION_PARAMS = frozenset({"version_id", "version"})
"""How _TEST predicates name their stream-version parameter."""

_PROPS_SETTERS = frozenset({"device_class_set_props", "device_class_set_legacy_props"})


def _function(st: _State, name: str, line: int, body: list[CodeToken]) -> None:
    toks = [c.tok for c in body]
    _local_compat_arrays(st, name, body)
    if st.local_funcs:
        try:
            # Bodies often test flags through file-local macros (``chkflag(MAC)``).
            toks = expand(toks, st.local_funcs)
        except ExpansionError:
            toks = [c.tok for c in body]
    idents: set[str] = set()
    members: set[str] = set()
    eq = False
    for k, t in enumerate(toks):
        if t.kind == Kind.IDENT:
            idents.add(t.text)
            if k > 0 and toks[k - 1].text in ("->", "."):
                members.add(t.text)
        if t.text == "==" and (
            (k > 0 and toks[k - 1].text in _VERSION_PARAMS)
            or (k + 1 < len(toks) and toks[k + 1].text in _VERSION_PARAMS)
        ):
            eq = True
        _registration(st, name, toks, k)
        if t.text in _PROPS_SETTERS and k + 1 < len(toks) and toks[k + 1].text == "(":
            parts = split_top(toks[k + 2 : matching(toks, k + 1)])
            arr = identifier(parts[-1]) if parts else None
            if arr:
                st.bindings.append((name, arr))
        elif (
            t.text in ("props", "props_")
            and k > 0
            and toks[k - 1].text == "->"
            and (k + 2 < len(toks) and toks[k + 1].text == "=")
        ):
            arr = identifier(toks[k + 2 : k + 3])
            if arr:
                st.bindings.append((name, arr))
    constant = None
    if len(toks) == 5 and toks[1].text == "return":
        constant = toks[2].text
    st.funcs.append(
        FunctionSummary(
            name=name,
            line=line,
            end_line=toks[-1].line if toks else line,
            identifiers=frozenset(idents),
            members=frozenset(members),
            compares_version_eq=eq,
            returns_constant=constant,
        )
    )


def _local_compat_arrays(st: _State, func: str, body: list[CodeToken]) -> None:
    """``static GlobalProperty compat[] = {...}`` inside a machine's options function."""
    for k in range(len(body) - 3):
        if body[k].text != "GlobalProperty":
            continue
        j = k + 1
        while j < len(body) and body[j].text not in ("{", ";"):
            j += 1
        if j >= len(body) or body[j].text != "{":
            continue
        ident = next((c.text for c in body[k + 1 : j] if c.kind == Kind.IDENT), "compat")
        end = _match(body, j)
        m = _COMPAT_NAME.match(ident)
        fm = _MACHINE_OPTIONS.match(func)
        array = ident if m else f"{func}:{ident}"
        before = len(st.compat)
        _compat_array(st, array, body[j : end + 1], body[k].line)
        if not m and fm:
            arr = st.compat[before]
            st.compat[before] = CompatArray(
                arr.name,
                fm.group("family"),
                (int(fm.group("major")), int(fm.group("minor"))),
                arr.line,
                arr.entries,
            )


_MACHINE_OPTIONS = re.compile(
    r"^(?P<family>\w+?)_machine_(?P<major>\d+)_(?P<minor>\d+)_(?:class_)?options$"
)


def _registration(st: _State, func: str, toks: list[Token], k: int) -> None:
    t = toks[k]
    if t.text == "vmsd" and k > 0 and toks[k - 1].text == "->" and k + 1 < len(toks):
        if toks[k + 1].text == "=":
            end = k + 2
            while end < len(toks) and toks[end].text != ";":
                end += 1
            target = address_of(toks[k + 2 : end])
            if target:
                st.regs.append(Registration("dc->vmsd", target, func, t.line))
    elif t.text in _REGISTER_FUNCS and k + 1 < len(toks) and toks[k + 1].text == "(":
        end = matching(toks, k + 1)
        parts = split_top(toks[k + 2 : end])
        for part in parts:
            target = address_of(part)
            if target and part and part[0].text == "&":
                st.regs.append(Registration("vmstate_register", target, func, t.line))
                break
