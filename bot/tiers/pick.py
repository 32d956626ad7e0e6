"""Which tier resolver a change gets: computed from its trees, else path defaults."""

from __future__ import annotations

from pathlib import Path

from bot.change import Change, FileStatus
from bot.findings import TierDecision, TierResolver
from bot.tiers.cache import alias_map
from bot.tiers.resolve import path_default_resolver, tree_resolver
from bot.tiers.rules import load_tier_rules


def pick_resolver(change: Change, cache_dir: Path | None = None) -> TierResolver:
    """Base-tree tiers; files the change adds are placed in the head tree."""
    base = change.base_tree
    if base is None or base.grep is None:
        return path_default_resolver()
    at_base = tree_resolver(base, cache_dir)
    head = change.head_tree
    if cache_dir is not None and head is not None and head.tree_id != base.tree_id:
        at_base = _then_alias(at_base, change, base.tree_id, head.tree_id, cache_dir)
    # Paths the base tree does not have: added files, and renamed ones' new names.
    added = {f.path for f in change.files if f.status in (FileStatus.ADDED, FileStatus.RENAMED)}
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


def _then_alias(
    resolve: TierResolver, change: Change, base: str, head: str, cache_dir: Path
) -> TierResolver:
    """After the base's map is first used, give the head the same map when the
    change touched nothing the map was built from (consecutive commits then
    build one map, not one each)."""
    done: list[bool] = []

    def decide(path: str) -> TierDecision:
        decision = resolve(path)
        if not done:
            done.append(True)
            changed: list[tuple[str, str | None, str | None]] = [
                (f.path, f.old_text, f.new_text) for f in change.files
            ]
            changed += [
                (f.old_path, None, None) for f in change.files if f.old_path not in (None, f.path)
            ]
            alias_map(cache_dir, base, head, load_tier_rules(), changed)
        return decision

    return decide
