"""C tokens from libclang's lexer, with line numbers and directive grouping.

Only the lexer is used: no headers, no build, nothing from the tree is run.
A translation unit is still needed to lex, so the file is "parsed" with every
include missing; that fails fast and leaves the token stream intact.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from enum import IntEnum

import clang.cindex as ci

from bot.errors import InputError


class Kind(IntEnum):
    PUNCT = 0
    KEYWORD = 1
    IDENT = 2
    LITERAL = 3
    COMMENT = 4


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    text: str
    line: int
    directive: int = 0
    """Id of the preprocessor directive the token belongs to (0: none)."""
    col: int = 0
    """1-based column (0 for tokens the scanner made up)."""


class LexError(InputError):
    """libclang could not lex the text."""


_index_lock = threading.Lock()
_index: ci.Index | None = None


def _get_index() -> ci.Index:
    global _index
    with _index_lock:
        if _index is None:
            _index = ci.Index.create()
        return _index


_PARSE_OPTIONS = ci.TranslationUnit.PARSE_SKIP_FUNCTION_BODIES | ci.TranslationUnit.PARSE_INCOMPLETE


def tokenize(text: str, filename: str = "input.c") -> list[Token]:
    """Tokens of ``text`` (comments dropped), each with its 1-based line.

    Tokens inside a preprocessor directive share a non-zero ``directive`` id,
    so callers can tell ``#define`` bodies (continued lines included) from code.
    """
    data = text.encode("utf-8", "replace")
    name = filename if filename.endswith((".c", ".h", ".inc")) else filename + ".c"
    try:
        tu = _get_index().parse(
            name,
            args=["-x", "c", "-nostdinc", "-fsyntax-only", "-w"],
            unsaved_files=[(name, data.decode("utf-8", "replace"))],
            options=_PARSE_OPTIONS,
        )
    except ci.TranslationUnitLoadError as exc:
        raise LexError(str(exc)) from exc
    if data.decode("utf-8", "replace").encode() != data:
        # libclang got the replacement-decoded text; offsets refer to it.
        data = data.decode("utf-8", "replace").encode()
    return _collect(tu, data)


def _collect(tu: ci.TranslationUnit, data: bytes) -> list[Token]:
    lib = ci.conf.lib
    newlines = [i for i, b in enumerate(data) if b == 10]
    continued = _continued_lines(data, newlines)
    memory = ctypes.POINTER(ci.Token)()
    count = ctypes.c_uint()
    lib.clang_tokenize(tu, tu.cursor.extent, ctypes.byref(memory), ctypes.byref(count))
    n = int(count.value)
    if n == 0:
        return []
    out: list[Token] = []
    try:
        array = ctypes.cast(memory, ctypes.POINTER(ci.Token * n)).contents
        file_obj = ci.c_object_p()
        line_c, col_c, off_c = ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint()
        get_loc = lib.clang_getTokenLocation
        inst = lib.clang_getInstantiationLocation
        spell = lib.clang_getTokenSpelling
        kind_of = lib.clang_getTokenKind
        directive = 0
        directive_last_line = -1
        prev_line = -1
        for i in range(n):
            tok = array[i]
            kind = kind_of(tok)
            if kind == Kind.COMMENT:
                continue
            loc = get_loc(tu, tok)
            inst(
                loc,
                ctypes.byref(file_obj),
                ctypes.byref(line_c),
                ctypes.byref(col_c),
                ctypes.byref(off_c),
            )
            line = line_c.value
            text = spell(tu, tok)
            if "\\" in text:
                # libclang keeps a line splice inside the next token's spelling.
                text = text.replace("\\\r\n", "").replace("\\\n", "")
                if not text or text == "\\":
                    continue
            if directive and line > directive_last_line:
                directive = 0
            if text == "#" and line != prev_line and not directive:
                directive = i + 1
                directive_last_line = line
                while directive_last_line in continued:
                    directive_last_line += 1
            prev_line = line
            out.append(Token(Kind(kind), text, line, directive, col_c.value))
    finally:
        lib.clang_disposeTokens(tu, memory, count)
    return out


def _continued_lines(data: bytes, newlines: list[int]) -> frozenset[int]:
    """1-based numbers of lines that end with a backslash continuation."""
    out = set()
    for lineno, pos in enumerate(newlines, start=1):
        end = pos - 1 if pos > 0 and data[pos - 1] == 13 else pos
        if end > 0 and data[end - 1] == 92:
            out.add(lineno)
    return frozenset(out)
