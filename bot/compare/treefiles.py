"""Files of the base and head trees that a between-file check reads, scanned once.

The checks that follow a header change to other files read a handful of files
of each tree; this keeps each read and each scan once per check run, and
searches the tree only through its ``grep`` (lazy: nothing is read until a
check has a candidate).
"""

from __future__ import annotations

import posixpath
import re

from bot.change import Tree
from bot.scanner.macros import MacroTable
from bot.scanner.model import FileModel
from bot.scanner.scan import scan
from bot.scanner.structs import CFile, scan_c

_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
_EVERYWHERE = frozenset({"qemu/osdep.h"})
"""Included by every file and including only generic headers: not followed."""

MAX_GREP_HITS = 40
"""Files of one search that are read; a name used in more files is too common to follow."""


class TreeFiles:
    def __init__(self, tree: Tree | None, table: MacroTable):
        self.tree = tree
        self.table = table
        self._text: dict[str, str | None] = {}
        self._models: dict[str, FileModel] = {}
        self._cfiles: dict[str, CFile] = {}
        self._grep: dict[str, list[str]] = {}

    def read(self, path: str) -> str | None:
        if path not in self._text:
            self._text[path] = self.tree.read(path) if self.tree is not None else None
        return self._text[path]

    def model(self, path: str) -> FileModel | None:
        if path not in self._models:
            text = self.read(path)
            if text is None:
                return None
            self._models[path] = scan(text, path, self.table)
        return self._models[path]

    def cfile(self, path: str) -> CFile | None:
        if path not in self._cfiles:
            text = self.read(path)
            if text is None:
                return None
            self._cfiles[path] = scan_c(text, path)
        return self._cfiles[path]

    def grep(self, needle: str, pathspec: str = "*.c") -> list[str] | None:
        """Paths holding ``needle``; None when the tree cannot be searched or the
        needle is in too many files to follow."""
        if self.tree is None or self.tree.grep is None:
            return None
        key = f"{pathspec}\0{needle}"
        if key not in self._grep:
            self._grep[key] = sorted(self.tree.grep(needle, pathspec))
        hits = self._grep[key]
        return hits if len(hits) <= MAX_GREP_HITS else None

    def reaches(self, path: str, header: str, depth: int = 3) -> bool:
        """True when ``path`` includes ``header``, directly or through other headers."""
        seen: set[str] = set()
        frontier = [path]
        for _ in range(depth):
            nxt: list[str] = []
            for p in frontier:
                text = self.read(p)
                if text is None:
                    continue
                for inc in _INCLUDE.findall(text):
                    if inc in _EVERYWHERE:
                        continue
                    for cand in _candidates(p, inc):
                        if cand == header:
                            return True
                        if cand not in seen and self.read(cand) is not None:
                            seen.add(cand)
                            nxt.append(cand)
                            break
            frontier = nxt
        return False


def _candidates(path: str, inc: str) -> list[str]:
    here = posixpath.dirname(path)
    return [
        posixpath.normpath(posixpath.join(here, inc)),
        posixpath.normpath(posixpath.join("include", inc)),
        inc,
    ]
