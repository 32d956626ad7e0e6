"""Decisions for any path: headers, target/ directories, unnamed files, fallbacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.change import Tree
from bot.findings import Tier
from bot.tiers import path_default_resolver, tree_resolver
from bot.tiers.resolve import TreeTiers
from bot.tiers.rules import TierRules, load_tier_rules
from bot.tiers.tiermap import TierMap, build_tier_map

from .minitree import dict_tree, files


@pytest.fixture(scope="module")
def rules() -> TierRules:
    return load_tier_rules()


@pytest.fixture(scope="module")
def tmap(rules: TierRules) -> TierMap:
    return build_tier_map(dict_tree(files()), rules)


@pytest.fixture
def tiers(tmap: TierMap, rules: TierRules) -> TreeTiers:
    return TreeTiers(dict_tree(files()), tmap, rules)


def test_header_takes_the_tier_of_its_includers(tiers: TreeTiers) -> None:
    d = tiers.decide("include/hw/net/e1000_regs.h")
    assert d.tier is Tier.BIDIRECTIONAL
    assert d.source == "tree"
    assert d.reason.startswith(
        "tier bidirectional: include/hw/net/e1000_regs.h is included by hw/net/e1000.c, "
        "which is built by CONFIG_E1000_PCI"
    )
    assert "pc-i440fx-*" in d.machines


def test_header_included_only_by_a_header(tiers: TreeTiers) -> None:
    d = tiers.decide("include/hw/net/mii.h")
    assert d.tier is Tier.BIDIRECTIONAL
    assert "included by include/hw/net/e1000_regs.h, which is included by hw/net/e1000.c" in (
        d.reason
    )


def test_target_directory_reaches_every_board_of_the_arch(tiers: TreeTiers) -> None:
    d = tiers.decide("target/arm/cpu.h")
    assert d.tier is Tier.BIDIRECTIONAL
    assert "part of target/arm/, which every board of aarch64, arm runs" in d.reason
    assert set(d.machines) == {"virt-*", "musicpal"}


def test_file_built_unnamed_takes_its_directory(tiers: TreeTiers) -> None:
    d = tiers.decide("rust/hw/char/pl011/src/device.rs")
    assert d.tier is Tier.BIDIRECTIONAL
    assert "rust/hw/char/pl011/meson.build" in d.reason


def test_unknown_paths_fall_back_to_path_rules(tiers: TreeTiers) -> None:
    d = tiers.decide("include/hw/net/unused.h")
    assert d.source == "default"
    assert d.tier is Tier.BIDIRECTIONAL
    d = tiers.decide("hw/arm/newboard.c")
    assert d.source == "tree"  # hw/arm/meson.build builds it under some condition
    assert tiers.decide("docs/readme.txt").source == "default"


def test_user_only_file_is_best_effort(tiers: TreeTiers) -> None:
    d = tiers.decide("migration/user-only.c")
    assert d.tier is Tier.BEST_EFFORT
    assert "user-mode emulators only" in d.reason


def test_without_grep_headers_use_the_fallbacks(tmap: TierMap, rules: TierRules) -> None:
    t = TreeTiers(dict_tree(files(), grep=False), tmap, rules)
    assert t.decide("include/hw/net/e1000_regs.h").source == "default"


@pytest.mark.parametrize(
    ("path", "tier", "glob"),
    [
        ("hw/arm/musicpal.c", Tier.BEST_EFFORT, "hw/arm/*"),
        ("hw/arm/virt.c", Tier.BIDIRECTIONAL, "hw/arm/virt*"),
        ("hw/riscv/virt.c", Tier.FORWARD, "hw/riscv/*"),
        ("hw/loongarch/virt.c", Tier.FORWARD, "hw/loongarch/*"),
        ("hw/i386/pc_q35.c", Tier.BIDIRECTIONAL, "hw/i386/*"),
        ("hw/pci-host/gpex.c", Tier.BIDIRECTIONAL, "hw/pci*"),
        ("target/i386/machine.c", Tier.BIDIRECTIONAL, "target/i386/*"),
        ("hw/m68k/virt.c", Tier.FORWARD, "hw/m68k/virt*"),
        ("hw/m68k/q800.c", Tier.BEST_EFFORT, "hw/m68k/*"),
    ],
)
def test_path_default_resolver(path: str, tier: Tier, glob: str) -> None:
    d = path_default_resolver()(path)
    assert d.tier is tier
    assert d.source == "default"
    assert f"path rule '{glob}'" in d.reason


def test_path_default_for_unknown_paths_is_the_strictest() -> None:
    d = path_default_resolver()("somewhere/new.c")
    assert d.tier is Tier.BIDIRECTIONAL
    assert "assuming the strictest tier" in d.reason


def test_unreadable_tree_falls_back_and_says_why(tmp_path: Path) -> None:
    def broken(path: str) -> str | None:
        raise OSError("disk on fire")

    resolve = tree_resolver(Tree("t-broken", broken, None), tmp_path)
    d = resolve("hw/net/e1000.c")
    assert d.source == "default"
    assert "the tree could not be read (OSError: disk on fire)" in d.reason


def test_tree_resolver_answers(tmp_path: Path) -> None:
    resolve = tree_resolver(dict_tree(files()), tmp_path)
    assert resolve("hw/m68k/virt.c").tier is Tier.FORWARD
    assert resolve("hw/arm/musicpal.c").tier is Tier.BEST_EFFORT


def test_a_tree_without_meson_falls_back_with_the_reason(tmp_path: Path) -> None:
    old = {p: t for p, t in files().items() if not p.endswith("meson.build")}
    d = tree_resolver(dict_tree(old, "old-layout"), tmp_path)("hw/net/e1000.c")
    assert d.source == "default"
    assert "no meson.build source sets" in d.reason
    d = tree_resolver(dict_tree({}, "empty"), tmp_path)("hw/net/e1000.c")
    assert "cannot read Kconfig" in d.reason
