"""Makefile.objs read into source rules (QEMU before meson)."""

from __future__ import annotations

import pytest

from bot.tiers.makefiles import make_condition, parse_makefile, read_makefiles
from bot.tiers.meson import Condition, Term


def cond(*terms: tuple[set[str], set[str]]) -> Condition:
    return Condition(frozenset(Term(frozenset(p), frozenset(n)) for p, n in terms))


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("y", Condition.always()),
        ("$(CONFIG_FOO)", cond(({"CONFIG_FOO"}, set()))),
        ("$(call land,$(CONFIG_A),$(CONFIG_B))", cond(({"CONFIG_A", "CONFIG_B"}, set()))),
        (
            "$(call lor,$(CONFIG_A),$(CONFIG_B))",
            cond(({"CONFIG_A"}, set()), ({"CONFIG_B"}, set())),
        ),
        ("$(call lnot,$(CONFIG_KVM))", cond((set(), {"CONFIG_KVM"}))),
        ("$(and $(CONFIG_E500),$(CONFIG_KVM))", cond(({"CONFIG_E500", "CONFIG_KVM"}, set()))),
        (
            "$(call land, $(CONFIG_VIRTIO),$(call land,$(CONFIG_VIRTFS),$(CONFIG_PCI)))",
            cond(({"CONFIG_VIRTIO", "CONFIG_VIRTFS", "CONFIG_PCI"}, set())),
        ),
        ("$(call notempty,$(TARGET_XML_FILES))", None),
    ],
)
def test_conditions(text: str, want: Condition | None) -> None:
    assert make_condition(text) == want


def test_ifdef_else_and_continuation_lines() -> None:
    entries, _ = parse_makefile(
        "ifdef CONFIG_SOFTMMU\n"
        "obj-y += a.o \\\n    b.o\n"
        "else\n"
        "obj-y += stub.o\n"
        "endif\n"
        "ifeq ($(TARGET_NAME), sparc64)\n"
        "obj-y += hw/sparc64/\n"
        "endif\n"
    )
    got = {e.word: str(e.cond) for e in entries}
    assert got == {
        "a.o": "CONFIG_SOFTMMU",
        "b.o": "CONFIG_SOFTMMU",
        "stub.o": "!CONFIG_SOFTMMU",
        "hw/sparc64/": "TARGET_SPARC64",
    }


def test_directories_nest_their_conditions_and_arch_dirs_get_a_scope() -> None:
    files = {
        "Makefile.target": "obj-y += hw/\nobj-y += hw/$(TARGET_BASE_ARCH)/\n",
        "hw/Makefile.objs": (
            "devices-dirs-$(CONFIG_PCI) += net/\ncommon-obj-y += $(devices-dirs-y)\n"
        ),
        "hw/net/Makefile.objs": "common-obj-$(CONFIG_NIC) += nic.o\n",
        "hw/arm/Makefile.objs": "obj-$(CONFIG_BOARD) += board.o\n",
    }
    got = read_makefiles(files.get, ["arm", "i386"]).by_path()
    (nic,) = got["hw/net/nic.c"]
    assert str(nic.cond) == "CONFIG_NIC && CONFIG_PCI"
    assert nic.scope.kind == "system"
    (board,) = got["hw/arm/board.c"]
    assert (board.scope.kind, board.scope.key) == ("arch", "arm")
    assert str(board.cond) == "CONFIG_BOARD"
