"""Wire size changed from a distance: a header constant or struct member resizes
a VMSD field in another file whose text did not change.

``VMSTATE_UINT32_ARRAY(irq_state, GICState, GIC_MAXIRQ)`` reads the same before
and after a change to ``#define GIC_MAXIRQ`` in a header, yet sends a different
number of bytes. This follows each changed constant (and each struct member
whose array size changed) to the VMSDs of the tree that use it, and compares
the bytes those fields send at the base and at the head.

Lazy: only a header whose diff touches a ``#define`` or an array member is
read, and other files are searched only for constants whose value changed.
Careful where a maintainer would be: a constant under an ``#if`` (another
target's value), one whose value cannot be computed (``sizeof`` of a struct),
an array migrated with its own explicit count: no finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.change import Change, FileChange, FileStatus
from bot.compare import facts as F
from bot.compare.treefiles import TreeFiles
from bot.scanner.expr import int_value
from bot.scanner.lexer import Kind, Token
from bot.scanner.model import FieldModel, VmsdModel
from bot.scanner.structs import ELEMENT_SIZES, CFile, scan_c

_DEFINE = re.compile(r"^\s*#\s*define\s+([A-Za-z_]\w*)(?!\()\s(.*)$")
_ARRAY_MEMBER = re.compile(r"^\s+[A-Za-z_][\w\s\*]*\b(\w+)\s*\[[^\]]+\]")
_FIELD_OF = re.compile(r"(?:typeof_field|sizeof_field)\s*\(\s*(\w+)\s*,\s*(\w+)\s*\)")
_IMPORTED = ("linux-headers/", "include/standard-headers/")
"""Kernel headers copied in by scripts/update-linux-headers.sh: not QEMU's layouts."""
_MAX_SEARCHES = 8
"""Constants followed into the tree per header; more means a renumbering, not a resize."""
_WORD = re.compile(r"[A-Za-z_]\w*")


@dataclass(frozen=True, slots=True)
class _Const:
    name: str
    old: int
    new: int
    line: int


@dataclass(frozen=True, slots=True)
class _Member:
    struct: tuple[str, ...]
    member: str
    old_bytes: int
    new_bytes: int
    line: int
    cause: str


def wire_size_facts(change: Change, base: TreeFiles, head: TreeFiles) -> list[F.Fact]:
    out: list[F.Fact] = []
    seen: set[tuple[str, str, str]] = set()
    for fc in change.files:
        if not _worth_reading(fc):
            continue
        assert fc.old_text is not None and fc.new_text is not None
        old, new = scan_c(fc.old_text, fc.path), scan_c(fc.new_text, fc.path)
        consts = list(_changed_constants(old, new))
        members = list(_changed_members(old, new, consts))
        for fact in _users(fc.path, consts, members, base, head, old, new):
            key = (fact.subject or "", fact.vmsd or "", fact.field_path)
            if key not in seen:
                seen.add(key)
                out.append(fact)
    return out


def _worth_reading(fc: FileChange) -> bool:
    if fc.status is not FileStatus.MODIFIED or fc.old_text is None or fc.new_text is None:
        return False
    if not fc.path.endswith(".h") or fc.path.startswith(_IMPORTED):
        return False
    removed = [ln.text for h in fc.hunks for ln in h.lines if ln.kind == "-"]
    added = [ln.text for h in fc.hunks for ln in h.lines if ln.kind == "+"]
    old_defs = {m.group(1): m.group(2).strip() for t in removed if (m := _DEFINE.match(t))}
    new_defs = {m.group(1): m.group(2).strip() for t in added if (m := _DEFINE.match(t))}
    redefined = any(old_defs[n] != new_defs[n] for n in old_defs.keys() & new_defs.keys())
    old_arrays = {m.group(1): m.group(0) for t in removed if (m := _ARRAY_MEMBER.match(t))}
    new_arrays = {m.group(1): m.group(0) for t in added if (m := _ARRAY_MEMBER.match(t))}
    resized = any(old_arrays[n] != new_arrays[n] for n in old_arrays.keys() & new_arrays.keys())
    return redefined or resized


