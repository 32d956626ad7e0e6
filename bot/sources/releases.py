"""QEMU's releases, read from ``VERSION`` along first-parent history.

A release is the commit where ``VERSION`` first reads ``X.Y.0`` (QEMU counts
``X.Y.50`` during development and ``X.Y.9N`` for release candidates). Tags are
not needed: mirrors often lack them, and ``VERSION`` is what QEMU itself bumps.
The history is read lazily and only as far back as a question needs.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

from bot.change import History, Release, Version
from bot.sources.gitrepo import GitRepo

_RELEASE = re.compile(r"^\s*(\d+)\.(\d+)\.0\s*$")
_VERSION = re.compile(r"^\s*(\d+)\.(\d+)\.(\d+)")
_HEX = re.compile(r"^[0-9a-fA-F]{7,64}$")


def parse_version(text: str | None) -> Version | None:
    """``10.1.50`` -> (10, 1, 50); None for anything else."""
    m = _VERSION.match(text or "")
    return tuple(int(g) for g in m.groups()) if m else None


class ReleaseLine:
    """The releases a commit contains, newest first, read as far as asked."""

    def __init__(self, git: GitRepo, rev: str) -> None:
        self._git = git
        self._log: Iterator[str] = git.first_parent_log(rev, "VERSION")
        self._found: list[Release] = []
        self._pending: tuple[Version, str] | None = None
        self._done = False
        self._lock = threading.Lock()
        self._first_release: dict[str, Version | None] = {}

    def _more(self) -> bool:
        """Read back to the next (older) release; False at the start of history."""
        for commit in self._log:
            version = self._version_at(commit)
            pending = self._pending
            if pending is not None and version == pending[0]:
                self._pending = (pending[0], commit)  # an older commit set it first
                continue
            self._pending = (version, commit) if version and _is_release(version) else None
            if pending is not None:
                self._keep(*pending)
                return True
        self._done = True
        if self._pending is not None:
            self._keep(*self._pending)
            self._pending = None
            return True
        return False

    def _keep(self, version: Version, commit: str) -> None:
        tree = self._git.commit(commit).tree
        self._found.append(Release(version, commit, self._git.tree(tree)))

    def _version_at(self, commit: str) -> Version | None:
        return parse_version(self._git.read_path(self._git.commit(commit).tree, "VERSION"))

    def release(self, index: int) -> Release | None:
        """The ``index``-th newest release (0: the last one the commit contains)."""
        with self._lock:
            while len(self._found) <= index and not self._done and self._more():
                pass
            return self._found[index] if index < len(self._found) else None

    def last(self) -> Release | None:
        return self.release(0)

    def first_containing(self, rev: str) -> Version | None:
        """The oldest release that contains ``rev``; None when none does (or ``rev``
        is not a commit of the repository)."""
        rev = rev.strip()
        if not _HEX.match(rev):
            return None
        if rev in self._first_release:
            return self._first_release[rev]
        answer: Version | None = None
        index = 0
        while (release := self.release(index)) is not None:
            if not self._git.is_ancestor(rev, release.commit):
                break
            answer = release.version
            index += 1
        self._first_release[rev] = answer
        return answer

    def at(self, version: Version) -> Release | None:
        """The release ``version`` (``(2, 6, 0)``), read back as far as it is."""
        index = 0
        while (release := self.release(index)) is not None:
            if release.version == version:
                return release
            if release.version < version:
                return None
            index += 1
        return None

    def before(self, version: Version) -> Version | None:
        """The release just older than ``version``."""
        index = 0
        while (release := self.release(index)) is not None:
            if release.version < version:
                return release.version
            index += 1
        return None


def _is_release(version: Version) -> bool:
    return len(version) == 3 and version[2] == 0


def history_of(git: GitRepo, rev: str) -> History:
    """The `History` of ``rev``: its last release, and the release of any commit."""
    line = ReleaseLine(git, rev)
    return History(
        last_release=line.last,
        release_of=line.first_containing,
        release_before=line.before,
        release_at=line.at,
    )
