"""Which tier resolver a change gets: computed from its trees, else path defaults."""

from __future__ import annotations

from pathlib import Path

from bot.change import Change, FileStatus
from bot.findings import TierDecision, TierResolver
from bot.tiers import path_default_resolver, tree_resolver


def pick_resolver(change: Change, cache_dir: Path | None = None) -> TierResolver:
    """Base-tree tiers; files the change adds are placed in the head tree."""
    base = change.base_tree
    if base is None or base.grep is None:
        return path_default_resolver()
    at_base = tree_resolver(base, cache_dir)
    # Paths the base tree does not have: added files, and renamed ones' new names.
    added = {f.path for f in change.files if f.status in (FileStatus.ADDED, FileStatus.RENAMED)}
    head = change.head_tree
    if not added or head is None or head.grep is None:
        return at_base
    at_head: list[TierResolver] = []

    def decide(path: str) -> TierDecision:
        if path not in added:
            return at_base(path)
        if not at_head:
            at_head.append(tree_resolver(head, cache_dir))
        return at_head[0](path)

    return decide
