"""change_from_patch: mbox series, single patches and bare diffs, with and without a repo."""

from __future__ import annotations

import base64
import quopri
from dataclasses import dataclass

import pytest

from bot.change import Change, FileChange, FileStatus
from bot.sources import SourceError, change_from_patch, change_from_range

from .gitwork import COMPAT_C, TIMER_C, UART_C, GitWork, assert_hunks_match_texts

BOARD_C = """\
static void demo_board_init(MachineState *machine)
{
    DeviceState *dev = qdev_new("demo-timer");

    sysbus_realize_and_unref(SYS_BUS_DEVICE(dev), &error_fatal);
}
"""

NEW_C = """\
/* Clock state of the demo timer, a new section (caf\u00e9). */

static const VMStateDescription vmstate_demo_clock = {
    .name = "demo-timer/clock",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_CLOCK(clk, DemoTimerState),
        VMSTATE_END_OF_LIST()
    }
};
"""


@dataclass(frozen=True)
class Series:
    base: str
    head: str
    mbox: bytes


def make_series(work: GitWork) -> Series:
    """Three patches: modify, add, rename+modify, delete; with a cover letter."""
    work.write("hw/timer/demo_timer.c", TIMER_C)
    work.write("hw/char/demo_uart.c", UART_C)
    work.write("hw/core/machine.c", COMPAT_C)
    work.write("hw/misc/demo_board.c", BOARD_C)
    base = work.commit("base")
    work.write(
        "hw/timer/demo_timer.c",
        TIMER_C.replace(
            "        VMSTATE_UINT32(irq_level, DemoTimerState),\n",
            "        VMSTATE_UINT32(irq_level, DemoTimerState),\n"
            "        VMSTATE_BOOL(irq_masked, DemoTimerState),\n",
        ),
    )
    work.write("hw/timer/demo_clock.c", NEW_C)
    work.commit("hw/timer/demo: migrate the IRQ mask\n\nSigned-off-by: Ada <ada@example.org>")
    timer = (work.path / "hw/timer/demo_timer.c").read_text()
    work.write(
        "hw/timer/demo_timer.c",
        timer.replace("dc->vmsd", "dc->user_creatable = false;\n    dc->vmsd"),
    )
    work.git("mv", "hw/char/demo_uart.c", "hw/char/demo-uart.c")
    work.write("hw/char/demo-uart.c", UART_C.replace("16)", "32)"))
    work.write(
        "hw/core/machine.c",
        COMPAT_C.replace(
            '    { "demo-timer", "x-irq-state", "off" },\n',
            '    { "demo-timer", "x-irq-state", "off" },\n'
            '    { "demo-uart", "x-big-fifo", "off" },\n',
        ),
    )
    work.commit("hw/char/demo-uart: grow the FIFO\n\nWith a compat property.")
    work.remove("hw/misc/demo_board.c")
    work.write("hw/timer/demo_clock.c", NEW_C.replace("VMSTATE_CLOCK(clk", "VMSTATE_CLOCK_V(clk"))
    head = work.commit("hw/misc: drop the demo board")
    mbox = work.git(
        "format-patch", "--stdout", "--cover-letter", f"--base={base}", f"{base}..{head}"
    )
    mbox = mbox.replace(b"*** SUBJECT HERE ***", b"demo: migrate more timer state")
    return Series(base, head, mbox)


def files(change: Change) -> dict[str, FileChange]:
    return {fc.path: fc for fc in change.files}


def assert_matches_the_commits(change: Change, work: GitWork, series: Series) -> None:
    """Texts are the real blobs at base and head; statuses are git's."""
    real = files(change_from_range(work.path, f"{series.base}..{series.head}"))
    got = files(change)
    assert sorted(got) == sorted(real)
    for path, fc in got.items():
        assert fc.texts_known, path
        assert (fc.status, fc.old_path, fc.new_path) == (
            real[path].status,
            real[path].old_path,
            real[path].new_path,
        )
        assert fc.old_text == real[path].old_text, path
        assert fc.new_text == real[path].new_text, path
        if fc.new_text is not None:
            assert fc.new_text == work.blob(series.head, path).decode()
        assert fc.changed_new_lines() == real[path].changed_new_lines(), path
        assert_hunks_match_texts(fc)


