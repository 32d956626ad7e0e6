"""Changes that leave the migration stream alone get no finding at all.

Each test commits a refactor over the mini QEMU tree and reviews it, at every
tier, through the real pipeline (`change_from_range` on a real repository).
"""

from __future__ import annotations

from bot.change import Change
from bot.findings import Tier
from bot.pipeline import ReviewOptions
from bot.sources import change_from_range
from tests.fixtures.minirepo import FileEdits, MiniRepo, commit_change
from tests.harness import review

UART = "hw/char/acme_uart.c"
UART_H = "include/hw/char/acme_uart.h"
TIMER = "hw/timer/acme_timer.c"
TIMER_H = "include/hw/timer/acme_timer.h"
NIC = "hw/net/acme_nic.c"
MACHINE = "hw/core/machine.c"
PC = "hw/i386/pc.c"
Q35 = "hw/i386/pc_q35.c"
BOARDS_H = "include/hw/core/boards.h"
PC_H = "include/hw/i386/pc.h"


def edit(repo: MiniRepo, path: str, *pairs: tuple[str, str]) -> str:
    """``path``'s text with each ``old`` (present exactly once) replaced by ``new``."""
    text = repo.read(path)
    for old, new in pairs:
        assert text.count(old) == 1, f"{path}: {old!r} occurs {text.count(old)} times"
        text = text.replace(old, new)
    return text


def change_of(repo: MiniRepo, files: FileEdits) -> Change:
    base = repo.rev("HEAD")
    head = commit_change(repo, files, "refactor")
    return change_from_range(repo.path, f"{base}..{head}")


def assert_silent(change: Change) -> None:
    assert change.files, "the refactor changed nothing"
    for tier in Tier:
        report = review(change, ReviewOptions(tier=tier))
        shown = [f"{f.rule_id} {f.path}:{f.line} {f.message}" for f in report.findings]
        assert report.findings == (), f"at {tier.value}: {shown}"
        assert report.files_scanned >= 1


def test_renamed_member(mini_repo: MiniRepo) -> None:
    files = {
        TIMER: edit(
            mini_repo,
            TIMER,
            (
                "        VMSTATE_UINT32(count, AcmeTimerState),\n",
                "        VMSTATE_UINT32(counter, AcmeTimerState),\n",
            ),
        ),
        TIMER_H: edit(mini_repo, TIMER_H, ("    uint32_t count;\n", "    uint32_t counter;\n")),
    }
    assert_silent(change_of(mini_repo, files))


def test_constified_arrays(mini_repo: MiniRepo) -> None:
    const = mini_repo.read(NIC)
    plain = const.replace("(const VMStateField[])", "(VMStateField[])").replace(
        "(const VMStateDescription * const [])", "(VMStateDescription *[])"
    )
    assert plain != const
    commit_change(mini_repo, {NIC: plain}, "acme-nic: as it was before the const series")
    assert_silent(change_of(mini_repo, {NIC: const}))


def test_vmsd_moved_unchanged_to_another_file(mini_repo: MiniRepo) -> None:
    channel = (
        "static const VMStateDescription vmstate_acme_timer_channel = {\n"
        '    .name = "acme-timer-channel",\n'
        "    .version_id = 1,\n"
        "    .minimum_version_id = 1,\n"
        "    .fields = (const VMStateField[]) {\n"
        "        VMSTATE_UINT32(ctrl, AcmeTimerChannel),\n"
        "        VMSTATE_UINT32(compare, AcmeTimerChannel),\n"
        "        VMSTATE_END_OF_LIST()\n"
        "    }\n"
        "};\n\n"
    )
    new_file = (
        "/*\n * ACME timer channels, split out of acme_timer.c\n *\n"
        " * SPDX-License-Identifier: GPL-2.0-or-later\n */\n\n"
        '#include "qemu/osdep.h"\n'
        '#include "hw/timer/acme_timer.h"\n'
        '#include "migration/vmstate.h"\n\n'
        + channel.replace("static const", "const").rstrip("\n")
        + "\n"
    )
    files = {
        TIMER: edit(mini_repo, TIMER, (channel, "")),
        "hw/timer/acme_timer_channel.c": new_file,
        TIMER_H: edit(
            mini_repo,
            TIMER_H,
            (
                "} AcmeTimerChannel;\n",
                "} AcmeTimerChannel;\n\n"
                "extern const VMStateDescription vmstate_acme_timer_channel;\n",
            ),
        ),
    }
    assert_silent(change_of(mini_repo, files))


