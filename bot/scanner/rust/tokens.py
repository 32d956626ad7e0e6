"""Rust text to flat tokens, with tree-sitter-rust as the lexer.

The VMState forms live mostly inside macro invocations (``vmstate_fields!``,
``impl_vmstate_struct!``), whose bodies tree-sitter leaves as token trees.
So the scanner works on one uniform token list per top-level item, whether
the item was parsed as an expression or left as a token tree.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache

import tree_sitter_rust
from tree_sitter import Language, Node, Parser

_OPEN = {"(": ")", "[": "]", "{": "}"}
_ATOMIC = frozenset({"string_literal", "raw_string_literal", "char_literal"})
_SKIP = frozenset({"line_comment", "block_comment"})
_NOT_STATE = frozenset({"function_item", "use_declaration", "extern_crate_declaration"})
"""Items that never describe migration state; their bodies are most of a file."""


@dataclass(frozen=True, slots=True)
class Tok:
    text: str
    kind: str
    """``ident``, ``int``, ``str`` or ``punct``."""
    line: int


@dataclass(frozen=True, slots=True)
class Item:
    """One top-level item of a file: its tokens and first and last lines."""

    kind: str
    """tree-sitter node type (``static_item``, ``macro_invocation``, ``struct_item``...)."""
    toks: tuple[Tok, ...]
    line: int
    end_line: int
    has_error: bool = False
    """tree-sitter had to recover from a syntax error inside the item."""


@cache
def _parser() -> Parser:
    return Parser(Language(tree_sitter_rust.language()))


def items(text: str) -> list[Item]:
    """The top-level items of a Rust file, each flattened to tokens.

    ``mod`` blocks are entered (``mod registers { ... }`` holds items too);
    an ``expression_statement`` wrapping a macro call is unwrapped.
    """
    tree = _parser().parse(text.encode("utf-8", "surrogateescape"))
    out: list[Item] = []
    _collect(tree.root_node, out)
    return out


def _collect(node: Node, out: list[Item]) -> None:
    for child in node.named_children:
        if child.type in _SKIP:
            continue
        if child.type == "mod_item":
            body = child.child_by_field_name("body")
            if body is not None:
                _collect(body, out)
            continue
        kind = child.type
        if kind in _NOT_STATE:
            continue
        if kind == "expression_statement" and child.named_child_count == 1:
            inner = child.named_children[0]
            kind = inner.type
        out.append(
            Item(
                kind,
                tuple(_leaves(child)),
                child.start_point[0] + 1,
                child.end_point[0] + 1,
                child.has_error,
            )
        )


def _leaves(node: Node) -> Iterator[Tok]:
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type in _SKIP:
            continue
        if n.type == "function_item" and not _keeps_body(n):
            continue  # a method body: only `fn vmsd()` of the 2024 bindings names state
        if n.child_count == 0 or n.type in _ATOMIC:
            raw = n.text.decode("utf-8", "surrogateescape") if n.text is not None else ""
            if not raw:
                continue
            yield Tok(raw, _kind(n.type, raw), n.start_point[0] + 1)
            continue
        stack.extend(reversed(n.children))


def _keeps_body(fn: Node) -> bool:
    name = fn.child_by_field_name("name")
    return name is not None and name.text == b"vmsd"


def _kind(node_type: str, raw: str) -> str:
    if node_type in _ATOMIC:
        return "str"
    if node_type in ("integer_literal",):
        return "int"
    if raw[0].isalpha() or raw[0] == "_":
        return "ident"
    return "punct"


def matching(toks: Sequence[Tok], k: int) -> int:
    """Index of the bracket closing the one at ``k`` (the last index when unclosed)."""
    depth = 0
    for j in range(k, len(toks)):
        t = toks[j].text
        if t in _OPEN:
            depth += 1
        elif t in (")", "]", "}"):
            depth -= 1
            if depth == 0:
                return j
    return len(toks) - 1


def split_top(toks: Sequence[Tok], sep: str = ",") -> list[list[Tok]]:
    """Split at ``sep`` outside brackets; empty pieces (trailing commas) dropped."""
    out: list[list[Tok]] = [[]]
    depth = 0
    angle = 0
    for t in toks:
        if t.text in _OPEN:
            depth += 1
        elif t.text in (")", "]", "}"):
            depth -= 1
        elif t.text == "<" and depth == 0:
            angle += 1
        elif t.text == ">" and depth == 0 and angle:
            angle -= 1
        if t.text == sep and depth == 0 and angle == 0:
            out.append([])
            continue
        out[-1].append(t)
    return [piece for piece in out if piece]


def inner(toks: Sequence[Tok], k: int) -> list[Tok]:
    """Tokens between the bracket at ``k`` and its match."""
    return list(toks[k + 1 : matching(toks, k)])


def text(toks: Sequence[Tok]) -> str:
    """Tokens joined the way rustfmt would mostly print them."""
    out = ""
    for t in toks:
        if out and (t.kind in ("ident", "int", "str") and out[-1].isalnum()):
            out += " "
        out += t.text
    return out


def string_value(tok: Tok) -> str | None:
    """``c"pl011"``, ``"pl011"``, ``b"x"`` -> the text between the quotes."""
    if tok.kind != "str":
        return None
    raw = tok.text.lstrip("cbr#")
    if raw.startswith('"') and raw.endswith('"'):
        return raw[1:-1]
    return None