def test_series_applied_in_memory_matches_the_commits(work: GitWork) -> None:
    series = make_series(work)
    # HEAD moves on and conflicts: the base-commit trailer must be used.
    work.write("hw/timer/demo_timer.c", TIMER_C.replace("irq_level", "level"))
    work.commit("unrelated rework")
    assert b"base-commit: " + series.base.encode() in series.mbox

    change = change_from_patch(series.mbox, work.path, None)

    assert change.notes == ()
    assert change.base == series.base
    assert change.head is None
    assert change.origin == "mbox"
    assert change.title == "demo: migrate more timer state"
    assert_matches_the_commits(change, work, series)
    got = files(change)
    assert got["hw/char/demo-uart.c"].status is FileStatus.RENAMED
    assert got["hw/timer/demo_clock.c"].status is FileStatus.ADDED
    assert got["hw/misc/demo_board.c"].status is FileStatus.DELETED


def test_head_tree_lays_the_series_over_the_base(work: GitWork) -> None:
    series = make_series(work)

    change = change_from_patch(series.mbox, work.path, None)

    head, base = change.head_tree, change.base_tree
    assert head is not None
    assert base is not None
    assert head.read("hw/char/demo_uart.c") is None
    assert head.read("hw/misc/demo_board.c") is None
    assert (
        head.read("hw/char/demo-uart.c") == work.blob(series.head, "hw/char/demo-uart.c").decode()
    )
    assert base.read("hw/char/demo_uart.c") == UART_C
    assert head.grep is not None
    assert head.grep("VMSTATE_UINT8_ARRAY(fifo", "hw/*") == ["hw/char/demo-uart.c"]
    assert head.grep("x-big-fifo", "") == ["hw/core/machine.c"]
    assert head.grep("demo_board_init", "*.c") == []
    assert head.tree_id != base.tree_id


def test_patch_that_does_not_apply_is_noted_and_nothing_is_lost(work: GitWork) -> None:
    series = make_series(work)
    work.git("checkout", "-q", series.base)
    work.write(
        "hw/timer/demo_timer.c", TIMER_C.replace("    DeviceClass *dc", "    DeviceClass *klass_dc")
    )
    moved = work.commit("rework class_init")

    change = change_from_patch(series.mbox, work.path, moved)

    (note,) = change.notes
    assert note.startswith(
        'patch 2/3 "hw/char/demo-uart: grow the FIFO": hw/timer/demo_timer.c: hunk #1'
    )
    assert "does not apply" in note
    got = files(change)
    timer = got["hw/timer/demo_timer.c"]
    assert not timer.texts_known
    assert timer.new_text is None
    assert timer.old_text == work.blob(moved, "hw/timer/demo_timer.c").decode()
    assert len(timer.hunks) == 2  # one from patch 1, one from patch 2: both shown
    # The other files apply and are exact.
    assert sorted(got) == sorted(
        files(change_from_range(work.path, f"{series.base}..{series.head}"))
    )
    uart = got["hw/char/demo-uart.c"]
    assert uart.texts_known
    assert uart.new_text == work.blob(series.head, "hw/char/demo-uart.c").decode()


def test_without_a_repository_only_whole_files_are_known(work: GitWork) -> None:
    series = make_series(work)

    change = change_from_patch(series.mbox, None, None)

    assert change.base == series.base  # from the trailer, for information
    assert change.base_tree is None
    assert change.head_tree is None
    got = files(change)
    clock = got["hw/timer/demo_clock.c"]  # created by patch 1, edited by patch 3
    assert clock.texts_known
    assert clock.status is FileStatus.ADDED
    assert clock.new_text == work.blob(series.head, "hw/timer/demo_clock.c").decode()
    board = got["hw/misc/demo_board.c"]
    assert board.texts_known
    assert board.status is FileStatus.DELETED
    assert board.old_text == BOARD_C
    timer = got["hw/timer/demo_timer.c"]
    assert not timer.texts_known
    assert (timer.old_text, timer.new_text) == (None, None)
    assert len(timer.hunks) == 2
    uart = got["hw/char/demo-uart.c"]
    assert uart.status is FileStatus.RENAMED
    assert uart.old_path == "hw/char/demo_uart.c"
    assert not uart.texts_known
    assert any(
        ln.text == "        VMSTATE_UINT8_ARRAY(fifo, DemoUartState, 32),"
        for h in uart.hunks
        for ln in h.lines
    )


def test_single_patch_file_and_its_subject(work: GitWork) -> None:
    series = make_series(work)
    patch = work.git("format-patch", "--stdout", "-1", "--subject-prefix=PATCH v2", series.head)

    change = change_from_patch(patch, work.path, f"{series.head}~1")

    assert change.title == "hw/misc: drop the demo board"
    assert change.origin == "patch"
    assert sorted(files(change)) == ["hw/misc/demo_board.c", "hw/timer/demo_clock.c"]
    assert (
        files(change)["hw/timer/demo_clock.c"].new_text
        == work.blob(series.head, "hw/timer/demo_clock.c").decode()
    )


