"""Hunks from the per-file patch text forges return (GitLab ``diff``, GitHub ``patch``).

Those texts start at the first ``@@`` line: no ``---``/``+++`` headers. Pure.
"""

from __future__ import annotations

import re

from bot.change import Hunk, HunkLine, LineKind
from bot.errors import InputError

_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class PatchError(InputError):
    """A hunk header or body that does not add up."""


def parse_hunks(patch: str) -> tuple[Hunk, ...]:
    """Every hunk of one file's patch text, with 1-based line numbers per line."""
    hunks: list[Hunk] = []
    lines = patch.splitlines()
    i = 0
    while i < len(lines):
        match = _HUNK_HEADER.match(lines[i])
        if not match:
            i += 1
            continue
        old_start, new_start = int(match.group(1)), int(match.group(3))
        old_len = int(match.group(2)) if match.group(2) is not None else 1
        new_len = int(match.group(4)) if match.group(4) is not None else 1
        i += 1
        old, new = old_start, new_start
        body: list[HunkLine] = []
        while i < len(lines) and (old < old_start + old_len or new < new_start + new_len):
            text = lines[i]
            i += 1
            if text.startswith("\\"):
                continue  # "\ No newline at end of file"
            kind, rest = (text[:1] or " "), text[1:]
            if kind == "+":
                body.append(HunkLine(LineKind.ADDED, None, new, rest))
                new += 1
            elif kind == "-":
                body.append(HunkLine(LineKind.REMOVED, old, None, rest))
                old += 1
            elif kind == " " or text == "":
                body.append(HunkLine(LineKind.CONTEXT, old, new, rest))
                old += 1
                new += 1
            else:
                raise PatchError(f"unexpected line in hunk: {text[:40]!r}")
        if old != old_start + old_len or new != new_start + new_len:
            raise PatchError("hunk shorter than its header says")
        hunks.append(Hunk(old_start, old_len, new_start, new_len, tuple(body)))
    return tuple(hunks)
