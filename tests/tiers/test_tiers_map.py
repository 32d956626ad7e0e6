"""The tier map of a small QEMU-shaped tree: one case per machine family and rule."""

from __future__ import annotations

import pytest

from bot.findings import Tier
from bot.tiers.rules import TierRules, load_tier_rules
from bot.tiers.tiermap import FileEntry, TierMap, build_tier_map, machine_tier

from .minitree import dict_tree, files


@pytest.fixture(scope="module")
def rules() -> TierRules:
    return load_tier_rules()


@pytest.fixture(scope="module")
def tmap(rules: TierRules) -> TierMap:
    return build_tier_map(dict_tree(files()), rules)


def entry(tmap: TierMap, path: str) -> FileEntry:
    return tmap.files[path]


def machines(tmap: TierMap, path: str) -> tuple[str, ...]:
    return tmap.machines_of(tmap.files[path].boards)


def test_machine_tier_table() -> None:
    assert machine_tier(versioned=True, kvm=True) is Tier.BIDIRECTIONAL
    assert machine_tier(versioned=True, kvm=False) is Tier.FORWARD
    assert machine_tier(versioned=False, kvm=True) is Tier.FORWARD
    assert machine_tier(versioned=False, kvm=False) is Tier.BEST_EFFORT


def test_boards_are_found_with_their_families(tmap: TierMap) -> None:
    got = {(b.short, "+".join(b.symbols)): (b.tier, b.kvm) for b in tmap.boards}
    assert got == {
        ("x86_64", "I440FX"): (Tier.BIDIRECTIONAL, True),
        ("x86_64", "Q35"): (Tier.BIDIRECTIONAL, True),
        ("x86_64", "MICROVM"): (Tier.FORWARD, True),
        ("aarch64", "ARM_VIRT"): (Tier.BIDIRECTIONAL, True),
        # The same board on the 32-bit target: versioned, but TCG only.
        ("arm", "ARM_VIRT"): (Tier.FORWARD, False),
        # "depends on TCG": gone from a KVM-only build, so TCG only even on aarch64.
        ("aarch64", "MUSICPAL"): (Tier.BEST_EFFORT, False),
        ("arm", "MUSICPAL"): (Tier.BEST_EFFORT, False),
        ("ppc64", "PSERIES"): (Tier.BIDIRECTIONAL, True),
        ("s390x", "S390_CCW_VIRTIO"): (Tier.BIDIRECTIONAL, True),
        ("m68k", "M68K_VIRT"): (Tier.FORWARD, False),
        ("m68k", "Q800"): (Tier.BEST_EFFORT, False),
        ("riscv64", "RISCV_VIRT"): (Tier.FORWARD, True),
    }


@pytest.mark.parametrize(
    ("path", "tier", "shown"),
    [
        ("hw/i386/pc_piix.c", Tier.BIDIRECTIONAL, ("pc-i440fx-*",)),
        ("hw/i386/pc_q35.c", Tier.BIDIRECTIONAL, ("pc-q35-*",)),
        ("hw/i386/microvm.c", Tier.FORWARD, ("microvm",)),
        ("hw/arm/virt.c", Tier.BIDIRECTIONAL, ("virt-*",)),
        ("hw/arm/musicpal.c", Tier.BEST_EFFORT, ("musicpal",)),
        ("hw/ppc/spapr.c", Tier.BIDIRECTIONAL, ("pseries-*",)),
        ("hw/s390x/s390-virtio-ccw.c", Tier.BIDIRECTIONAL, ("s390-ccw-virtio-*",)),
        ("hw/m68k/virt.c", Tier.FORWARD, ("virt-*",)),
        ("hw/m68k/q800.c", Tier.BEST_EFFORT, ("q800",)),
        ("hw/riscv/virt.c", Tier.FORWARD, ("virt",)),
        ("hw/intc/riscv_aplic.c", Tier.FORWARD, ("virt",)),
        ("hw/intc/apic_common.c", Tier.BIDIRECTIONAL, ("pc-i440fx-*", "pc-q35-*")),
    ],
)
def test_each_family(tmap: TierMap, path: str, tier: Tier, shown: tuple[str, ...]) -> None:
    assert entry(tmap, path).tier is tier
    assert machines(tmap, path) == shown


def test_imply_chain_in_the_reason(tmap: TierMap) -> None:
    e = entry(tmap, "hw/net/e1000.c")
    assert e.tier is Tier.BIDIRECTIONAL
    assert "is built by CONFIG_E1000_PCI, implied by I440FX (pc-i440fx-*, x86_64, KVM)" in e.reason
    assert e.reason.startswith("tier bidirectional: hw/net/e1000.c ")
    assert "\n" not in e.reason


def test_select_chain_in_the_reason(tmap: TierMap) -> None:
    e = entry(tmap, "hw/intc/apic_common.c")
    assert "CONFIG_APIC, selected by PC, selected by" in e.reason


def test_default_y_with_depends_in_the_reason(tmap: TierMap) -> None:
    e = entry(tmap, "hw/virtio/virtio-net.c")
    assert "built by CONFIG_VIRTIO_NET (with CONFIG_VIRTIO), default y with VIRTIO" in e.reason


def test_arm_virt_on_aarch64_versus_arm_only(tmap: TierMap) -> None:
    # Selected by virt only when !AARCH64: on the TCG-only 32-bit target alone.
    e = entry(tmap, "hw/misc/armonly.c")
    assert e.targets == ("arm-softmmu",)
    assert e.tier is Tier.FORWARD
    assert "(virt-*, arm, TCG only)" in e.reason


