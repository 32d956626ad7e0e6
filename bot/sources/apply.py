"""Apply hunks to a text in memory, the way ``patch`` does without fuzz.

Each hunk is tried where its header says, shifted by the drift of the hunks
before it, then at growing distances from there. Context must match exactly:
a hunk that matches nowhere is reported, never bent into place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.sources.diff import PatchHunk


@dataclass(frozen=True, slots=True)
class HunkFailure:
    """A hunk that did not apply: its 1-based number in the file and why."""

    number: int
    header: str
    reason: str

    def describe(self) -> str:
        return f"hunk #{self.number} ({self.header}) {self.reason}"


@dataclass(frozen=True, slots=True)
class Applied:
    """The lines after applying; meaningless for the file if ``failures``."""

    lines: list[str]
    failures: tuple[HunkFailure, ...]
    offsets: tuple[int, ...]
    """How far each applied hunk moved from its header, for the curious."""


def apply_hunks(lines: Sequence[str], hunks: Sequence[PatchHunk]) -> Applied:
    """Apply ``hunks`` in order to ``lines`` (each with its ``\\n``, see `split_lines`).

    Hunks that fail are skipped and reported; the others still apply, so every
    failing hunk of a file is reported at once.
    """
    out: list[str] = []
    done = 0  # lines[:done] are already copied or replaced
    drift = 0
    failures: list[HunkFailure] = []
    offsets: list[int] = []
    for number, hunk in enumerate(hunks, start=1):
        old = hunk.old_side()
        # A side of length 0 names the line *before* it (``@@ -5,0 +6,2 @@``).
        nominal = hunk.old_start if hunk.old_length == 0 else hunk.old_start - 1
        at = _locate(lines, old, nominal + drift, done, *_anchors(hunk))
        if at is None:
            failures.append(HunkFailure(number, hunk.header(), _why(lines, hunk, nominal + drift)))
            continue
        out.extend(lines[done:at])
        out.extend(hunk.new_side())
        done = at + len(old)
        drift = at - nominal
        offsets.append(drift)
    out.extend(lines[done:])
    return Applied(out, tuple(failures), tuple(offsets))


def _anchors(hunk: PatchHunk) -> tuple[bool, bool]:
    """Whether the hunk must match at the start and/or the end of the file.

    Git's rules: a hunk starting at line 1 (or 0) belongs at the top, and one
    without trailing context at the bottom. Hunks with no context at all
    (``diff -U0``) carry no such promise, except an insertion at line 0.
    """
    kinds = [ln.kind for ln in hunk.lines]
    leading = next((i for i, k in enumerate(kinds) if k != " "), len(kinds))
    trailing = next((i for i, k in enumerate(reversed(kinds)) if k != " "), len(kinds))
    if leading == 0 and trailing == 0:
        return hunk.old_start == 0, False
    return hunk.old_start <= 1, trailing == 0


def _locate(
    lines: Sequence[str],
    old: list[str],
    expected: int,
    lowest: int,
    at_start: bool,
    at_end: bool,
) -> int | None:
    """Where ``old`` matches, nearest to ``expected`` first; never before ``lowest``."""
    highest = len(lines) - len(old)
    if highest < lowest:
        return None
    if at_start:
        candidates: Sequence[int] = [0] if lowest == 0 else []
    elif at_end:
        candidates = [highest]
    else:
        candidates = _around(min(max(expected, lowest), highest), lowest, highest)
    for at in candidates:
        if at_end and at != highest:
            continue
        if _matches(lines, old, at):
            return at
    return None


def _around(start: int, lowest: int, highest: int) -> list[int]:
    """``start``, then alternately one further below and above, within bounds."""
    order = [start]
    for distance in range(1, max(start - lowest, highest - start) + 1):
        if start - distance >= lowest:
            order.append(start - distance)
        if start + distance <= highest:
            order.append(start + distance)
    return order


def _matches(lines: Sequence[str], old: list[str], at: int) -> bool:
    return all(lines[at + i] == want for i, want in enumerate(old))


def _why(lines: Sequence[str], hunk: PatchHunk, expected: int) -> str:
    """A one-line reason for a hunk that matched nowhere."""
    new = hunk.new_side()
    if new and any(_matches(lines, new, at) for at in range(0, max(0, len(lines) - len(new)) + 1)):
        return "does not apply: its result is already there (applied twice, or wrong base?)"
    old = hunk.old_side()
    if expected < 0 or expected + len(old) > len(lines):
        return f"does not apply: the file has only {len(lines)} lines"
    for i, want in enumerate(old):
        if lines[expected + i] != want:
            return (
                f"does not apply: line {expected + i + 1} is {_show(lines[expected + i])},"
                f" the patch expects {_show(want)}"
            )
    return "does not apply: it must match at the start or end of the file"


def _show(line: str) -> str:
    text = line.rstrip("\n")
    return repr(text if len(text) <= 60 else text[:57] + "...")
