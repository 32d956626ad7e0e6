"""Breaks that live between files: a header change followed into the rest of the tree.

Runs the between-file checks over a change with its base and head trees. Each
check reads other files only when the change gives it a candidate (a changed
constant or struct member, a new member the guest writes), so a change that
touches no header costs nothing.
"""

from __future__ import annotations

from bot.change import Change
from bot.compare import facts as F
from bot.compare.treefiles import TreeFiles
from bot.compare.unmigrated import unmigrated_facts
from bot.compare.wiresize import wire_size_facts
from bot.scanner.macros import MacroTable


def between_files(change: Change, old_table: MacroTable, new_table: MacroTable) -> list[F.Fact]:
    if change.head_tree is None:
        return []
    head = TreeFiles(change.head_tree, new_table)
    base = TreeFiles(change.base_tree, old_table)
    out: list[F.Fact] = []
    out.extend(unmigrated_facts(change, head))
    out.extend(wire_size_facts(change, base, head))
    return out
