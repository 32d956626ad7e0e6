"""Tier maps of QEMU trees before meson: Makefile.objs with Kconfig (4.0 to 5.1)
and without (2.0 to 3.1), on small trees written in their layout (oldtrees/)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.findings import Tier
from bot.tiers.cache import alias_map, load_map
from bot.tiers.resolve import load_or_build, tree_resolver
from bot.tiers.rules import TierRules, load_tier_rules
from bot.tiers.tiermap import Era, Reach, TierMap, build_tier_map, tree_era

from .minitree import dict_tree, git_repo
from .oldtrees.trees import flat_era, kconfig_era


@pytest.fixture(scope="module")
def rules() -> TierRules:
    return load_tier_rules()


@pytest.fixture(scope="module")
def kmap(rules: TierRules) -> TierMap:
    return build_tier_map(dict_tree(kconfig_era(), "kconfig-era"), rules)


@pytest.fixture(scope="module")
def fmap(rules: TierRules) -> TierMap:
    return build_tier_map(dict_tree(flat_era(), "flat-era"), rules)


def test_each_layout_is_recognised() -> None:
    assert tree_era(dict_tree(kconfig_era())) is Era.MAKE_KCONFIG
    assert tree_era(dict_tree(flat_era())) is Era.MAKE
    assert tree_era(dict_tree({"meson.build": "", "Makefile.objs": ""})) is Era.MESON


def test_targets_come_from_default_configs_and_configure(kmap: TierMap) -> None:
    got = {t.name: (t.base_arch, t.kvm) for t in kmap.targets}
    assert got == {
        "aarch64-softmmu": ("arm", True),
        # configure runs KVM on arm hosts, but 32-bit arm is not KVM-capable by policy
        "arm-softmmu": ("arm", False),
        "ppc64-softmmu": ("ppc", True),
        "x86_64-softmmu": ("i386", True),
    }


@pytest.mark.parametrize(
    ("path", "tier", "machines"),
    [
        ("hw/i386/pc_piix.c", Tier.BIDIRECTIONAL, ("pc-i440fx-*",)),
        ("hw/arm/virt.c", Tier.BIDIRECTIONAL, ("virt-*",)),
        ("hw/ppc/spapr_vio.c", Tier.BIDIRECTIONAL, ("pseries-*",)),
        # only the TCG-only arm board selects it: a version bump is the right tool
        ("hw/misc/acme_slcr.c", Tier.BEST_EFFORT, ("acme-board",)),
        ("hw/char/acme_uart.c", Tier.BIDIRECTIONAL, ("pc-i440fx-*", "virt-*", "acme-board")),
        ("hw/net/acme_nic.c", Tier.BIDIRECTIONAL, ("pc-i440fx-*", "pseries-*", "virt-*")),
        ("target/arm/machine.c", Tier.BIDIRECTIONAL, ("virt-*", "acme-board")),
    ],
)
def test_kconfig_era_tiers(kmap: TierMap, path: str, tier: Tier, machines: tuple[str, ...]) -> None:
    entry = kmap.files[path]
    assert entry.tier is tier, entry.reason
    assert kmap.machines_of(entry.boards) == machines


def test_kconfig_era_reason_names_the_select_chain(kmap: TierMap) -> None:
    reason = kmap.files["hw/misc/acme_slcr.c"].reason
    assert "CONFIG_ACME_SLCR, selected by ACME_BOARD (acme-board" in reason, reason


def test_user_mode_files_hold_no_machine(kmap: TierMap, fmap: TierMap) -> None:
    for m in (kmap, fmap):
        assert m.files["linux-user/main.c"].how is Reach.USER_ONLY


@pytest.mark.parametrize(
    ("path", "tier", "machines"),
    [
        ("hw/i386/pc_piix.c", Tier.BIDIRECTIONAL, ("pc-i440fx-*",)),
        # virt was not versioned yet: unversioned and KVM-capable
        ("hw/arm/virt.c", Tier.FORWARD, ("virt",)),
        ("hw/arm/acme_board.c", Tier.BEST_EFFORT, ("acme-board",)),
        ("hw/ppc/spapr_vio.c", Tier.BIDIRECTIONAL, ("pseries-*",)),
        # created by name only in acme_board.c
        ("hw/misc/acme_slcr.c", Tier.BEST_EFFORT, ("acme-board",)),
        # pc_piix.c -> pc.c (built unconditionally) -> acme_uart_create()
        ("hw/char/acme_uart.c", Tier.BIDIRECTIONAL, ("pc-i440fx-*", "virt")),
        # set in arm-softmmu.mak, created by no code: any board of arm and aarch64
        ("hw/misc/acme_timer.c", Tier.FORWARD, ("virt", "acme-board")),
    ],
)
def test_flat_era_tiers(fmap: TierMap, path: str, tier: Tier, machines: tuple[str, ...]) -> None:
    entry = fmap.files[path]
    assert entry.tier is tier, entry.reason
    assert fmap.machines_of(entry.boards) == machines


def test_flat_era_pluggable_device_reaches_the_strictest_board(fmap: TierMap) -> None:
    entry = fmap.files["hw/net/acme_nic.c"]
    assert entry.tier is Tier.BIDIRECTIONAL
    assert "pc-i440fx-*" in fmap.machines_of(entry.boards)


def test_flat_era_reason_says_which_code_creates_the_device(fmap: TierMap) -> None:
    reason = fmap.files["hw/misc/acme_slcr.c"].reason
    assert "used by hw/arm/acme_board.c" in reason, reason


def test_a_kvm_condition_in_a_flat_device_config(fmap: TierMap) -> None:
    # CONFIG_XICS_KVM=$(call land,$(CONFIG_PSERIES),$(CONFIG_KVM)): read, not an error
    assert not any("default-configs" in n for n in fmap.notes)


def test_old_trees_are_cached_and_read_back(tmp_path: Path, rules: TierRules) -> None:
    tree = dict_tree(flat_era(), "flat-cached")
    built = load_or_build(tree, rules, tmp_path)
    again = load_map(tmp_path, "flat-cached", rules.digest)
    assert again is not None
    assert again.files["hw/misc/acme_slcr.c"].tier is Tier.BEST_EFFORT
    assert again.files == built.files


def test_resolver_on_an_old_tree_is_not_the_fallback(tmp_path: Path) -> None:
    resolve = tree_resolver(dict_tree(kconfig_era(), "k-resolve"), tmp_path)
    d = resolve("hw/misc/acme_slcr.c")
    assert d.source == "tree"
    assert d.tier is Tier.BEST_EFFORT
    assert "could not be read" not in d.reason


def test_cli_tiers_on_an_old_git_tree(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "g", kconfig_era())
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "tiers",
            "--repo",
            str(repo),
            "--no-cache",
            "hw/misc/acme_slcr.c",
            "hw/i386/pc_piix.c",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "hw/misc/acme_slcr.c: best-effort (tree)" in out.stdout
    assert "hw/i386/pc_piix.c: bidirectional (tree)" in out.stdout


def test_an_old_tree_hands_its_map_on_unless_a_makefile_changes(
    tmp_path: Path, rules: TierRules
) -> None:
    files = kconfig_era()
    load_or_build(dict_tree(files, "k-base"), rules, tmp_path)
    old = files["hw/misc/acme_slcr.c"]
    new = old.replace(
        "        VMSTATE_END_OF_LIST()",
        "        VMSTATE_UINT32(ctrl, AcmeSlcrState),\n        VMSTATE_END_OF_LIST()",
    )
    assert alias_map(tmp_path, "k-base", "k-head", rules, [("hw/misc/acme_slcr.c", old, new)])
    assert load_map(tmp_path, "k-head", rules.digest) is not None
    mk = files["hw/misc/Makefile.objs"]
    changed = [("hw/misc/Makefile.objs", mk, mk + "common-obj-y += extra.o\n")]
    assert not alias_map(tmp_path, "k-base", "k-other", rules, changed)


def test_a_tree_older_than_2_0_keeps_the_path_rules(tmp_path: Path) -> None:
    files = flat_era() | {"VERSION": "1.2.50\n"}
    d = tree_resolver(dict_tree(files, "too-old"), tmp_path)("hw/misc/acme_slcr.c")
    assert d.source == "default"
    assert "QEMU 1.2.50 predates 2.0" in d.reason


def test_a_map_before_kconfig_is_never_handed_on(tmp_path: Path, rules: TierRules) -> None:
    # who holds a device there depends on the calls in every source: a device edit
    # can move it, so the next tree builds its own map
    files = flat_era()
    assert not load_or_build(dict_tree(files, "f-base"), rules, tmp_path).reusable
    old = files["hw/i386/pc.c"]
    new = old.replace("acme_uart_create(0x3f8, NULL);", "")
    assert not alias_map(tmp_path, "f-base", "f-head", rules, [("hw/i386/pc.c", old, new)])