def _changed_constants(old: CFile, new: CFile) -> Iterable[_Const]:
    """Object-like constants defined once, outside any ``#if``, whose value changed."""
    old_consts, new_consts = old.constants(), new.constants()
    for name in new_consts.keys() & old_consts.keys():
        o = [c for c in old.defines if c.define.name == name]
        n = [c for c in new.defines if c.define.name == name]
        if len(o) != 1 or len(n) != 1 or o[0].condition or n[0].condition:
            continue
        # The same text may still change value through another constant.
        ov = int_value(o[0].define.body, old_consts)
        nv = int_value(n[0].define.body, new_consts)
        if ov is not None and nv is not None and ov != nv:
            yield _Const(name, ov, nv, n[0].define.line)


def _changed_members(old: CFile, new: CFile, consts: Sequence[_Const]) -> Iterable[_Member]:
    """Array members whose size in bytes changed (their dims, or a constant in them)."""
    old_consts, new_consts = old.constants(), new.constants()
    for s in new.structs:
        before = next((o for o in old.structs if set(o.names) & set(s.names)), None)
        if before is None:
            continue
        for m in s.members:
            b = before.member(m.name)
            if b is None or not m.dims or m.condition or b.condition:
                continue
            if b.type != m.type or m.pointer or b.pointer:
                continue
            ob = _bytes(b.type, b.dims, old_consts)
            nb = _bytes(m.type, m.dims, new_consts)
            if ob is None or nb is None or ob == nb:
                continue
            cause = f"the size of {s.names[-1]}.{m.name}"
            line = m.line
            if b.dims == m.dims:
                # the text is the same: a constant in it changed, say which
                words = set(_WORD.findall(" ".join(m.dims)))
                c = next((c for c in consts if c.name in words), None)
                if c is not None:
                    cause = (
                        f"#define {c.name} ({c.old} -> {c.new}), through {s.names[-1]}.{m.name},"
                    )
                    line = c.line
            yield _Member(s.names, m.name, ob, nb, line, cause)


def _bytes(type_: str, dims: Sequence[str], consts: Mapping[str, Sequence[Token]]) -> int | None:
    size = ELEMENT_SIZES.get(type_)
    if size is None:
        return None
    for d in dims:
        n = _value(d, consts)
        if n is None:
            return None
        size *= n
    return size


def _value(expr: str, consts: Mapping[str, Sequence[Token]]) -> int | None:
    return int_value(_tokens(expr), consts)


def _users(
    header: str,
    consts: Sequence[_Const],
    members: Sequence[_Member],
    base: TreeFiles,
    head: TreeFiles,
    old: CFile,
    new: CFile,
) -> Iterable[F.WireSizeChangedFromDistance]:
    for c in consts[:_MAX_SEARCHES]:
        for path in head.grep(c.name) or ():
            if path == header or not _in_vmstate_macro(head.read(path) or "", c.name):
                continue
            if not _uses_header(path, header, c.name, base, head):
                continue
            extra = _local_constants(head.read(path) or "")
            before = {**extra, **old.constants()}
            after = {**extra, **new.constants()}
            for v, f, o in _same_fields(path, base, head):
                words = set(_WORD.findall(" ".join(f.args)))
                if c.name not in words:
                    continue
                ob, nb = _wire(o, before), _wire(f, after)
                if ob is None or nb is None or ob == nb:
                    continue
                cause = f"#define {c.name} ({c.old} -> {c.new})"
                yield _fact(header, c.line, cause, path, v, f, ob, nb)
    for m in members:
        for path in _member_users(m, base, head):
            if path == header or not _uses_header(path, header, None, base, head):
                continue
            for v, f, _o in _same_fields(path, base, head):
                ref = _FIELD_OF.search(f.size_expr or "")
                if ref is None or ref.group(1) not in m.struct or ref.group(2) != m.member:
                    continue
                yield _fact(
                    header,
                    m.line,
                    m.cause,
                    path,
                    v,
                    f,
                    f"{m.old_bytes} bytes",
                    f"{m.new_bytes} bytes",
                )