def test_precedence_trap_decides_the_targets(tmap: TierMap) -> None:
    # depends on KVM && PSERIES || M68K_VIRT = KVM && (PSERIES || M68K_VIRT):
    # m68k has no KVM, so trap.c is not in m68k virt.
    e = entry(tmap, "hw/net/trap.c")
    assert e.targets == ("ppc64-softmmu",)
    assert machines(tmap, "hw/net/trap.c") == ("pseries-*",)


def test_pci_device_plugs_into_any_board_with_pci(tmap: TierMap) -> None:
    # Only musicpal (TCG) implies PCI_DEVICES, but arm virt has a PCI bus.
    e = entry(tmap, "hw/net/plugnic.c")
    assert e.how == "pluggable"
    assert e.tier is Tier.BIDIRECTIONAL
    assert "pluggable PCI device" in e.reason and "TYPE_PCI_DEVICE" in e.reason
    assert set(machines(tmap, "hw/net/plugnic.c")) == {"virt-*", "musicpal"}


def test_a_sysbus_device_stays_with_its_boards(tmap: TierMap) -> None:
    e = entry(tmap, "hw/misc/sysbusdev.c")
    assert e.tier is Tier.BEST_EFFORT
    assert set(machines(tmap, "hw/misc/sysbusdev.c")) == {"musicpal", "q800"}


def test_a_helper_file_follows_its_pci_symbol(tmap: TierMap) -> None:
    assert entry(tmap, "hw/net/e1000x_common.c").tier is Tier.BIDIRECTIONAL


def test_arch_wide_select_is_not_a_board_bringing_it(tmap: TierMap) -> None:
    # ARM selects ARM_V7M for every board; only musicpal asks for it itself.
    e = entry(tmap, "hw/intc/armv7m_nvic.c")
    assert e.tier is Tier.BEST_EFFORT
    assert machines(tmap, "hw/intc/armv7m_nvic.c") == ("musicpal",)


def test_unconditional_files_reach_every_board(tmap: TierMap) -> None:
    for path in ("hw/core/machine.c", "migration/savevm.c"):
        e = entry(tmap, path)
        assert e.how == "unconditional"
        assert e.boards == (1 << len(tmap.boards)) - 1
        assert e.tier is Tier.BIDIRECTIONAL
        assert "built into every system emulator" in e.reason


def test_target_directory_from_meson(tmap: TierMap) -> None:
    e = entry(tmap, "target/arm/machine.c")
    assert e.targets == ("aarch64-softmmu", "arm-softmmu")
    assert set(machines(tmap, "target/arm/machine.c")) == {"virt-*", "musicpal"}
    assert "every arm target" in e.reason


def test_host_profiles_build_both_implementations(tmap: TierMap) -> None:
    # PL011 selects the C model only without Rust: the minimal-host profile.
    assert entry(tmap, "hw/char/pl011.c").tier is Tier.BIDIRECTIONAL
    assert "rust/hw/char/pl011" in tmap.dirs


def test_user_only_and_stubs(tmap: TierMap) -> None:
    assert entry(tmap, "migration/user-only.c").how == "user-only"
    stub = entry(tmap, "hw/pci/pci-stub.c")
    assert "a stub, built when !CONFIG_PCI" in stub.reason
    assert set(stub.targets) == {"m68k-softmmu", "s390x-softmmu"}
    assert "microvm" not in machines(tmap, "hw/pci/pci-stub.c")


def test_without_grep_machine_macros_in_headers_are_missed_not_fatal(rules: TierRules) -> None:
    tmap = build_tier_map(dict_tree(files(), grep=False), rules)
    # microvm's name is a TYPE_ macro defined in a header: not found without grep,
    # and the target list falls back to rules/tiers.toml.
    assert "hw/i386/microvm.c" in tmap.files
    assert {t.name for t in tmap.targets} >= {"x86_64-softmmu", "aarch64-softmmu"}


def test_a_versioned_family_missing_from_the_tree_is_noted(tmap: TierMap, rules: TierRules) -> None:
    assert tmap.notes == ()
    content = files()
    del content["hw/ppc/spapr.c"]
    other = build_tier_map(dict_tree(content, "no-spapr"), rules)
    assert any("'pseries'" in n and "may have missed it" in n for n in other.notes)


def test_kvm_board_list_for_trees_that_do_not_say(rules: TierRules) -> None:
    # An older tree: musicpal without "depends on TCG" survives a KVM-only build,
    # yet rules/tiers.toml says only ARM_VIRT runs under KVM on aarch64.
    content = files()
    content["hw/arm/Kconfig"] = content["hw/arm/Kconfig"].replace(
        "depends on TCG && ARM", "depends on ARM"
    )
    tmap = build_tier_map(dict_tree(content, "older"), rules)
    kvm = {(b.short, b.symbols): b.kvm for b in tmap.boards}
    assert kvm[("aarch64", ("MUSICPAL",))] is False
    assert kvm[("aarch64", ("ARM_VIRT",))] is True
    assert tmap.files["hw/arm/musicpal.c"].tier is Tier.BEST_EFFORT


def test_default_configs_layout_of_qemu_6_0(rules: TierRules) -> None:
    content: dict[str, str] = {}
    for path, text in files().items():
        if path.startswith("configs/targets/"):
            path = "default-" + path
        elif path.startswith("configs/devices/"):
            path = "default-configs/devices/" + path.split("/")[2] + ".mak"
        content[path] = text.replace(
            "include ../arm-softmmu/default.mak", "include arm-softmmu.mak"
        )
    tmap = build_tier_map(dict_tree(content, "qemu-6.0"), rules)
    assert len(tmap.boards) == 12
    assert tmap.files["hw/ppc/spapr.c"].tier is Tier.BIDIRECTIONAL
