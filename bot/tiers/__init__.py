"""Tiers from the tree: which machines can contain a source file, and so its tier.

Public entry points:

* `tree_resolver` - decisions computed from a QEMU tree (Kconfig, meson, device
  configs, machine definitions), cached on disk by tree id;
* `path_default_resolver` - decisions from path rules alone (no tree);
* `build_tier_map` / `TierMap` - the whole-tree computation, for tools and the bench;
* `tree_from_git` - a `bot.change.Tree` over a git revision (bare repos too).
"""

from bot.tiers.gittree import tree_from_git
from bot.tiers.resolve import (
    TreeTiers,
    default_decision,
    load_or_build,
    open_tiers,
    path_default_resolver,
    tree_resolver,
)
from bot.tiers.rules import TierRules, load_tier_rules, parse_tier_rules
from bot.tiers.tiermap import Board, FileEntry, TierMap, build_tier_map, machine_tier

__all__ = [
    "Board",
    "FileEntry",
    "TierMap",
    "TierRules",
    "TreeTiers",
    "build_tier_map",
    "default_decision",
    "load_or_build",
    "load_tier_rules",
    "machine_tier",
    "open_tiers",
    "parse_tier_rules",
    "path_default_resolver",
    "tree_from_git",
    "tree_resolver",
]
