"""Which tier resolver a change gets: computed from its tree, else path defaults."""

from __future__ import annotations

from bot.change import Change
from bot.findings import Tier, TierDecision
from bot.pipeline import TierResolver


def pick_resolver(change: Change) -> TierResolver:
    try:  # TEMPORARY until bot.tiers lands
        from bot.tiers import path_default_resolver, tree_resolver
    except ImportError:
        return lambda path: TierDecision(Tier.BIDIRECTIONAL, f"tier bidirectional: {path}")
    tree = change.base_tree
    if tree is not None and tree.grep is not None:
        return tree_resolver(tree, None)
    return path_default_resolver()
