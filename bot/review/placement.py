"""Where a finding can be shown: on an exact diff line, or in the summary.

Pure. A finding and its place are two values; what cannot be placed inline
(no line, a line outside the diff, over the cap) is returned for the summary,
never dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.change import FileChange, HunkLine, LineKind
from bot.findings import Finding, Side


@dataclass(frozen=True, slots=True)
class Placement:
    """A diff line a forge accepts a comment on.

    ``kind`` is the hunk line's: added (only ``new_line``), removed (only
    ``old_line``) or context (both), which is how GitLab positions are
    written; GitHub wants `github_line` and `github_side`.
    """

    path: str
    old_path: str
    kind: LineKind
    new_line: int | None
    old_line: int | None

    @property
    def github_side(self) -> str:
        return "LEFT" if self.kind == "-" else "RIGHT"

    @property
    def github_line(self) -> int:
        line = self.old_line if self.kind == "-" else self.new_line
        assert line is not None
        return line


@dataclass(frozen=True, slots=True)
class Placed:
    finding: Finding
    placement: Placement


@dataclass(frozen=True, slots=True)
class Unplaced:
    finding: Finding
    reason: str


@dataclass(frozen=True, slots=True)
class PlacementResult:
    inline: tuple[Placed, ...]
    summary: tuple[Unplaced, ...]


NO_LINE = "not tied to a line"
NOT_IN_CHANGE = "file not in the change"
NOT_IN_DIFF = "line not in the diff"
OVER_CAP = "over the inline comment cap"
SAME_SUBJECT = "same subject as another inline finding"


def files_by_path(files: Iterable[FileChange]) -> dict[str, FileChange]:
    out: dict[str, FileChange] = {}
    for fc in files:
        for path in (fc.old_path, fc.new_path):
            if path:
                out.setdefault(path, fc)
        if fc.new_path:
            out[fc.new_path] = fc
    return out


def _find_line(fc: FileChange, side: Side, line: int) -> HunkLine | None:
    for hunk in fc.hunks:
        for hl in hunk.lines:
            if side is Side.OLD:
                if hl.old_line == line and hl.kind in "- ":
                    return hl
            elif hl.new_line == line and hl.kind in "+ ":
                return hl
    return None


def place(finding: Finding, files: Mapping[str, FileChange]) -> Placement | str:
    """The placement of one finding, or the reason it goes to the summary."""
    if finding.line is None or finding.side is Side.FILE:
        return NO_LINE
    fc = files.get(finding.path)
    if fc is None or fc.binary:
        return NOT_IN_CHANGE
    hl = _find_line(fc, finding.side, finding.line)
    if hl is None:
        return NOT_IN_DIFF
    return Placement(
        path=fc.path,
        old_path=fc.old_path or fc.path,
        kind=hl.kind,
        new_line=hl.new_line if hl.kind in "+ " else None,
        old_line=hl.old_line if hl.kind in "- " else None,
    )


def place_all(
    findings: Sequence[Finding], files: Iterable[FileChange], cap: int
) -> PlacementResult:
    """Place every finding; the most severe first get the ``cap`` inline slots."""
    by_path = files_by_path(files)
    order = sorted(range(len(findings)), key=lambda i: (-findings[i].severity.rank, i))
    inline: list[Placed] = []
    summary: list[Unplaced] = []
    seen: set[str] = set()
    for i in order:
        finding = findings[i]
        where = place(finding, by_path)
        if isinstance(where, str):
            summary.append(Unplaced(finding, where))
        elif finding.fingerprint in seen:
            summary.append(Unplaced(finding, SAME_SUBJECT))
        elif len(inline) >= cap:
            summary.append(Unplaced(finding, OVER_CAP))
        else:
            seen.add(finding.fingerprint)
            inline.append(Placed(finding, where))
    return PlacementResult(tuple(inline), tuple(summary))
