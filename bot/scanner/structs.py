"""Struct layouts, constants and function bodies of one C header or source.

What the between-file checks need: which members a struct has (type, array
dimensions as expressions, under which ``#if``), which object-like ``#define``s
a header gives and under which ``#if``, and where each function body is.
Tokens come from the libclang lexer, like the VMSD scanner's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from bot.scanner.cpp import Define, _parse_define, track_condition
from bot.scanner.expr import int_value, matching, split_top
from bot.scanner.lexer import Kind, LexError, Token, tokenize


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    type: str
    """The declared type, without the declarator (``uint32_t``, ``QEMUTimer``)."""
    dims: tuple[str, ...]
    """Array dimensions as written (``GIC_MAXIRQ``, ``NB_MMU_MODES * 2``)."""
    line: int
    pointer: bool = False
    condition: str | None = None
    nested: bool = False
    """Inside a nested anonymous struct or union."""
    after_reset_fields: bool = False
    """Declared after ``end_reset_fields``: kept over reset, configuration, not state."""
    bitfield: bool = False
    inner: StructModel | None = None
    """The members of a named nested aggregate (``struct { ... } l;``)."""
    anon: StructModel | None = None
    """The anonymous aggregate (``union { ... };``) of this struct the member is in
    (its ``nested`` members are this one's, flattened)."""
    bits: str | None = None
    """A bitfield's width as written."""
    aligned: str | None = None
    """``QEMU_ALIGNED(n)`` on the declarator: ``n`` as written (``?`` for another
    ``__attribute__``)."""


@dataclass(frozen=True, slots=True)
class StructModel:
    names: tuple[str, ...]
    """The tag and every typedef name (``struct FooState`` and ``FooState``)."""
    members: tuple[Member, ...]
    line: int
    end_line: int
    union: bool = False
    attributes: tuple[str, ...] = ()
    """``QEMU_PACKED``, ``QEMU_ALIGNED`` or ``__attribute__`` written on the struct."""
    condition: str | None = None
    """The ``#if`` stack around the whole struct (a member's own is its ``condition``
    when it differs)."""

    def member(self, name: str) -> Member | None:
        for m in self.members:
            if m.name == name:
                return m
        return None


@dataclass(frozen=True, slots=True)
class ConstDefine:
    define: Define
    condition: str | None
    """The ``#if`` stack around it, include guard left out."""


@dataclass(frozen=True, slots=True)
class FunctionBody:
    name: str
    line: int
    end_line: int
    tokens: tuple[Token, ...]


@dataclass(frozen=True, slots=True)
class Typedef:
    """``typedef uint64_t Name;``, ``typedef struct Tag *Name;``, ``typedef enum {..} Name;``."""

    name: str
    type: str
    """The type named: a type's name (``uint64_t``, ``struct Tag``), ``*`` for a
    pointer or a function pointer, ``enum`` for an enum."""
    dims: tuple[str, ...] = ()
    condition: str | None = None


@dataclass(frozen=True, slots=True)
class CFile:
    path: str
    structs: tuple[StructModel, ...]
    defines: tuple[ConstDefine, ...]
    functions: tuple[FunctionBody, ...]
    includes: tuple[str, ...]
    typedefs: tuple[Typedef, ...] = ()

    def struct(self, name: str) -> StructModel | None:
        for s in self.structs:
            if name in s.names:
                return s
        return None

    def constants(self) -> dict[str, Sequence[Token]]:
        """Object-like defines, the last one winning (for evaluating expressions)."""
        return {c.define.name: c.define.body for c in self.defines if not c.define.function_like}

    def value(self, expr: Sequence[Token], extra: Mapping[str, Sequence[Token]] = {}) -> int | None:
        consts = {**extra, **self.constants()}
        return int_value(expr, consts)


# Built-in scalar element sizes, for array members whose wire size is sizeof().
ELEMENT_SIZES = {
    "uint8_t": 1,
    "int8_t": 1,
    "char": 1,
    "unsigned char": 1,
    "bool": 1,
    "uint16_t": 2,
    "int16_t": 2,
    "uint32_t": 4,
    "int32_t": 4,
    "int": 4,
    "unsigned": 4,
    "unsigned int": 4,
    "float32": 4,
    "uint64_t": 8,
    "int64_t": 8,
    "float64": 8,
    "hwaddr": 8,
}

_ATTRIBUTES = frozenset({"QEMU_PACKED", "QEMU_ALIGNED", "__attribute__"})

_GUARD = re.compile(r"^!defined\((\w+)\)$")


def scan_c(text: str, path: str) -> CFile:
    """Structs, object-like defines, function bodies and includes of one file."""
    try:
        tokens = tokenize(text, path)
    except LexError:
        return CFile(path, (), (), (), ())
    code: list[tuple[Token, str | None]] = []
    defines: list[ConstDefine] = []
    includes: list[str] = []
    stack: list[str] = []
    guard: str | None = None
    first_directive = True
    i, n = 0, len(tokens)
    while i < n:
        tok = tokens[i]
        if not tok.directive:
            if "defined(__cplusplus)" not in stack:  # `extern "C" {` is not C's
                code.append((tok, _condition(stack, guard)))
            i += 1
            continue
        j = i
        while j < n and tokens[j].directive == tok.directive:
            j += 1
        group = tokens[i + 1 : j]
        i = j
        if not group:
            continue
        keyword, rest = group[0].text, tuple(group[1:])
        if keyword == "ifndef" and first_directive and rest:
            guard = rest[0].text
        first_directive = False
        if keyword == "define" and rest:
            d = _parse_define(rest, path)
            if d.name != guard:
                defines.append(ConstDefine(d, _condition(stack, guard)))
        elif keyword == "include" and rest and rest[0].kind == Kind.LITERAL:
            includes.append(rest[0].text.strip('"'))
        else:
            track_condition(stack, keyword, rest)
    structs, functions = _walk(code)
    return CFile(
        path,
        tuple(structs),
        tuple(defines),
        tuple(functions),
        tuple(includes),
        tuple(_typedefs(code)),
    )


def _typedefs(code: Sequence[tuple[Token, str | None]]) -> list[Typedef]:
    """The typedefs that are not of a struct or union body (those are structs)."""
    out: list[Typedef] = []
    n = len(code)
    for i, (tok, cond) in enumerate(code):
        if tok.text != "typedef":
            continue
        j, depth = i + 1, 0
        while j < n and not (code[j][0].text == ";" and depth == 0):
            depth += {"{": 1, "}": -1}.get(code[j][0].text, 0)
            j += 1
        decl = [t for t, _c in code[i + 1 : j]]
        words = [t.text for t in decl]
        if not decl:
            continue
        if "{" in words:
            if words[0] == "enum" and decl[-1].kind == Kind.IDENT:
                out.append(Typedef(decl[-1].text, "enum", (), cond))
            continue
        fn = next(
            (k for k in range(len(words) - 2) if words[k] == "(" and words[k + 1] == "*"), None
        )
        if fn is not None:
            if decl[fn + 2].kind == Kind.IDENT:
                out.append(Typedef(decl[fn + 2].text, "*", (), cond))
            continue
        end = words.index("[") if "[" in words else len(words)
        if end < 2 or decl[end - 1].kind != Kind.IDENT:
            continue
        name = decl[end - 1].text
        dims: list[str] = []
        k = end
        while k < len(decl) and decl[k].text == "[":
            close = matching(decl, k)
            dims.append(" ".join(t.text for t in decl[k + 1 : close]))
            k = close + 1
        head = [w for w in words[: end - 1] if w not in ("const", "volatile")]
        if "*" in head:
            out.append(Typedef(name, "*", tuple(dims), cond))
        elif head and head[0] == "enum":
            out.append(Typedef(name, "enum", tuple(dims), cond))
        elif head:
            out.append(Typedef(name, " ".join(head), tuple(dims), cond))
    return out


def _condition(stack: list[str], guard: str | None) -> str | None:
    parts = [c for c in stack if not (guard and c == f"!defined({guard})")]
    return " && ".join(parts) if parts else None


def _walk(
    code: list[tuple[Token, str | None]],
) -> tuple[list[StructModel], list[FunctionBody]]:
    toks = [t for t, _c in code]
    conds = [c for _t, c in code]
    structs: list[StructModel] = []
    functions: list[FunctionBody] = []
    i, n = 0, len(toks)
    stmt = 0
    while i < n:
        t = toks[i]
        if t.text in (";", "}"):
            i += 1
            stmt = i
            continue
        if t.text != "{":
            i += 1
            continue
        end = matching(toks, i)
        head = toks[stmt:i]
        words = [h.text for h in head]
        if words and words[-1] == ")" and "=" not in words and "struct" not in words[:1]:
            name = _function_name(head)
            if name:
                functions.append(
                    FunctionBody(
                        name, head[0].line, toks[min(end, n - 1)].line, tuple(toks[i : end + 1])
                    )
                )
            i = end + 1
            stmt = i
            continue
        core = [w for w in words if w not in _ATTRIBUTES]  # `struct QEMU_PACKED Foo {`
        if (len(core) >= 1 and core[-1] in ("struct", "union")) or (
            len(core) >= 2 and core[-2] in ("struct", "union") and head[-1].kind == Kind.IDENT
        ):
            names: list[str] = []
            if head[-1].kind == Kind.IDENT and core[-1] not in ("struct", "union"):
                names.append(head[-1].text)
            members = _members(toks, conds, i, end)
            # After the body: `} Name;` for typedefs, or a variable declaration.
            k = end + 1
            typedef = "typedef" in words
            attributes = [w for w in words if w in _ATTRIBUTES]
            while k < n and toks[k].text != ";":
                if toks[k].text in _ATTRIBUTES and k + 1 < n and toks[k + 1].text == "(":
                    close = matching(toks, k + 1)
                    attributes.append(" ".join(t.text for t in toks[k : close + 1]))
                    k = close + 1
                    continue
                if toks[k].text in _ATTRIBUTES:
                    attributes.append(toks[k].text)
                elif typedef and toks[k].kind == Kind.IDENT and toks[k - 1].text != "(":
                    names.append(toks[k].text)
                k += 1
            if names and "=" not in words:
                structs.append(
                    StructModel(
                        tuple(dict.fromkeys(names)),
                        tuple(members),
                        head[0].line,
                        toks[min(end, n - 1)].line,
                        union="union" in core[-2:],
                        attributes=tuple(attributes),
                        condition=conds[i],
                    )
                )
            i = k
            continue
        i = end + 1
        if i < n and toks[i].text == ";":
            i += 1
        stmt = i
    # typedef struct Tag Name; gives the struct another name
    for k in range(n - 3):
        if (
            toks[k].text == "typedef"
            and toks[k + 1].text == "struct"
            and toks[k + 3].kind == Kind.IDENT
            and k + 4 < n
            and toks[k + 4].text == ";"
        ):
            tag, alias = toks[k + 2].text, toks[k + 3].text
            for s_i, s in enumerate(structs):
                if tag in s.names and alias not in s.names:
                    structs[s_i] = replace(s, names=(*s.names, alias))
    return structs, functions


def _function_name(head: Sequence[Token]) -> str | None:
    depth = 0
    for k in range(len(head) - 1, -1, -1):
        if head[k].text == ")":
            depth += 1
        elif head[k].text == "(":
            depth -= 1
            if depth == 0:
                if k > 0 and head[k - 1].kind == Kind.IDENT:
                    return head[k - 1].text
                return None
    return None


def _members(
    toks: list[Token], conds: list[str | None], start: int, end: int, nested: bool = False
) -> list[Member]:
    """Members of the body ``toks[start] == '{'`` .. ``toks[end] == '}'``."""
    out: list[Member] = []
    k = start + 1
    decl_start = k
    after_reset = False
    while k < end:
        t = toks[k]
        if t.text == "{":
            close = matching(toks, k)
            decl = toks[decl_start:k]
            # name after the closing brace, if any
            j = close + 1
            tail: list[Token] = []
            while j < end and toks[j].text != ";":
                tail.append(toks[j])
                j += 1
            inner = _members(toks, conds, k, close, nested=True)
            attrs = _attributes(tail)
            if attrs is not None:  # anonymous: `union { ... };`, `struct { ... } QEMU_PACKED;`
                head_words = [x.text for x in decl]
                anon = StructModel(
                    (),
                    tuple(inner),
                    toks[k].line,
                    toks[close].line,
                    union="union" in head_words,
                    attributes=tuple(
                        dict.fromkeys([*(w for w in head_words if w in _ATTRIBUTES), *attrs])
                    ),
                    condition=conds[k],
                )
                out.extend(
                    replace(
                        m,
                        nested=True,
                        after_reset_fields=after_reset or m.after_reset_fields,
                        anon=anon,
                    )
                    for m in inner
                )
            else:
                kind = " ".join(x.text for x in decl) or "struct"
                got = _declarators(kind + " {...}", tail, conds[k], nested, after_reset)
                aggregate = StructModel(
                    (),
                    tuple(_members(toks, conds, k, close)),
                    toks[k].line,
                    toks[close].line,
                    union="union" in kind.split(),
                    condition=conds[k],
                )
                out.extend(replace(m, inner=aggregate) for m in got)
                if any(m.name == "end_reset_fields" for m in got):
                    after_reset = True
            k = j + 1
            decl_start = k
            continue
        if t.text == ";":
            decl = toks[decl_start:k]
            got = _declaration(
                decl, conds[decl_start] if decl_start < len(conds) else None, nested, after_reset
            )
            if any(m.name == "end_reset_fields" for m in got):
                after_reset = True
            out.extend(got)
            decl_start = k + 1
        k += 1
    return out


_QUALIFIERS = {
    "const",
    "volatile",
    "static",
    "struct",
    "union",
    "enum",
    "unsigned",
    "signed",
    "QEMU_ALIGNED",
}


def _attributes(tail: Sequence[Token]) -> list[str] | None:
    """The attributes of a tail made only of them (``QEMU_PACKED``,
    ``QEMU_ALIGNED(8)``), or None when it declares something."""
    out: list[str] = []
    k = 0
    while k < len(tail):
        if tail[k].text not in _ATTRIBUTES:
            return None
        if k + 1 < len(tail) and tail[k + 1].text == "(":
            close = matching(tail, k + 1)
            out.append(" ".join(t.text for t in tail[k : close + 1]))
            k = close + 1
        else:
            out.append(tail[k].text)
            k += 1
    return out


def _declaration(
    decl: Sequence[Token], cond: str | None, nested: bool, after_reset: bool
) -> list[Member]:
    if not decl:
        return []
    words = [d.text for d in decl]
    if (
        "(" in words
        and "*" in words
        and words.index("(") < len(words) - 1
        and words[words.index("(") + 1] == "*"
    ):
        # function pointer: `void (*cb)(void *)`
        name_k = words.index("(") + 2
        if name_k < len(decl) and decl[name_k].kind == Kind.IDENT:
            return [
                Member(
                    decl[name_k].text,
                    "fnptr",
                    (),
                    decl[name_k].line,
                    True,
                    cond,
                    nested,
                    after_reset,
                )
            ]
        return []
    # type = leading tokens up to the first declarator
    parts = split_top(list(decl))
    first = parts[0]
    # the declarator of the first part starts at its last identifier before [ : or end
    k = len(first)
    for j, tok in enumerate(first):
        if tok.text in ("[", ":"):
            k = j
            break
    # attributes like QEMU_ALIGNED(16) at the end
    name_idx = None
    for j in range(k - 1, -1, -1):
        if first[j].kind == Kind.IDENT and (j == 0 or first[j - 1].text != "("):
            name_idx = j
            break
    if name_idx == 0 and k < len(first) and first[k].text == ":":
        # an unnamed bitfield, `uint32_t :0;`: padding, still laid out
        bits = " ".join(x.text for x in first[k + 1 :])
        return [
            Member(
                "",
                first[0].text,
                (),
                first[0].line,
                False,
                cond,
                nested,
                after_reset,
                True,
                bits=bits,
            )
        ]
    if name_idx is None or name_idx == 0:
        return []
    type_toks = [x for x in first[:name_idx] if x.text != "*"]
    type_text = " ".join(x.text for x in type_toks if x.text not in ("const", "volatile"))
    declarators = [first[name_idx - (1 if first[name_idx - 1].text == "*" else 0) :], *parts[1:]]
    return _declarators(
        type_text, [tok for p in _join(declarators) for tok in p], cond, nested, after_reset
    )


def _join(parts: Sequence[Sequence[Token]]) -> list[list[Token]]:
    out: list[list[Token]] = []
    for k, p in enumerate(parts):
        if k:
            out.append([Token(Kind.PUNCT, ",", p[0].line if p else 0)])
        out.append(list(p))
    return out


def _declarators(
    type_text: str, tail: Sequence[Token], cond: str | None, nested: bool, after_reset: bool
) -> list[Member]:
    out: list[Member] = []
    for part in split_top(list(tail)):
        name = next((x for x in part if x.kind == Kind.IDENT and x.text not in _QUALIFIERS), None)
        if name is None:
            continue
        # `*` before the name: `uint8_t regs[A * B]` is an array, not a pointer
        pointer = any(x.text == "*" for x in part[: part.index(name)])
        dims: list[str] = []
        j = 0
        while j < len(part):
            if part[j].text == "[":
                close = matching(part, j)
                dims.append(" ".join(x.text for x in part[j + 1 : close]))
                j = close + 1
                continue
            j += 1
        colon = next((j for j, x in enumerate(part) if x.text == ":"), None)
        bitfield = colon is not None
        bits = " ".join(x.text for x in part[colon + 1 :]) if colon is not None else None
        aligned = None
        for j, x in enumerate(part):
            if x.text == "QEMU_ALIGNED" and j + 1 < len(part) and part[j + 1].text == "(":
                close = matching(part, j + 1)
                aligned = " ".join(y.text for y in part[j + 2 : close])
            elif x.text == "__attribute__":
                aligned = "?"
        if colon is not None and aligned is not None:
            bits = " ".join(x.text for x in part[colon + 1 :] if x.text not in _ATTRIBUTES)
        out.append(
            Member(
                name.text,
                type_text,
                tuple(dims),
                name.line,
                pointer,
                cond,
                nested,
                after_reset,
                bitfield,
                bits=bits,
                aligned=aligned,
            )
        )
    return out


def enclosing_block(lines: Sequence[str], line: int) -> tuple[int, int] | None:
    """1-based first and last line of the top-level construct (a function, a
    struct) around ``line``, found by QEMU's layout (braces in column 0 or a
    column-0 line ending in ``{``); None when the layout does not tell."""
    k = line - 1
    if k >= len(lines):
        return None
    start = None
    for j in range(k, -1, -1):
        text = lines[j]
        if text.startswith("}") and j != k:
            return None  # outside any top-level block
        if text.startswith("{") or (text[:1].isalpha() and text.rstrip().endswith("{")):
            start = j
            break
    if start is None:
        return None
    # the head of a function: lines above `{` up to a blank line or a closing one
    head = start
    if lines[start].startswith("{"):
        while head > 0 and lines[head - 1].strip() and not lines[head - 1].startswith(("}", "#")):
            head -= 1
    end = None
    for j in range(max(k, start + 1), len(lines)):
        if lines[j].startswith("}"):
            end = j
            break
    if end is None:
        return None
    return head + 1, end + 1


def scan_block(text: str, path: str, line: int) -> CFile | None:
    """`scan_c` of only the top-level construct around ``line`` (cheap on big files)."""
    lines = text.splitlines()
    span = enclosing_block(lines, line)
    if span is None:
        return None
    first, last = span
    snippet = "\n" * (first - 1) + "\n".join(lines[first - 1 : last]) + "\n"
    return scan_c(snippet, path)
