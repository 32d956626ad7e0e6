"""Lazy, memoised searches in one whole tree: string literals, scanned files.

The checks that need more than the touched files (is a type spelled anywhere,
which macro defines a property, which VMSD already has a name) ask here. Each
answer costs a `git grep` of the tree the first time and nothing after, so a
check that never asks costs nothing: callers ask only when the change
touches what the question is about.
"""

from __future__ import annotations

import re

from bot.change import Tree
from bot.scanner.macros import MacroTable
from bot.scanner.model import FileModel
from bot.scanner.scan import scan

CODE_SUFFIXES = (".c", ".h", ".rs", ".c.inc", ".h.inc")
"""Files whose string literals are code: docs and tests of other tools are not."""
CODE_PATHSPEC = "*.[chr]*"
"""What git searches: the code files and a few others (filtered out after), not the
whole tree (a quarter less work)."""

_ENTRY_LINE = re.compile(r'^\s*\{\s*(?:\.driver\s*=\s*)?"[^"]*"\s*,')
"""A compat entry's line (``{ "driver", "prop", "value" },``): not a definition."""


class TreeSearch:
    """Searches of one tree (None: nothing can be searched, every answer is unknown)."""

    def __init__(self, tree: Tree | None, table: MacroTable) -> None:
        self.tree = tree
        self.table = table
        self._grep: dict[str, tuple[str, ...]] = {}
        self._texts: dict[str, str | None] = {}
        self._models: dict[str, FileModel | None] = {}

    @property
    def searchable(self) -> bool:
        return self.tree is not None and self.tree.grep is not None

    def prefetch(self, needles: list[str]) -> None:
        """Answer `files_with` for every needle with one search of the tree.

        ``git grep`` takes newline-separated patterns as alternatives; the
        files it lists are then read to say which needle each holds.
        """
        todo = sorted({n for n in needles if n not in self._grep and "\n" not in n})
        if not todo or self.tree is None or self.tree.grep is None:
            return
        if len(todo) == 1:
            self.files_with(todo[0])
            return
        union = [
            p for p in self.tree.grep("\n".join(todo), CODE_PATHSPEC) if p.endswith(CODE_SUFFIXES)
        ]
        for needle in todo:
            self._grep[needle] = tuple(p for p in union if needle in (self.text(p) or ""))

    def files_with(self, needle: str) -> tuple[str, ...]:
        """Code files whose text contains ``needle``."""
        if needle in self._grep:
            return self._grep[needle]
        found: tuple[str, ...] = ()
        if self.tree is not None and self.tree.grep is not None:
            found = tuple(
                p for p in self.tree.grep(needle, CODE_PATHSPEC) if p.endswith(CODE_SUFFIXES)
            )
        self._grep[needle] = found
        return found

    def text(self, path: str) -> str | None:
        if path not in self._texts:
            self._texts[path] = self.tree.read(path) if self.tree is not None else None
        return self._texts[path]

    def model(self, path: str) -> FileModel | None:
        if path not in self._models:
            text = self.text(path)
            self._models[path] = scan(text, path, self.table) if text is not None else None
        return self._models[path]

    def literal_spelled(self, value: str) -> bool | None:
        """Is ``"value"`` a string literal of the tree's code, outside compat entries?

        None when the tree cannot be searched.
        """
        if not self.searchable:
            return None
        quoted = f'"{value}"'
        for path in self.files_with(quoted):
            text = self.text(path) or ""
            for line in text.splitlines():
                if quoted in line and not _ENTRY_LINE.match(line):
                    return True
        return False

    def definitions(self, prop: str) -> list[tuple[str, str, str]]:
        """(path, macro, line text) of every ``DEFINE_PROP_*("prop", ...)`` and
        ``object_*property_add_*(..., "prop", ...)`` of the tree."""
        quoted = f'"{prop}"'
        pattern = re.compile(
            r"\b(?:(?P<macro>DEFINE_PROP_\w+)\s*\(\s*"
            r"|(?P<adder>object_(?:class_)?property_add_\w+)\s*\(\s*[^,()]*,\s*)"
            + re.escape(quoted)
        )
        out = []
        for path in self.files_with(quoted):
            text = self.text(path) or ""
            for m in pattern.finditer(text):
                out.append((path, m.group("macro") or m.group("adder"), m.group(0)))
        return out
