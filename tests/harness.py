"""Small helpers that keep tests to one line.

* `review`: the pipeline with the shipped rules bound.
* `scan_c`, `facts`, `kinds`: the scanner and compare on C snippets, with no
  git and no tree: ``assert kinds(facts(OLD, NEW)) == ["FieldAdded"]``.
* `MIGBOT`: the command line of ``migbot`` run by this interpreter.
"""

from __future__ import annotations

import difflib
import functools
import sys
from collections.abc import Sequence
from typing import Any

from bot.change import Change
from bot.compare.context import Context, FileModels
from bot.compare.engine import compare
from bot.compare.facts import Fact
from bot.findings import Report
from bot.judge.catalogue import load_catalogue
from bot.judge.policy import load_policy
from bot.pipeline import ReviewOptions
from bot.pipeline import review as pipeline_review
from bot.scanner.macros import MacroTable, learn
from bot.scanner.model import FileModel
from bot.scanner.scan import scan
from tests.fixtures.tree import BASE

MIGBOT = (sys.executable, "-m", "bot")
"""The ``migbot`` command as this interpreter runs it (no installed script needed)."""

SNIPPET_PATH = "hw/misc/foo.c"
MINI_TREE = BASE
"""The base QEMU-style tree of tests/fixtures."""


@functools.cache
def mini_table() -> MacroTable:
    """The ``VMSTATE_*`` macros of the mini tree's headers, as a run on that tree learns them
    (`bot.scanner.treeinfo.macro_table`); `bot.scanner.macros.fallback_table` is the one a
    run without a tree uses."""
    headers = sorted(MINI_TREE.rglob("*.h"))
    return learn(
        (str(h.relative_to(MINI_TREE)), text)
        for h in headers
        if "#define VMSTATE_" in (text := h.read_text())
    )


def review(change: Change, options: ReviewOptions | None = None, **kwargs: Any) -> Report:
    """`bot.pipeline.review` with the shipped catalogue and policy (tier maps in memory)."""
    kwargs.setdefault("catalogue", load_catalogue())
    kwargs.setdefault("policy", load_policy())
    return pipeline_review(change, options, **kwargs)


def scan_c(text: str, path: str = SNIPPET_PATH, table: MacroTable | None = None) -> FileModel:
    """The scanner's model of one C text (macros: the mini tree's unless given)."""
    return scan(text, path, table or mini_table())


def changed_lines(old: str, new: str) -> tuple[frozenset[int], frozenset[int]]:
    """1-based (removed old lines, added new lines) of a line diff, as a diff's hunks give."""
    a, b = old.split("\n"), new.split("\n")
    removed: set[int] = set()
    added: set[int] = set()
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op in ("replace", "delete"):
            removed.update(range(i1 + 1, i2 + 1))
        if op in ("replace", "insert"):
            added.update(range(j1 + 1, j2 + 1))
    return frozenset(removed), frozenset(added)


def file_models(
    old_c: str | None,
    new_c: str | None,
    path: str = SNIPPET_PATH,
    table: MacroTable | None = None,
) -> FileModels:
    """The pair compare works on, as the pipeline builds it for a change of ``path``:
    ``old_c`` None is a file the change adds, ``new_c`` None one it deletes."""
    removed, added = changed_lines(old_c or "", new_c or "")
    return FileModels(
        path=path,
        old=None if old_c is None else scan_c(old_c, path, table),
        new=None if new_c is None else scan_c(new_c, path, table),
        changed_old=removed if old_c is not None else frozenset(),
        changed_new=added if new_c is not None else frozenset(),
    )


def facts(
    old_c: str | None,
    new_c: str | None,
    path: str = SNIPPET_PATH,
    *,
    table: MacroTable | None = None,
    others: Sequence[FileModels] = (),
) -> list[Fact]:
    """What compare says about one file changed from ``old_c`` to ``new_c`` (plus ``others``,
    files changed alongside it), with no tree around them and the shipped policy's twins."""
    pairs = [file_models(old_c, new_c, path, table), *others]
    ctx = Context(
        twins=load_policy().twins,
        changed_paths=frozenset(p.path for p in pairs),
    )
    return compare(pairs, ctx)


def kinds(found: Sequence[Fact]) -> list[str]:
    """The kind (class name) of each fact, in order."""
    return [type(f).__name__ for f in found]
