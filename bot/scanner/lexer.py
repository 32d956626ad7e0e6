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
from typing import Any

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


_KINDS = tuple(Kind)
_TOKEN_INTS = ctypes.sizeof(ci.Token) // 4
"""A ``CXToken`` is ``unsigned int_data[4]; void *ptr_data``: kind, raw location,
length, then padding and a pointer, read here as unsigned ints."""


def _collect(tu: ci.TranslationUnit, data: bytes) -> list[Token]:
    """The tokens from libclang's own token array: kind, location and length are
    its fields, so the text is ``data[offset:offset + length]``, with no call into
    libclang per token (the calls cost more than lexing). The location's raw
    encoding is the file offset plus a base, calibrated on the first and last
    tokens; any disagreement takes the slow path, one call per token."""
    lib = ci.conf.lib
    memory = ctypes.POINTER(ci.Token)()
    count = ctypes.c_uint()
    lib.clang_tokenize(tu, tu.cursor.extent, ctypes.byref(memory), ctypes.byref(count))
    n = int(count.value)
    if n == 0:
        return []
    try:
        fast = _collect_fast(tu, data, memory, n)
        return fast if fast is not None else _collect_slow(tu, data, memory, n)
    finally:
        lib.clang_disposeTokens(tu, memory, count)


def _offset_of(tu: ci.TranslationUnit, tok: ci.Token) -> int:
    lib = ci.conf.lib
    file_obj = ci.c_object_p()
    line_c, col_c, off_c = ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint()
    lib.clang_getInstantiationLocation(
        lib.clang_getTokenLocation(tu, tok),
        ctypes.byref(file_obj),
        ctypes.byref(line_c),
        ctypes.byref(col_c),
        ctypes.byref(off_c),
    )
    return off_c.value


def _collect_fast(tu: ci.TranslationUnit, data: bytes, memory: Any, n: int) -> list[Token] | None:
    """None when the token array does not read as expected."""
    if ctypes.sizeof(ci.Token) != _TOKEN_INTS * 4 or _TOKEN_INTS < 3 or b"\r" in data:
        return None  # libclang also ends lines at a lone CR: its own line numbers then
    ints = memoryview(ctypes.string_at(memory, n * ctypes.sizeof(ci.Token))).cast("I")
    kinds = ints[0::_TOKEN_INTS].tolist()
    locs = ints[1::_TOKEN_INTS].tolist()
    lengths = ints[2::_TOKEN_INTS].tolist()
    array = ctypes.cast(memory, ctypes.POINTER(ci.Token * n)).contents
    base = locs[0] - _offset_of(tu, array[0])
    size = len(data)
    for i in {0, n // 2, n - 1}:
        tok = array[i]
        if locs[i] - base != _offset_of(tu, tok):
            return None
        start = locs[i] - base
        spelled = ci.conf.lib.clang_getTokenSpelling(tu, tok)
        if data[start : start + lengths[i]].decode("utf-8", "replace") != spelled:
            return None
    newlines = _newlines(data)
    continued = _continued_lines(data, newlines)
    out: list[Token] = []
    directives = _Directives(continued)
    line = 1
    line_start = 0
    nl = 0
    n_newlines = len(newlines)
    kind_of = _KINDS
    for i in range(n):
        kind = kinds[i]
        if kind == 4:
            continue
        if kind > 4:
            return None
        start = locs[i] - base
        end = start + lengths[i]
        if start < line_start or end > size:
            return None  # tokens come in order, inside the text
        while nl < n_newlines and newlines[nl] < start:
            line_start = newlines[nl] + 1
            nl += 1
            line += 1
        text = data[start:end].decode("utf-8", "replace")
        if "\\" in text:
            spliced = _unsplice(text)
            if spliced is None:
                continue
            text = spliced
        out.append(
            Token(kind_of[kind], text, line, directives.at(i, text, line), start - line_start + 1)
        )
    return out


def _collect_slow(tu: ci.TranslationUnit, data: bytes, memory: Any, n: int) -> list[Token]:
    lib = ci.conf.lib
    newlines = _newlines(data)
    continued = _continued_lines(data, newlines)
    out: list[Token] = []
    array = ctypes.cast(memory, ctypes.POINTER(ci.Token * n)).contents
    file_obj = ci.c_object_p()
    line_c, col_c, off_c = ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint()
    get_loc = lib.clang_getTokenLocation
    inst = lib.clang_getInstantiationLocation
    spell = lib.clang_getTokenSpelling
    kind_of = lib.clang_getTokenKind
    directives = _Directives(continued)
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
            spliced = _unsplice(text)
            if spliced is None:
                continue
            text = spliced
        out.append(Token(Kind(kind), text, line, directives.at(i, text, line), col_c.value))
    return out


def _unsplice(text: str) -> str | None:
    """A token's spelling without the line splices libclang leaves inside it
    (None: nothing but a splice)."""
    text = text.replace("\\\r\n", "").replace("\\\n", "")
    return None if not text or text == "\\" else text


class _Directives:
    """Which preprocessor directive each token belongs to: ``#`` first on its line
    opens one (numbered by the token after it), running to the end of its line
    and of the lines continued with a backslash."""

    def __init__(self, continued: frozenset[int]) -> None:
        self._continued = continued
        self._current = 0
        self._last_line = -1
        self._prev_line = -1

    def at(self, i: int, text: str, line: int) -> int:
        if self._current and line > self._last_line:
            self._current = 0
        if text == "#" and line != self._prev_line and not self._current:
            self._current = i + 1
            self._last_line = line
            while self._last_line in self._continued:
                self._last_line += 1
        self._prev_line = line
        return self._current


def _continued_lines(data: bytes, newlines: list[int]) -> frozenset[int]:
    """1-based numbers of lines that end with a backslash continuation."""
    out = set()
    for lineno, pos in enumerate(newlines, start=1):
        end = pos - 1 if pos > 0 and data[pos - 1] == 13 else pos
        if end > 0 and data[end - 1] == 92:
            out.add(lineno)
    return frozenset(out)


def _newlines(data: bytes) -> list[int]:
    """Offsets of the ``\\n`` bytes of ``data``."""
    out = []
    at = data.find(b"\n")
    while at >= 0:
        out.append(at)
        at = data.find(b"\n", at + 1)
    return out
