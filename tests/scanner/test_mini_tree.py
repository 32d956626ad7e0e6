"""The mini QEMU tree is read the way a real one is: macros from its own headers,
tiers from its Kconfig, meson.build and configs/."""

from __future__ import annotations

import pytest

from bot.findings import Tier
from bot.pipeline import ReviewOptions
from bot.scanner.treeinfo import macro_table
from bot.sources import change_from_range
from bot.tiers import tree_from_git, tree_resolver
from tests.fixtures.minirepo import MiniRepo, commit_change
from tests.harness import review

UART = "hw/char/acme_uart.c"


def test_macros_are_learned_from_the_tree_headers(mini_repo: MiniRepo) -> None:
    change = change_from_range(mini_repo.path, "base")
    table = macro_table(change.head_tree)
    assert "include/migration/vmstate.h" in table.learned_from
    assert "include/hw/core/clock.h" in table.learned_from
    assert {"VMSTATE_CLOCK", "VMSTATE_STRUCT_ARRAY", "VMSTATE_UNUSED"} <= set(table.functions)


def test_the_base_tree_itself_is_understood(mini_repo: MiniRepo) -> None:
    """The root commit adds every file: no C or Rust in it is left not understood."""
    report = review(change_from_range(mini_repo.path, "base"), ReviewOptions(tier=Tier.FORWARD))
    assert [(n.path, n.what) for n in report.not_understood] == []
    assert report.files_scanned >= 10


@pytest.mark.parametrize(
    ("path", "tier", "machines"),
    [
        ("hw/i386/pc_q35.c", Tier.BIDIRECTIONAL, ("pc-q35-*",)),
        ("hw/net/acme_nic.c", Tier.BIDIRECTIONAL, ("pc-q35-*",)),
        ("hw/char/acme_uart.c", Tier.BIDIRECTIONAL, ("pc-q35-*",)),
        ("include/hw/net/acme_nic.h", Tier.BIDIRECTIONAL, ("pc-q35-*",)),
        ("hw/core/machine.c", Tier.BIDIRECTIONAL, ("pc-q35-*", "acme-eval")),
        ("hw/char/pl011.c", Tier.BEST_EFFORT, ("acme-eval",)),
        ("rust/hw/char/pl011/src/device.rs", Tier.BEST_EFFORT, ("acme-eval",)),
    ],
)
def test_tiers_are_computed_from_the_tree(
    mini_template: MiniRepo, path: str, tier: Tier, machines: tuple[str, ...]
) -> None:
    """Kconfig, meson and configs/ give the mini tree real tiers: the Q35 board is
    versioned and KVM-capable (arm's acme-eval board is neither), PCI cards plug
    into it, and the PL011 is on the arm board only."""
    resolve = tree_resolver(tree_from_git(mini_template.path, "base"), use_cache=False)
    decision = resolve(path)
    assert (decision.source, decision.tier, decision.machines) == ("tree", tier, machines), (
        decision.reason
    )


def test_a_device_macro_from_its_own_header_is_learned(mini_repo: MiniRepo) -> None:
    header = (
        "#ifndef HW_MISC_ACME_REGS_H\n#define HW_MISC_ACME_REGS_H\n\n"
        '#include "migration/vmstate.h"\n\n'
        "/* The register file of ACME devices: eight 64-bit registers. */\n"
        "#define VMSTATE_ACME_REGS(_f, _s)                                    \\\n"
        "    VMSTATE_ARRAY(_f, _s, 8, 0, vmstate_info_uint64, uint64_t)\n\n"
        "#endif\n"
    )
    device = (
        '#include "qemu/osdep.h"\n#include "hw/misc/acme_regs.h"\n\n'
        "static const VMStateDescription vmstate_acme_regs = {\n"
        '    .name = "acme-regs",\n'
        "    .version_id = 1,\n"
        "    .minimum_version_id = 1,\n"
        "    .fields = (const VMStateField[]) {\n"
        "        VMSTATE_ACME_REGS(regs, AcmeRegsState),\n"
        "        VMSTATE_END_OF_LIST()\n"
        "    }\n"
        "};\n"
    )
    base = commit_change(
        mini_repo, {"include/hw/misc/acme_regs.h": header, "hw/misc/acme_regs.c": device}
    )
    narrowed = device.replace(
        "VMSTATE_ACME_REGS(regs, AcmeRegsState)", "VMSTATE_UINT32_ARRAY(regs, AcmeRegsState, 8)"
    )
    head = commit_change(mini_repo, {"hw/misc/acme_regs.c": narrowed})
    report = review(
        change_from_range(mini_repo.path, f"{base}..{head}"), ReviewOptions(tier=Tier.FORWARD)
    )
    [finding] = report.findings
    assert finding.rule_id == "MIG004"
    assert "from uint64 to uint32" in finding.message
    assert finding.subject == "regs"


def test_a_macro_the_tree_does_not_define_is_not_guessed(mini_repo: MiniRepo) -> None:
    base = mini_repo.rev("HEAD")
    text = mini_repo.read(UART).replace(
        "        VMSTATE_UINT8(lsr, AcmeUARTState),\n",
        "        VMSTATE_UINT8(lsr, AcmeUARTState),\n"
        "        VMSTATE_TIMER_PTR(fifo_timeout, AcmeUARTState),\n",
    )
    head = commit_change(mini_repo, {UART: text})
    report = review(
        change_from_range(mini_repo.path, f"{base}..{head}"),
        ReviewOptions(tier=Tier.BIDIRECTIONAL),
    )
    assert report.findings == ()
    [what] = [n for n in report.not_understood if n.path == UART]
    assert "VMSTATE_TIMER_PTR" in what.what
    assert (
        what.line
        == text.split("\n").index("        VMSTATE_TIMER_PTR(fifo_timeout, AcmeUARTState),") + 1
    )
