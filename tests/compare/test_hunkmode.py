"""A patch judged without a repository: only what its hunks show.

The patches are real ``git format-patch`` mails of commits made over the mini
QEMU tree; they are read back with no repository (`change_from_patch(data)`),
as ``migbot check --patch`` without ``--repo`` does.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from bot.findings import Report, Severity, Tier
from bot.pipeline import ReviewOptions
from bot.sources import change_from_patch
from tests.fixtures.minirepo import MiniRepo, commit_change
from tests.harness import MIGBOT, review

UART = "hw/char/acme_uart.c"
MACHINE = "hw/core/machine.c"

Edit = Callable[[str], str]


def replace(old: str, new: str) -> Edit:
    def edit(text: str) -> str:
        assert text.count(old) == 1, old
        return text.replace(old, new)

    return edit


def patch_of(repo: MiniRepo, edits: dict[str, Edit], subject: str) -> bytes:
    """The format-patch mail of a commit applying ``edits`` to the mini tree."""
    commit_change(repo, {p: e(repo.read(p)) for p, e in edits.items()}, subject)
    return repo.format_patch()


def blind_review(patch: bytes, tier: Tier | None = None) -> Report:
    change = change_from_patch(patch, None, None)
    assert all(not fc.texts_known for fc in change.files if fc.old_path is not None)
    return review(change, ReviewOptions(tier=tier))


FCR_IN_THE_MIDDLE = {
    UART: replace(
        "        VMSTATE_UINT8(lcr, AcmeUARTState),\n",
        "        VMSTATE_UINT8(lcr, AcmeUARTState),\n        VMSTATE_UINT8(fcr, AcmeUARTState),\n",
    )
}


def test_unversioned_field_in_the_middle_of_a_visible_list(mini_repo: MiniRepo) -> None:
    patch = patch_of(mini_repo, FCR_IN_THE_MIDDLE, "hw/char/acme_uart: migrate FCR")
    report = blind_review(patch)
    [finding] = report.findings
    assert finding.rule_id == "MIG001"
    assert finding.severity is Severity.ERROR
    assert finding.path == UART
    assert finding.subject == "fcr"
    assert "in the middle" in finding.message
    added_line = (
        mini_repo.read(UART).split("\n").index("        VMSTATE_UINT8(fcr, AcmeUARTState),")
    )
    assert finding.line == added_line + 1


def test_message_does_not_state_a_version_the_hunk_did_not_show(mini_repo: MiniRepo) -> None:
    patch = patch_of(mini_repo, FCR_IN_THE_MIDDLE, "hw/char/acme_uart: migrate FCR")
    [finding] = blind_review(patch).findings
    assert "version 0" not in finding.message


def test_field_added_near_a_visible_minimum_version(mini_repo: MiniRepo) -> None:
    edits = {
        UART: replace(
            "        VMSTATE_UINT16(divider, AcmeUARTState),\n",
            "        VMSTATE_UINT16(divider, AcmeUARTState),\n"
            "        VMSTATE_UINT8(fcr, AcmeUARTState),\n",
        )
    }
    patch = patch_of(mini_repo, edits, "hw/char/acme_uart: migrate FCR")
    assert b" .version_id = 1," not in patch
    assert b" .minimum_version_id = 1," in patch
    report = blind_review(patch)
    assert [f.rule_id for f in report.findings] == ["MIG001"]


def test_notes_say_plainly_what_was_not_seen(mini_repo: MiniRepo) -> None:
    edits = dict(FCR_IN_THE_MIDDLE)
    edits["hw/timer/acme_timer.c"] = replace(
        '    DEFINE_PROP_BOOL("x-tsc-sync", AcmeTimerState, tsc_sync, true),\n',
        '    DEFINE_PROP_BOOL("x-tsc-sync", AcmeTimerState, tsc_sync, false),\n',
    )
    report = blind_review(patch_of(mini_repo, edits, "hw: two files"))
    [note] = [n for n in report.notes if "no repository" in n]
    assert UART in note
    assert "hw/timer/acme_timer.c" in note
    assert "not seen" in note
    assert "--repo" in note


def test_versioned_field_with_a_visible_bump(mini_repo: MiniRepo) -> None:
    """A short VMSD shows its version in the hunk: the new field is judged versioned."""
    edits = {
        "hw/core/clock-vmstate.c": replace(
            "    .version_id = 1,\n    .minimum_version_id = 1,\n"
            "    .fields = (const VMStateField[]) {\n"
            "        VMSTATE_UINT64(period, Clock),\n",
            "    .version_id = 2,\n    .minimum_version_id = 1,\n"
            "    .fields = (const VMStateField[]) {\n"
            "        VMSTATE_UINT64(period, Clock),\n"
            "        VMSTATE_UINT32_V(multiplier, Clock, 2),\n",
        )
    }
    report = blind_review(patch_of(mini_repo, edits, "hw/core/clock: migrate the multiplier"))
    assert [(f.rule_id, f.severity) for f in report.findings] == [("MIG008", Severity.WARNING)]
    assert "raised from 1 to 2" in report.findings[0].message


def test_compat_entry_under_the_newest_visible_array(mini_repo: MiniRepo) -> None:
    edits = {
        MACHINE: replace(
            '    { "acme-timer", "x-migrate-prescaler", "off" },\n',
            '    { "acme-timer", "x-migrate-prescaler", "off" },\n'
            '    { "acme-uart", "x-break-irq", "off" },\n',
        )
    }
    report = blind_review(patch_of(mini_repo, edits, "hw/core: acme-uart compat"))
    assert report.findings == ()


def test_compat_entry_under_an_older_array_with_a_newer_one_visible(mini_repo: MiniRepo) -> None:
    edits = {
        MACHINE: replace(
            "GlobalProperty hw_compat_10_1[] = {\n",
            'GlobalProperty hw_compat_10_1[] = {\n    { "acme-uart", "x-break-irq", "off" },\n',
        )
    }
    report = blind_review(patch_of(mini_repo, edits, "hw/core: acme-uart compat"))
    assert [f.rule_id for f in report.findings] == ["MIG019"]


OLDER_ARRAY_ONLY = {
    MACHINE: replace(
        '    { "acme-nic", "mrg-rxbuf", "off" },\n',
        '    { "acme-nic", "mrg-rxbuf", "off" },\n    { "acme-uart", "x-break-irq", "off" },\n',
    )
}


def test_compat_entry_under_an_older_array_alone_is_not_guessed(mini_repo: MiniRepo) -> None:
    """Whether hw_compat_10_1 is the newest array cannot be told from this hunk."""
    report = blind_review(patch_of(mini_repo, OLDER_ARRAY_ONLY, "hw/core: acme-uart compat"))
    assert report.findings == ()


def test_notes_say_the_compat_array_could_not_be_judged(mini_repo: MiniRepo) -> None:
    report = blind_review(patch_of(mini_repo, OLDER_ARRAY_ONLY, "hw/core: acme-uart compat"))
    assert any("compat" in n for n in report.notes), report.notes


def test_a_file_the_patch_creates_is_judged_whole(mini_repo: MiniRepo) -> None:
    """All of a new file is in the patch: no note for it, and its VMSD is checked."""
    device = (
        '#include "qemu/osdep.h"\n#include "migration/vmstate.h"\n\n'
        "static const VMStateDescription vmstate_acme_pic = {\n"
        '    .name = "acme-pic",\n'
        "    .version_id = 1,\n"
        "    .minimum_version_id = 1,\n"
        "    .fields = (const VMStateField[]) {\n"
        "        VMSTATE_UINT32(enabled, AcmePICState),\n"
        "    }\n"
        "};\n"
    )
    commit_change(mini_repo, {"hw/intc/acme_pic.c": device}, "hw/intc: add acme-pic")
    patch = mini_repo.format_patch()
    change = change_from_patch(patch, None, None)
    report = review(change, ReviewOptions(tier=Tier.BIDIRECTIONAL))
    assert [f.rule_id for f in report.findings] == ["MIG026"]
    assert not any("hw/intc/acme_pic.c" in n for n in report.notes)


def test_cli_diff_on_stdin(mini_repo: MiniRepo, tmp_path: Path) -> None:
    patch = patch_of(mini_repo, FCR_IN_THE_MIDDLE, "hw/char/acme_uart: migrate FCR")
    diff = patch[patch.index(b"diff --git") :]
    proc = subprocess.run(
        [*MIGBOT, "check", "--diff", "-", "--no-color"],
        input=diff,
        capture_output=True,
        cwd=tmp_path,
        check=False,
    )
    out = proc.stdout.decode()
    assert proc.returncode == 1, proc.stderr.decode()
    assert "MIG001" in out
    assert "fcr" in out
    assert "--repo" in out


def test_property_default_changed_on_a_visible_line(mini_repo: MiniRepo) -> None:
    edits = {
        UART: replace(
            '    DEFINE_PROP_UINT32("baudbase", AcmeUARTState, baudbase, 115200),\n',
            '    DEFINE_PROP_UINT32("baudbase", AcmeUARTState, baudbase, 921600),\n',
        )
    }
    report = blind_review(patch_of(mini_repo, edits, "hw/char/acme_uart: faster default"))
    assert [f.rule_id for f in report.findings] == ["MIG022"]
