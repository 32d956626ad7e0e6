"""Turn one entry of a VMSD field list into a `FieldModel`."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.scanner.cpp import ExpansionError, expand
from bot.scanner.expr import (
    address_of,
    designated,
    identifier,
    int_value,
    split_top,
    string_value,
    strip_parens,
    text,
)
from bot.scanner.lexer import Kind, Token
from bot.scanner.macros import MacroTable
from bot.scanner.model import FieldModel

INFO_SIZES = {
    "bool": 1,
    "int8": 1,
    "uint8": 1,
    "uint8_equal": 1,
    "int16": 2,
    "uint16": 2,
    "uint16_equal": 2,
    "int32": 4,
    "int32_equal": 4,
    "int32_le": 4,
    "uint32": 4,
    "uint32_equal": 4,
    "int64": 8,
    "uint64": 8,
    "uint64_equal": 8,
    "float64": 8,
    "cpudouble": 8,
    "timer": 8,
}

_EXPANDABLE = re.compile(r"^(?:VMSTATE_\w+|[A-Z][A-Z0-9_]*)$")
"""Upper-case macros, and every VMSTATE_ one (``VMSTATE_Hi16_ZMM_REGS_VARS``)."""


def interpret(
    item: Sequence[Token], table: MacroTable, condition: str | None
) -> tuple[list[FieldModel], str | None]:
    """Fields for one list entry (a macro may stand for several), or a reason why not."""
    toks = list(item)
    if not toks:
        return [], None
    line = toks[0].line
    head = toks[0]
    macro = head.text if head.kind == Kind.IDENT else "{initializer}"
    args: tuple[str, ...] = ()
    if head.kind == Kind.IDENT and len(toks) > 1 and toks[1].text == "(":
        args = tuple(text(a) for a in split_top(toks[2:-1]))
    if head.text == "{":
        inits = [toks]
    elif len(toks) == 1 and head.text in table.objects:
        # An object-like field macro (``VMSTATE_VIRTIO_DEVICE``) stands for its body.
        inits = split_top(list(table.objects[head.text]))
    else:
        if head.kind != Kind.IDENT or head.text not in table.functions:
            return [], f"{macro} is not a VMSTATE macro defined in the tree"
        try:
            expanded = expand(toks, table.functions, only=_expandable(table))
        except ExpansionError as exc:
            return [], f"{macro}: {exc}"
        inits = split_top(expanded)
    out: list[FieldModel] = []
    for init in inits:
        d = designated(init)
        if d is None:
            return [], f"{macro} does not expand to a VMStateField initializer"
        out.append(_field(d, table, macro, args, line, condition))
    return out, None


def _expandable(table: MacroTable) -> list[str]:
    return [n for n in table.functions if _EXPANDABLE.match(n)]


def _field(
    d: dict[str, list[Token]],
    table: MacroTable,
    macro: str,
    args: tuple[str, ...],
    line: int,
    condition: str | None,
) -> FieldModel:
    flags = frozenset(
        t.text for t in d.get("flags", []) if t.kind == Kind.IDENT and t.text.startswith("VMS_")
    )
    if "VMS_END" in flags:
        return FieldModel(macro="VMSTATE_END_OF_LIST", args=(), line=line, name="", flags=flags)
    ints = table.objects
    name = string_value(_stringified(d.get("name", []), table), table.strings) or "?"
    info = address_of(d["info"]) if "info" in d else None
    if info and info.startswith("vmstate_info_"):
        info = info[len("vmstate_info_") :]
    size: int | None = None
    size_expr: str | None = None
    if "size" in d:
        size = int_value(strip_parens(d["size"]), ints)
        if size is None:
            size_expr = text(d["size"])
    if "UINTTL" in macro:
        # 4 or 8 bytes by target (include/migration/cpu.h picks under #if).
        info, size, size_expr = "uinttl", None, None
    if size is None and info in INFO_SIZES:
        size = INFO_SIZES[info]
    count: str | None = None
    if "num" in d:
        n = int_value(d["num"], ints)
        count = str(n) if n is not None else text(strip_parens(d["num"]))
    elif "num_offset" in d:
        count = "@" + (_offset_member(d["num_offset"]) or text(d["num_offset"]))
    version: int | None = None
    version_expr: str | None = None
    if "version_id" in d:
        version = int_value(strip_parens(d["version_id"]), ints)
        if version is None:
            version_expr = text(d["version_id"])
    test = identifier(d["field_exists"]) if "field_exists" in d else None
    if test == "NULL":
        test = None
    vmsd = address_of(d["vmsd"]) if "vmsd" in d else None
    member = _offset_member(d["offset"]) if "offset" in d else None
    state = _offset_arg(d["offset"], 0) if "offset" in d else None
    if member is None and name not in ("?", "unused"):
        member = name
    understood = not (version is None and version_expr is not None)
    return FieldModel(
        macro=macro,
        args=args,
        line=line,
        name=name,
        member=member,
        info=info,
        size=size,
        size_expr=size_expr,
        size_given="size" in d,
        count=count,
        vmsd=vmsd,
        version=version if version else None,
        version_expr=version_expr,
        test=test,
        flags=flags,
        condition=condition,
        understood=understood,
        state=state,
    )


def _stringified(tokens: list[Token], table: MacroTable) -> list[Token]:
    """``stringify(regs[REG_HI])`` as QEMU's ``stringify`` sees it: object-like
    macros of the argument expanded first (``regs[1]``)."""
    tokens = strip_parens(tokens)
    if len(tokens) < 4 or tokens[0].text != "stringify" or tokens[1].text != "(":
        return tokens
    out: list[Token] = []
    for t in tokens[2:-1]:
        out.extend(_object_expansion(t, table, 8))
    return [*tokens[:2], *out, tokens[-1]]


def _object_expansion(t: Token, table: MacroTable, depth: int) -> list[Token]:
    body = table.objects.get(t.text) if t.kind == Kind.IDENT and depth else None
    if body is None or not body:
        return [t]
    return [x for b in body for x in _object_expansion(b, table, depth - 1)]


def _offset_member(tokens: Sequence[Token]) -> str | None:
    """``vmstate_offset_value(S, member, T)`` and friends -> ``member``."""
    return _offset_arg(tokens, 1)


def _offset_arg(tokens: Sequence[Token], k: int) -> str | None:
    toks = strip_parens(tokens)
    if len(toks) > 3 and toks[0].kind == Kind.IDENT and toks[1].text == "(":
        parts = split_top(toks[2:-1])
        if len(parts) > k:
            return text(parts[k])
    return None