def test_reformatting_and_comments(mini_repo: MiniRepo) -> None:
    files = {
        UART: edit(
            mini_repo,
            UART,
            (
                "    .version_id = 1,\n    .minimum_version_id = 1,\n",
                "    .version_id = 1,            /* bump with care: see docs */\n"
                "    .minimum_version_id = 1,\n",
            ),
            (
                "        VMSTATE_UINT16(divider, AcmeUARTState),\n",
                "        /* divisor latch */\n        VMSTATE_UINT16(divider,\n"
                "                       AcmeUARTState),\n",
            ),
            (
                "        VMSTATE_UINT8(ier, AcmeUARTState),\n",
                "        VMSTATE_UINT8( ier , AcmeUARTState ),   // interrupt enable\n",
            ),
            ("        VMSTATE_END_OF_LIST()\n", "\tVMSTATE_END_OF_LIST()\n"),
        ),
    }
    assert_silent(change_of(mini_repo, files))


def test_signedness_only(mini_repo: MiniRepo) -> None:
    files = {
        TIMER: edit(
            mini_repo,
            TIMER,
            (
                "        VMSTATE_UINT32(load, AcmeTimerState),\n",
                "        VMSTATE_INT32(load, AcmeTimerState),\n",
            ),
        ),
        TIMER_H: edit(mini_repo, TIMER_H, ("    uint32_t load;\n", "    int32_t load;\n")),
    }
    assert_silent(change_of(mini_repo, files))


def test_string_name_replaced_by_its_type_macro(mini_repo: MiniRepo) -> None:
    files = {
        UART: edit(
            mini_repo,
            UART,
            (
                '    .name = "acme-uart",\n',
                "    .name = TYPE_ACME_UART,\n",
            ),
        ),
    }
    assert_silent(change_of(mini_repo, files))


def test_fields_moved_to_a_named_array(mini_repo: MiniRepo) -> None:
    fields = (
        "        VMSTATE_UINT16(divider, AcmeUARTState),\n"
        "        VMSTATE_UINT8(rbr, AcmeUARTState),\n"
        "        VMSTATE_UINT8(ier, AcmeUARTState),\n"
        "        VMSTATE_UINT8(lcr, AcmeUARTState),\n"
        "        VMSTATE_UINT8(mcr, AcmeUARTState),\n"
        "        VMSTATE_UINT8(lsr, AcmeUARTState),\n"
        "        VMSTATE_BUFFER(fifo, AcmeUARTState),\n"
        "        VMSTATE_UINT32_ARRAY(scratch, AcmeUARTState, 4),\n"
        "        VMSTATE_END_OF_LIST()\n"
    )
    text = edit(
        mini_repo,
        UART,
        (
            "    .fields = (const VMStateField[]) {\n" + fields + "    }\n",
            "    .fields = acme_uart_fields,\n",
        ),
        (
            "static const VMStateDescription vmstate_acme_uart = {\n",
            "static const VMStateField acme_uart_fields[] = {\n"
            + fields.replace("        ", "    ")
            + "};\n\nstatic const VMStateDescription vmstate_acme_uart = {\n",
        ),
    )
    assert_silent(change_of(mini_repo, {UART: text}))


