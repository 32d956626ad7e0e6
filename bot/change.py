"""The one shape every way in produces: a change between two trees.

Sources (a git range, a patch or mbox, a forge merge request) build a `Change`;
nothing downstream knows where it came from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class FileStatus(StrEnum):
    ADDED = "added"
    DELETED = "deleted"
    MODIFIED = "modified"
    RENAMED = "renamed"


class LineKind(StrEnum):
    """A hunk line's kind, spelt as in a unified diff (and in GitLab positions)."""

    ADDED = "+"
    REMOVED = "-"
    CONTEXT = " "


@dataclass(frozen=True, slots=True)
class HunkLine:
    """One line of a hunk; line numbers are 1-based."""

    kind: LineKind
    old_line: int | None
    new_line: int | None
    text: str


@dataclass(frozen=True, slots=True)
class Hunk:
    old_start: int
    old_length: int
    new_start: int
    new_length: int
    lines: tuple[HunkLine, ...]
    section: str = ""
    """The text after the second ``@@`` (git's function context)."""

    def added_lines(self) -> frozenset[int]:
        return frozenset(ln.new_line for ln in self.lines if ln.kind == "+" and ln.new_line)

    def removed_lines(self) -> frozenset[int]:
        return frozenset(ln.old_line for ln in self.lines if ln.kind == "-" and ln.old_line)


@dataclass(frozen=True, slots=True)
class FileChange:
    """One file of a change.

    ``old_text``/``new_text`` are None when the side does not exist (added or
    deleted file) or could not be obtained (a patch judged without a repository);
    ``texts_known`` tells the two cases apart.
    """

    old_path: str | None
    new_path: str | None
    status: FileStatus
    hunks: tuple[Hunk, ...] = ()
    old_text: str | None = None
    new_text: str | None = None
    binary: bool = False
    texts_known: bool = True

    @property
    def path(self) -> str:
        """The path a reviewer knows the file by (the new one unless deleted)."""
        path = self.new_path or self.old_path
        assert path is not None
        return path

    def changed_new_lines(self) -> frozenset[int]:
        return frozenset().union(*(h.added_lines() for h in self.hunks))

    def changed_old_lines(self) -> frozenset[int]:
        return frozenset().union(*(h.removed_lines() for h in self.hunks))


TreeReader = Callable[[str], "str | None"]
"""Reads a file of a tree by path; None when the file does not exist."""


@dataclass(frozen=True, slots=True)
class Tree:
    """Read access to a whole tree (the base or head of a change).

    ``read`` returns a file's text; ``grep`` returns the paths whose text
    contains a fixed string (None when the tree cannot be searched).
    ``tree_id`` identifies the tree's content for caches.
    """

    tree_id: str
    read: TreeReader
    grep: Callable[[str, str], list[str]] | None = None
    lines: Callable[[str, str], list[tuple[str, str]]] | None = None
    """``lines(regex, pathspec)``: (path, line) of every line matching a POSIX
    extended ``regex``, in path order (None: ask ``grep`` and read the files)."""


Version = tuple[int, ...]
"""A QEMU version read off ``VERSION``: ``(10, 1, 0)``."""


@dataclass(frozen=True, slots=True)
class Release:
    """A release of the tree: the commit where ``VERSION`` first read ``X.Y.0``."""

    version: Version
    commit: str
    tree: Tree

    @property
    def name(self) -> str:
        return ".".join(str(n) for n in self.version)


@dataclass(frozen=True, slots=True)
class History:
    """What the base's first-parent history says about releases.

    ``last_release`` is the newest release the base contains (what users run
    today); ``release_of`` says which release first shipped a commit (None:
    none has yet, or it is unknown). Both are read lazily from git.
    """

    last_release: Callable[[], Release | None]
    release_of: Callable[[str], Version | None]
    release_before: Callable[[Version], Version | None]
    """The release just older than a given one (None: the first known)."""
    release_at: Callable[[Version], Release | None] = lambda _version: None
    """The release ``X.Y.0`` itself, with its tree (None: not in the base's history)."""


@dataclass(frozen=True, slots=True)
class Change:
    """A change from ``base`` to ``head``: commits, a series or a merge request."""

    origin: str
    base: str | None
    head: str | None
    files: tuple[FileChange, ...]
    title: str = ""
    base_tree: Tree | None = None
    head_tree: Tree | None = None
    notes: tuple[str, ...] = field(default=())
    """What the source could not do (a hunk that did not apply, a binary patch)."""
    messages: tuple[str, ...] = field(default=())
    """The commit messages of the change (trailers such as ``Fixes:`` live there)."""
    history: History | None = None
    """Release history of the base, when a repository is at hand."""
