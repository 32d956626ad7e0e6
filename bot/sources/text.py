"""Text helpers shared by the sources: decoding, line splitting, hunks from texts.

Lines are split on ``\\n`` only, as git counts them: ``str.splitlines`` also
splits on form feeds and Unicode separators, which would shift line numbers.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from bot.change import Hunk, HunkLine, LineKind

CONTEXT = 3
"""Context lines around recomputed hunks, git's default."""


def decode(data: bytes) -> str:
    """Decode file or diff bytes as UTF-8, never failing.

    Invalid bytes become U+FFFD rather than lone surrogates: the texts go on to
    JSON, databases and terminals, whose encoders reject surrogates. A newline
    byte is never part of a multi-byte sequence, so line numbers are unchanged.
    """
    return data.decode("utf-8", errors="replace")


def split_lines(text: str) -> list[str]:
    """Split after each ``\\n``, keeping it; a last line without one stays bare."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def unquote_path(name: str) -> str:
    """Undo git's C-style quoting of a path (``"a/caf\\303\\251.c"``).

    A name that is not quoted is returned unchanged.
    """
    if len(name) < 2 or not (name.startswith('"') and name.endswith('"')):
        return name
    body = name[1:-1]
    out = bytearray()
    simple = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}
    i = 0
    while i < len(body):
        char = body[i]
        if char != "\\" or i + 1 == len(body):
            out += char.encode("utf-8", errors="surrogateescape")
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in simple:
            out.append(simple[nxt])
            i += 2
        elif body[i + 1 : i + 4].isdigit() and len(body[i + 1 : i + 4]) == 3:
            out.append(int(body[i + 1 : i + 4], 8) & 0xFF)
            i += 4
        else:
            out += b"\\"
            i += 1
    return decode(bytes(out))


def diff_hunks(old: Sequence[str], new: Sequence[str], context: int = CONTEXT) -> tuple[Hunk, ...]:
    """Unified hunks from ``old`` to ``new`` (lines as `split_lines` makes them).

    The common head and tail are cut before difflib sees the texts: a series
    usually touches a few places of a long file, and SequenceMatcher's cost
    grows with the length it is given.
    """
    head = 0
    limit = min(len(old), len(new))
    while head < limit and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < limit - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    if head == len(old) == len(new):
        return ()
    # Keep some equal lines on both sides so difflib can add context itself.
    lo = max(0, head - context)
    old_mid = old[lo : len(old) - max(0, tail - context)]
    new_mid = new[lo : len(new) - max(0, tail - context)]
    matcher = difflib.SequenceMatcher(None, old_mid, new_mid, autojunk=True)
    hunks: list[Hunk] = []
    for group in matcher.get_grouped_opcodes(context):
        lines: list[HunkLine] = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                for k in range(i2 - i1):
                    lines.append(
                        HunkLine(
                            LineKind.CONTEXT,
                            lo + i1 + k + 1,
                            lo + j1 + k + 1,
                            _strip(old_mid[i1 + k]),
                        )
                    )
                continue
            for k in range(i1, i2):
                lines.append(HunkLine(LineKind.REMOVED, lo + k + 1, None, _strip(old_mid[k])))
            for k in range(j1, j2):
                lines.append(HunkLine(LineKind.ADDED, None, lo + k + 1, _strip(new_mid[k])))
        start = lo + group[0][1]
        hunks.append(_hunk_from_lines(lines, start, lo + group[0][3], funcname(old, start)))
    return tuple(hunks)


def funcname(lines: Sequence[str], before: int) -> str:
    """Git's default hunk section: the last line before ``before`` (0-based)
    that starts with a letter, ``_`` or ``$``, such as a C function's head."""
    for index in range(min(before, len(lines)) - 1, -1, -1):
        line = lines[index]
        if (line[:1].isascii() and line[:1].isalpha()) or line[:1] in ("_", "$"):
            return line.rstrip()[:80]
    return ""


def _hunk_from_lines(lines: list[HunkLine], old_index: int, new_index: int, section: str) -> Hunk:
    """Wrap lines in a hunk whose header follows the unified-diff convention.

    ``old_index``/``new_index`` are the 0-based positions where the hunk starts;
    an empty side's start is the line before it, as ``diff -u`` writes it.
    """
    old_length = sum(1 for ln in lines if ln.kind != "+")
    new_length = sum(1 for ln in lines if ln.kind != "-")
    return Hunk(
        old_start=old_index + 1 if old_length else old_index,
        old_length=old_length,
        new_start=new_index + 1 if new_length else new_index,
        new_length=new_length,
        lines=tuple(lines),
        section=section,
    )


def _strip(line: str) -> str:
    return line[:-1] if line.endswith("\n") else line
