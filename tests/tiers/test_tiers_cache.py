"""The map is built once per tree id and then read from disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.change import Tree
from bot.settings import cache_dir
from bot.tiers import tree_resolver
from bot.tiers.cache import cache_path, from_json, load_map, save_map, to_json
from bot.tiers.resolve import load_or_build
from bot.tiers.rules import load_tier_rules
from bot.tiers.tiermap import build_tier_map

from .minitree import dict_tree, files


class CountingReads:
    """A dict tree that counts reads: a cache hit reads nothing."""

    def __init__(self, tree_id: str) -> None:
        self.inner = dict_tree(files(), tree_id)
        self.reads = 0

    def tree(self) -> Tree:
        def read(path: str) -> str | None:
            self.reads += 1
            return self.inner.read(path)

        return Tree(self.inner.tree_id, read, self.inner.grep)


def test_json_round_trip() -> None:
    tmap = build_tier_map(dict_tree(files()), load_tier_rules())
    again = from_json(to_json(tmap))
    assert again.files == tmap.files
    assert again.boards == tmap.boards
    assert again.dirs == tmap.dirs
    assert again.lookup("hw/net/e1000.c") == tmap.lookup("hw/net/e1000.c")


def test_cache_hit_keyed_by_tree_id(tmp_path: Path) -> None:
    rules = load_tier_rules()
    first = CountingReads("tree-a")
    resolve = tree_resolver(first.tree(), tmp_path)
    assert resolve("hw/ppc/spapr.c").tier.value == "bidirectional"
    assert first.reads > 0
    assert cache_path(tmp_path, "tree-a", rules.digest).exists()

    # Same tree id: the map comes from disk, the tree is not read again.
    second = CountingReads("tree-a")
    resolve = tree_resolver(second.tree(), tmp_path)
    assert resolve("hw/ppc/spapr.c").tier.value == "bidirectional"
    assert second.reads == 0

    # Another tree id: built afresh.
    third = CountingReads("tree-b")
    tree_resolver(third.tree(), tmp_path)("hw/ppc/spapr.c")
    assert third.reads > 0
    assert len(list(tmp_path.glob("v*-tree-*.json"))) == 2


def test_cache_is_per_rules_version_and_ignores_garbage(tmp_path: Path) -> None:
    rules = load_tier_rules()
    tmap = build_tier_map(dict_tree(files(), "tree-c"), rules)
    path = save_map(tmp_path, tmap)
    assert load_map(tmp_path, "tree-c", rules.digest) is not None
    assert load_map(tmp_path, "tree-c", "another-digest") is None
    path.write_text("{not json")
    assert load_map(tmp_path, "tree-c", rules.digest) is None
    # load_or_build rebuilds over a broken file and repairs it.
    load_or_build(dict_tree(files(), "tree-c"), rules, tmp_path)
    assert load_map(tmp_path, "tree-c", rules.digest) is not None


def test_no_cache_writes_nothing(tmp_path: Path) -> None:
    tree_resolver(dict_tree(files()), tmp_path, use_cache=False)("hw/core/machine.c")
    assert list(tmp_path.iterdir()) == []


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MIGBOT_CACHE_DIR", str(tmp_path))
    assert cache_dir("tiers") == tmp_path / "tiers"
    monkeypatch.delenv("MIGBOT_CACHE_DIR")
    assert cache_dir("tiers") == Path.home() / ".cache" / "migbot" / "tiers"
