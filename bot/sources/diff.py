"""Unified diffs (git's or plain ``diff -u``) parsed into file patches.

`unidiff` finds files, hunks and line numbers; this module adds what a review
needs on top: exact paths (renames, quoting, prefixes), the status, and where a
line has no newline at the end of the file, which the hunk applier must honour.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from unidiff.errors import UnidiffParseError
from unidiff.patch import Hunk as UnidiffHunk
from unidiff.patch import PatchedFile, PatchSet

from bot.change import FileChange, FileStatus, Hunk, HunkLine, LineKind
from bot.sources.errors import SourceError
from bot.sources.text import decode, unquote_path

DEV_NULL = "/dev/null"

# One-letter prefixes git writes before paths: a/ b/, the mnemonic ones, and
# --no-index's 1/ 2/.
_PREFIX = re.compile(r"[abciow12]/")
_HEADER_LINE = re.compile(r"^(diff --git |--- |\+\+\+ |@@ -)", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class PatchLine:
    """A hunk line; ``eol`` is False when the patch says "\\ No newline"."""

    kind: str
    text: str
    eol: bool = True

    @property
    def full(self) -> str:
        """The line as it is in the file, terminator included."""
        return self.text + "\n" if self.eol else self.text


@dataclass(frozen=True, slots=True)
class PatchHunk:
    old_start: int
    old_length: int
    new_start: int
    new_length: int
    lines: tuple[PatchLine, ...]
    section: str = ""

    def old_side(self) -> list[str]:
        return [ln.full for ln in self.lines if ln.kind != "+"]

    def new_side(self) -> list[str]:
        return [ln.full for ln in self.lines if ln.kind != "-"]

    def header(self) -> str:
        return f"@@ -{self.old_start},{self.old_length} +{self.new_start},{self.new_length} @@"

    def to_hunk(self) -> Hunk:
        """The carrier hunk, with 1-based line numbers on each line."""
        old, new = self.old_start, self.new_start
        lines: list[HunkLine] = []
        for ln in self.lines:
            if ln.kind == "+":
                lines.append(HunkLine(LineKind.ADDED, None, new, ln.text))
                new += 1
            elif ln.kind == "-":
                lines.append(HunkLine(LineKind.REMOVED, old, None, ln.text))
                old += 1
            else:
                lines.append(HunkLine(LineKind.CONTEXT, old, new, ln.text))
                old += 1
                new += 1
        return Hunk(
            self.old_start,
            self.old_length,
            self.new_start,
            self.new_length,
            tuple(lines),
            section=self.section,
        )


@dataclass(frozen=True, slots=True)
class FilePatch:
    """One file of a diff, before it is judged against any text.

    ``copied`` is set for git's ``copy from``: the new file starts as a copy of
    ``old_path``, which stays where it is.
    """

    old_path: str | None
    new_path: str | None
    status: FileStatus
    hunks: tuple[PatchHunk, ...] = ()
    binary: bool = False
    copied: bool = False
    mode_changed: bool = False

    @property
    def path(self) -> str:
        path = self.new_path or self.old_path
        assert path is not None
        return path

    def to_file_change(self) -> FileChange:
        """The file as a diff alone shows it: hunks, no texts."""
        return FileChange(
            old_path=None if self.copied else self.old_path,
            new_path=self.new_path,
            status=self.status,
            hunks=() if self.binary else tuple(h.to_hunk() for h in self.hunks),
            binary=self.binary,
            texts_known=False,
        )


def parse_diff(data: bytes) -> list[FileChange]:
    """Parse a unified diff into file changes whose texts are unknown.

    Raises `SourceError` when the data holds no file diff or a hunk is broken.
    """
    return [fp.to_file_change() for fp in parse_file_patches(data)]


def parse_file_patches(data: bytes) -> list[FilePatch]:
    """Parse a unified diff, keeping what the hunk applier needs."""
    text = decode(data)
    if not text.strip():
        raise SourceError("empty patch")
    text = _normalise_crlf(text)
    try:
        patch_set = PatchSet(text)
    except UnidiffParseError as exc:
        raise SourceError(f"malformed diff: {_first_line(str(exc))}") from exc
    except UnicodeError as exc:  # pragma: no cover - the text is already decoded
        raise SourceError(f"malformed diff: {exc}") from exc
    if not patch_set:
        raise SourceError("not a patch: no file diff found")
    return [_file_patch(pf) for pf in patch_set]


def _normalise_crlf(text: str) -> str:
    """Undo a CRLF transport (a diff saved or mailed with CRLF line ends).

    Git writes its own header lines with LF, so a CRLF on the first header line
    means the whole diff was converted; then one CR per line goes. Otherwise a
    CR belongs to the file's content (a CRLF file) and is kept.
    """
    first = _HEADER_LINE.search(text)
    if first is None:
        return text
    end = text.find("\n", first.start())
    if end > 0 and text[end - 1] == "\r":
        return text.replace("\r\n", "\n")
    return text


def _file_patch(pf: PatchedFile) -> FilePatch:
    info = [str(line).rstrip("\n") for line in (pf.patch_info or [])]
    is_git = bool(info) and info[0].startswith("diff --git ")
    extended: dict[str, str] = {}
    if is_git:
        for line in info[1:]:
            for key in ("rename from ", "rename to ", "copy from ", "copy to "):
                if line.startswith(key):
                    extended[key.strip()] = unquote_path(line[len(key) :])
    source = unquote_path(pf.source_file or DEV_NULL)
    target = unquote_path(pf.target_file or DEV_NULL)
    added = source == DEV_NULL
    deleted = target == DEV_NULL
    git_path = _git_header_path(info[0]) if is_git else None
    old_path: str | None
    new_path: str | None
    if "rename from" in extended or "copy from" in extended:
        old_path = extended.get("rename from") or extended.get("copy from")
        new_path = extended.get("rename to") or extended.get("copy to")
    elif git_path is not None:
        old_path = new_path = git_path
    else:
        old_path, new_path = _strip_prefixes(source, target)
        if not (added or deleted) and old_path != new_path:
            # A plain diff of "foo.c.orig" against "foo.c": like GNU patch
            # without git headers, the target is the file being patched.
            old_path = new_path
    copied = "copy from" in extended
    if added:
        status, old_path = FileStatus.ADDED, None
    elif deleted:
        status, new_path = FileStatus.DELETED, None
    elif copied:
        status = FileStatus.ADDED
    elif old_path != new_path:
        status = FileStatus.RENAMED
    else:
        status = FileStatus.MODIFIED
    return FilePatch(
        old_path=old_path,
        new_path=new_path,
        status=status,
        hunks=() if pf.is_binary_file else tuple(_hunk(h) for h in pf),
        binary=bool(pf.is_binary_file),
        copied=copied,
        mode_changed=is_git and any(line.startswith("new mode ") for line in info),
    )


def _git_header_path(header: str) -> str | None:
    """The path of a ``diff --git`` line whose two names are the same file.

    Names with spaces are not quoted there, so the line is split where both
    halves name the same path, as git itself does. Renames are read from the
    ``rename from``/``rename to`` lines instead, so None is fine for them.
    """
    rest = header[len("diff --git ") :]
    if rest.startswith('"'):
        end = _closing_quote(rest)
        first, second = rest[: end + 1], rest[end + 2 :]
    else:
        half = (len(rest) - 1) // 2
        first, second = rest[:half], rest[half + 1 :]
    old, new = _strip_prefixes(unquote_path(first), unquote_path(second))
    if old is None or old != new:
        return None
    return old


def _closing_quote(text: str) -> int:
    i = 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i
        i += 1
    return len(text) - 1


def _strip_prefixes(source: str, target: str) -> tuple[str | None, str | None]:
    """Remove git's ``a/``/``b/`` (or similar) prefixes when both sides carry one."""
    names = [n for n in (source, target) if n != DEV_NULL]
    strip = bool(names) and all(_PREFIX.match(n) for n in names)
    old = None if source == DEV_NULL else source[2:] if strip else source
    new = None if target == DEV_NULL else target[2:] if strip else target
    return old, new


def _hunk(hunk: UnidiffHunk) -> PatchHunk:
    lines: list[PatchLine] = []
    for line in hunk:
        if line.line_type == "\\":
            # "\ No newline at end of file" qualifies the line before it.
            if lines:
                lines[-1] = PatchLine(lines[-1].kind, lines[-1].text, eol=False)
            continue
        if line.line_type not in ("+", "-", " "):
            # unidiff attaches blank separator lines after a hunk as '' lines.
            continue
        value = line.value
        lines.append(PatchLine(line.line_type, value[:-1] if value.endswith("\n") else value))
    return PatchHunk(
        old_start=hunk.source_start,
        old_length=hunk.source_length,
        new_start=hunk.target_start,
        new_length=hunk.target_length,
        lines=tuple(lines),
        section=hunk.section_header.rstrip("\n"),
    )


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "unknown error"
    return line if len(line) <= 120 else line[:117] + "..."