def _without_machine_10_0(repo: MiniRepo) -> dict[str, str | bytes | None]:
    """Machine 10.0 deleted with hw_compat_10_0 and pc_compat_10_0, as after the deprecation."""
    return {
        MACHINE: edit(
            repo,
            MACHINE,
            (
                "GlobalProperty hw_compat_10_0[] = {\n"
                '    { "acme-nic", "x-rx-coalesce", "off" },\n'
                "};\n"
                "const size_t hw_compat_10_0_len = G_N_ELEMENTS(hw_compat_10_0);\n\n",
                "",
            ),
        ),
        PC: edit(
            repo,
            PC,
            (
                "\nGlobalProperty pc_compat_10_0[] = {\n"
                '    { "acme-uart", "x-fifo-reset", "off" },\n'
                "};\n"
                "const size_t pc_compat_10_0_len = G_N_ELEMENTS(pc_compat_10_0);\n",
                "",
            ),
        ),
        BOARDS_H: edit(
            repo,
            BOARDS_H,
            (
                "extern GlobalProperty hw_compat_10_0[];\n"
                "extern const size_t hw_compat_10_0_len;\n\n",
                "",
            ),
        ),
        PC_H: edit(
            repo,
            PC_H,
            (
                "extern GlobalProperty pc_compat_10_0[];\n"
                "extern const size_t pc_compat_10_0_len;\n\n",
                "",
            ),
        ),
        Q35: edit(
            repo,
            Q35,
            (
                "\nstatic void pc_q35_machine_10_0_options(MachineClass *m)\n"
                "{\n"
                "    pc_q35_machine_10_1_options(m);\n"
                "    compat_props_add(m->compat_props, hw_compat_10_0, hw_compat_10_0_len);\n"
                "    compat_props_add(m->compat_props, pc_compat_10_0, pc_compat_10_0_len);\n"
                "}\n\n"
                "DEFINE_Q35_MACHINE(10, 0);\n",
                "",
            ),
        ),
    }


def test_old_machine_version_deleted_with_its_compat_arrays(mini_repo: MiniRepo) -> None:
    assert_silent(change_of(mini_repo, _without_machine_10_0(mini_repo)))


def test_compat_property_and_its_gate_removed_after_the_machine(mini_repo: MiniRepo) -> None:
    commit_change(mini_repo, _without_machine_10_0(mini_repo), "pc: remove 10.0 machine")
    # x-rx-coalesce was only set by hw_compat_10_0: the property and the
    # .needed that read it go, and the subsection is now always sent.
    nic = edit(
        mini_repo,
        NIC,
        (
            "static bool acme_nic_coalesce_needed(void *opaque)\n"
            "{\n"
            "    AcmeNICState *s = opaque;\n\n"
            "    return s->migrate_coalesce;\n"
            "}\n\n",
            "",
        ),
        ("    .needed = acme_nic_coalesce_needed,\n", ""),
        ('    DEFINE_PROP_BOOL("x-rx-coalesce", AcmeNICState, migrate_coalesce, true),\n', ""),
    )
    header = edit(mini_repo, "include/hw/net/acme_nic.h", ("    bool migrate_coalesce;\n", ""))
    assert_silent(change_of(mini_repo, {NIC: nic, "include/hw/net/acme_nic.h": header}))


def test_compat_property_cleanup_in_the_same_commit_as_the_machine(mini_repo: MiniRepo) -> None:
    files = _without_machine_10_0(mini_repo)
    files[NIC] = edit(
        mini_repo,
        NIC,
        ("    .needed = acme_nic_coalesce_needed,\n", ""),
        ('    DEFINE_PROP_BOOL("x-rx-coalesce", AcmeNICState, migrate_coalesce, true),\n', ""),
        (
            "static bool acme_nic_coalesce_needed(void *opaque)\n"
            "{\n"
            "    AcmeNICState *s = opaque;\n\n"
            "    return s->migrate_coalesce;\n"
            "}\n\n",
            "",
        ),
    )
    assert_silent(change_of(mini_repo, files))


def test_a_moved_vmsd_that_also_changed_is_still_judged(mini_repo: MiniRepo) -> None:
    """The control for the move above: moving does not hide a change made on the way."""
    channel = mini_repo.read(TIMER)
    start = channel.index("static const VMStateDescription vmstate_acme_timer_channel = {\n")
    end = channel.index("};\n", start) + 3
    vmsd = channel[start:end]
    moved = vmsd.replace(
        "        VMSTATE_UINT32(compare, AcmeTimerChannel),\n",
        "        VMSTATE_UINT32(compare, AcmeTimerChannel),\n"
        "        VMSTATE_UINT32(capture, AcmeTimerChannel),\n",
    )
    files = {
        TIMER: channel[:start] + channel[end + 1 :],
        "hw/timer/acme_timer_channel.c": '#include "qemu/osdep.h"\n\n' + moved,
    }
    report = review(change_of(mini_repo, files), ReviewOptions(tier=Tier.BIDIRECTIONAL))
    assert [(f.rule_id, f.path, f.subject) for f in report.findings] == [
        ("MIG001", "hw/timer/acme_timer_channel.c", "capture")
    ]
