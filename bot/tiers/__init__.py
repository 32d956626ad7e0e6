"""Tiers from the tree: which machines can contain a source file, and so its tier.

Public entry points:

* `tree_resolver` - decisions computed from a QEMU tree (Kconfig, meson, device
  configs, machine definitions), cached on disk by tree id;
* `path_default_resolver` - decisions from path rules alone (no tree);
* `build_tier_map` / `TierMap` - the whole-tree computation, for tools and the bench;
* `tree_from_git` - a `bot.change.Tree` over a git revision (bare repos too).
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_WHERE = {
    "Board": "bot.tiers.tiermap",
    "FileEntry": "bot.tiers.tiermap",
    "TierMap": "bot.tiers.tiermap",
    "TierRules": "bot.tiers.rules",
    "TreeTiers": "bot.tiers.resolve",
    "build_tier_map": "bot.tiers.tiermap",
    "default_decision": "bot.tiers.resolve",
    "load_or_build": "bot.tiers.resolve",
    "load_tier_rules": "bot.tiers.rules",
    "machine_tier": "bot.tiers.tiermap",
    "open_tiers": "bot.tiers.resolve",
    "parse_tier_rules": "bot.tiers.rules",
    "path_default_resolver": "bot.tiers.resolve",
    "tree_from_git": "bot.tiers.gittree",
    "tree_resolver": "bot.tiers.resolve",
}
"""Each name is imported from its module when first asked for (a check whose
tier map is cached loads neither the Kconfig nor the meson reader)."""


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


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