def test_unified_diff_on_stdin(work: GitWork) -> None:
    series = make_series(work)
    diff = work.git("diff", "-M", series.base, series.head)

    change = change_from_patch(diff, work.path, series.base)

    assert change.origin == "diff"
    assert change.title == ""
    assert_matches_the_commits(change, work, series)


def _reencode(mbox: bytes, encoding: str) -> bytes:
    """The same mails with their bodies sent quoted-printable or base64."""
    mime = b"MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n"
    out = []
    for chunk in mbox.split(b"\nFrom "):
        head, _, body = chunk.partition(b"\n\n")
        kept = [
            line
            for line in head.split(b"\n")
            if not line.startswith((b"MIME-Version:", b"Content-Type:", b"Content-Transfer"))
        ]
        head = b"\n".join(kept) + b"\n" + mime + b"Content-Transfer-Encoding: " + encoding.encode()
        encoded = base64.encodebytes(body) if encoding == "base64" else quopri.encodestring(body)
        out.append(head + b"\n\n" + encoded)
    return b"\nFrom ".join(out)


@pytest.mark.parametrize("encoding", ["quoted-printable", "base64"])
def test_encoded_bodies(work: GitWork, encoding: str) -> None:
    series = make_series(work)
    mbox = _reencode(series.mbox, encoding)
    assert b"Content-Transfer-Encoding: " + encoding.encode() in mbox
    assert b"VMSTATE_CLOCK" not in mbox or encoding == "quoted-printable"

    change = change_from_patch(mbox, work.path, None)

    assert change.base == series.base
    assert_matches_the_commits(change, work, series)
    assert "caf\u00e9" in (files(change)["hw/timer/demo_clock.c"].new_text or "")


def test_crlf_mbox(work: GitWork) -> None:
    series = make_series(work)

    change = change_from_patch(series.mbox.replace(b"\n", b"\r\n"), work.path, None)

    assert change.title == "demo: migrate more timer state"
    assert_matches_the_commits(change, work, series)


def test_patches_are_put_in_order_and_replies_ignored(work: GitWork) -> None:
    series = make_series(work)
    mails = [b"From " + m if i else m for i, m in enumerate(series.mbox.split(b"\nFrom "))]
    reply = (
        b"From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n"
        b"From: Reviewer <r@example.org>\n"
        b"Subject: Re: [PATCH 2/3] hw/char/demo-uart: grow the FIFO\n\n"
        b"> -        VMSTATE_UINT8_ARRAY(fifo, DemoUartState, 16),\n\nLooks fine.\n"
    )
    shuffled = b"\n".join([mails[0], mails[3], reply, mails[1], mails[2]])

    change = change_from_patch(shuffled, work.path, None)

    assert change.notes == ("1 reply in the mbox ignored",)
    assert_matches_the_commits(change, work, series)


def test_trailer_base_missing_from_the_repository_falls_back_to_head(work: GitWork) -> None:
    series = make_series(work)
    mbox = series.mbox.replace(series.base.encode(), b"1" * 40)
    work.git("checkout", "-q", series.base)

    change = change_from_patch(mbox, work.path, None)

    assert change.notes == (
        f"base-commit {'1' * 40} is not in the repository; applied on HEAD ({series.base[:12]})",
    )
    assert_matches_the_commits(change, work, series)


def test_unknown_explicit_base(work: GitWork) -> None:
    series = make_series(work)
    with pytest.raises(
        SourceError, match=r"^unknown revision: 'v99\.0': this repository has no tag v99\.0 "
    ):
        change_from_patch(series.mbox, work.path, "v99.0")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", r"^empty patch$"),
        (b"Dear list,\nplease merge my branch.\n", r"^not a patch: no diff found$"),
        (
            b"From: a@example.org\nSubject: [PATCH 0/2] cover only\n\nNothing here.\n",
            r"^not a patch: no diff found$",
        ),
        (
            b"From: a@example.org\nSubject: [PATCH] x\n\n---\n"
            b"diff --git a/x.c b/x.c\n--- a/x.c\n+++ b/x.c\n@@ -1,3 +1,3 @@\n a\n",
            r'^patch "x": malformed diff: Hunk is shorter than expected$',
        ),
    ],
)
def test_bad_input(data: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        change_from_patch(data, None, None)


def test_not_a_repository(tmp_path: object) -> None:
    diff = b"--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n-a\n+b\n"
    with pytest.raises(SourceError, match=r"^not a git repository: "):
        change_from_patch(diff, tmp_path, None)  # type: ignore[arg-type]