def _wire(f: FieldModel, consts: Mapping[str, Sequence[Token]]) -> str | None:
    """What the field sends, in words: bytes when known, else elements."""
    count = 1 if f.count is None else _number(f.count, consts)
    if count is None:
        return None
    size = f.size if f.size is not None else _number(f.size_expr or "", consts)
    if f.is_struct or size is None:
        return f"{count} elements" if f.count is not None else None
    return (
        f"{count * size} bytes" if f.count is None else f"{count * size} bytes ({count} x {size})"
    )


def _number(expr: str, consts: Mapping[str, Sequence[Token]]) -> int | None:
    if expr.startswith("@"):
        return None  # a count read from the state at run time
    try:
        return int(expr, 0)
    except ValueError:
        return _value(expr, consts)


def _fact(
    header: str, line: int, cause: str, path: str, v: VmsdModel, f: FieldModel, old: str, new: str
) -> F.WireSizeChangedFromDistance:
    return F.WireSizeChangedFromDistance(
        path=header,
        line=line,
        vmsd=v.name or v.ident,
        subject=f.name,
        cause=cause,
        field=f.name,
        field_path=path,
        field_line=f.line,
        old_bytes=old,
        new_bytes=new,
    )


def _in_vmstate_macro(text: str, word: str) -> bool:
    """The word is an argument of a ``VMSTATE_*`` call (on its line or just below one)."""
    lines = text.splitlines()
    pattern = re.compile(rf"\b{re.escape(word)}\b")
    for k, line in enumerate(lines):
        if pattern.search(line) and any("VMSTATE_" in x for x in lines[max(0, k - 2) : k + 1]):
            return True
    return False


_LOCAL_DEFINE = re.compile(r"^\s*#\s*define\s+([A-Za-z_]\w*)[ \t]+([^\n]+)$", re.M)


def _local_constants(text: str) -> dict[str, Sequence[Token]]:
    return {
        name: _tokens(body.split("/*")[0].split("//")[0])
        for name, body in _LOCAL_DEFINE.findall(text)
    }


def _tokens(expr: str) -> list[Token]:
    return [
        Token(Kind.IDENT if w[0].isalpha() or w[0] == "_" else Kind.LITERAL, w, 0)
        if re.fullmatch(r"\w+", w)
        else Token(Kind.PUNCT, w, 0)
        for w in re.findall(r"\w+|<<|>>|\S", expr)
    ]


def _member_users(m: _Member, base: TreeFiles, head: TreeFiles) -> list[str]:
    out: list[str] = []
    for name in m.struct[:2]:
        for path in head.grep(name) or ():
            text = head.read(path) or ""
            buffer = re.compile(rf"VMSTATE_\w*BUFFER\w*\(\s*{re.escape(m.member)}\s*,")
            if path not in out and buffer.search(text):
                out.append(path)
    return out


def _uses_header(
    path: str, header: str, const: str | None, base: TreeFiles, head: TreeFiles
) -> bool:
    """The file takes the constant from this header (not its own or another header's)."""
    text = head.read(path) or ""
    if "VMSTATE" not in text:
        return False
    if const is not None and re.search(rf"^\s*#\s*define\s+{re.escape(const)}\b", text, re.M):
        return False
    return head.reaches(path, header) and base.reaches(path, header)


def _same_fields(
    path: str, base: TreeFiles, head: TreeFiles
) -> Iterable[tuple[VmsdModel, FieldModel, FieldModel]]:
    """Fields of VMSDs whose text and version are the same at both ends."""
    old_model, new_model = base.model(path), head.model(path)
    if old_model is None or new_model is None:
        return
    for v in new_model.vmsds:
        o = old_model.vmsd(v.ident)
        if o is None or o.version_id != v.version_id:
            continue
        before = {(f.macro, f.args): f for f in o.fields}
        for f in v.fields:
            of = before.get((f.macro, f.args))
            if of is not None and of.condition == f.condition:
                yield v, f, of
