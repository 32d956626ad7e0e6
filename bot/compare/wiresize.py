"""Wire size changed from a distance (filled in below)."""

from __future__ import annotations

from bot.change import Change
from bot.compare import facts as F
from bot.compare.treefiles import TreeFiles


def wire_size_facts(change: Change, base: TreeFiles, head: TreeFiles) -> list[F.Fact]:
    return []
