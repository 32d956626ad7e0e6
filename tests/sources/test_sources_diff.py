"""parse_diff on diffs written by git (and one by hand, as diff -u writes them)."""

from __future__ import annotations

import pytest

from bot.change import FileStatus
from bot.sources import SourceError, parse_diff
from bot.sources.diff import parse_file_patches

from .gitwork import COMPAT_C, TIMER_C, UART_C, GitWork


def test_rename_with_modification(work: GitWork) -> None:
    work.write("hw/timer/demo_timer.c", TIMER_C)
    work.commit("add")
    work.git("mv", "hw/timer/demo_timer.c", "hw/timer/demo-timer.c")
    work.write("hw/timer/demo-timer.c", TIMER_C.replace("count", "counter"))
    work.commit("rename")
    data = work.git("diff", "-M", "HEAD~1", "HEAD")
    assert b"similarity index" in data

    (fc,) = parse_diff(data)

    assert fc.status is FileStatus.RENAMED
    assert (fc.old_path, fc.new_path) == ("hw/timer/demo_timer.c", "hw/timer/demo-timer.c")
    assert not fc.texts_known
    assert fc.old_text is None
    assert fc.new_text is None
    (hunk,) = fc.hunks
    assert hunk.section == "static const VMStateDescription vmstate_demo_timer = {"
    (added,) = [ln for ln in hunk.lines if ln.kind == "+"]
    assert added.new_line == 32
    assert added.text == "        VMSTATE_UINT32(counter, DemoTimerState),"
    assert TIMER_C.split("\n")[31] == added.text.replace("counter", "count")


def test_pure_rename_has_no_hunks(work: GitWork) -> None:
    work.write("hw/char/demo_uart.c", UART_C)
    work.commit("add")
    work.git("mv", "hw/char/demo_uart.c", "hw/char/demo uart.c")
    work.commit("rename")

    (fc,) = parse_diff(work.git("diff", "-M", "HEAD~1", "HEAD"))

    assert fc.status is FileStatus.RENAMED
    assert fc.new_path == "hw/char/demo uart.c"
    assert fc.hunks == ()


def test_new_and_deleted_files(work: GitWork) -> None:
    work.write("hw/timer/demo_timer.c", TIMER_C)
    work.commit("add")
    work.remove("hw/timer/demo_timer.c")
    work.write("hw/char/demo_uart.c", UART_C)
    work.commit("swap")

    new, gone = parse_diff(work.git("diff", "HEAD~1", "HEAD"))

    assert new.status is FileStatus.ADDED
    assert (new.old_path, new.new_path) == (None, "hw/char/demo_uart.c")
    assert new.changed_new_lines() == set(range(1, UART_C.count("\n") + 1))
    assert gone.status is FileStatus.DELETED
    assert (gone.old_path, gone.new_path) == ("hw/timer/demo_timer.c", None)
    assert gone.path == "hw/timer/demo_timer.c"
    assert len(gone.changed_old_lines()) == TIMER_C.count("\n")


@pytest.mark.parametrize("binary_patch", [False, True])
def test_binary_files(work: GitWork, binary_patch: bool) -> None:
    work.write("pc-bios/demo.rom", bytes(range(256)) * 4)
    work.write("hw/core/machine.c", COMPAT_C)
    work.commit("add")
    work.write("pc-bios/demo.rom", bytes(range(255, -1, -1)) * 4)
    work.write("hw/core/machine.c", COMPAT_C.replace("10_1", "10_0"))
    work.commit("edit")
    args = ["diff", "--binary"] if binary_patch else ["diff"]
    data = work.git(*args, "HEAD~1", "HEAD")
    assert (b"GIT binary patch" in data) is binary_patch

    compat, rom = parse_diff(data)

    assert rom.binary
    assert rom.hunks == ()
    assert rom.status is FileStatus.MODIFIED
    assert not compat.binary
    assert compat.path == "hw/core/machine.c"
    assert compat.changed_new_lines() == {6, 9}


def test_no_newline_at_end_of_file(work: GitWork) -> None:
    work.write("hw/core/machine.c", COMPAT_C)
    work.commit("add")
    work.write("hw/core/machine.c", COMPAT_C + "/* end */")
    work.commit("edit")
    data = work.git("diff", "HEAD~1", "HEAD")
    assert b"\\ No newline at end of file" in data

    (fc,) = parse_diff(data)
    (fp,) = parse_file_patches(data)

    assert [(ln.kind, ln.new_line, ln.text) for ln in fc.hunks[0].lines if ln.kind != " "] == [
        ("+", 10, "/* end */")
    ]
    assert fp.hunks[0].new_side()[-1] == "/* end */"
    assert fp.hunks[0].old_side()[-1].endswith(");\n")


def test_non_utf8_bytes_do_not_crash(work: GitWork) -> None:
    work.write("hw/char/demo_uart.c", UART_C)
    work.commit("add")
    work.write("hw/char/demo_uart.c", UART_C.encode() + b"/* Fran\xe7ois \xff */\n")
    work.commit("latin-1 comment")

    (fc,) = parse_diff(work.git("diff", "HEAD~1", "HEAD"))

    (added,) = [ln for ln in fc.hunks[0].lines if ln.kind == "+"]
    assert added.text == "/* Fran\ufffdois \ufffd */"
    assert added.new_line == UART_C.count("\n") + 1


def test_crlf_transport_is_undone_but_crlf_content_kept(work: GitWork) -> None:
    work.write("hw/core/machine.c", COMPAT_C)
    work.write("docs/dos.txt", b"one\r\ntwo\r\n")
    work.commit("add")
    work.write("hw/core/machine.c", COMPAT_C.replace("off", "on"))
    work.write("docs/dos.txt", b"one\r\n2\r\n")
    work.commit("edit")
    data = work.git("diff", "HEAD~1", "HEAD")

    as_is = parse_diff(data)
    mailed = parse_diff(data.replace(b"\n", b"\r\n"))

    assert mailed == as_is
    dos = as_is[0]
    assert dos.path == "docs/dos.txt"
    assert [ln.text for ln in dos.hunks[0].lines] == ["one\r", "two\r", "2\r"]


def test_plain_diff_u_output() -> None:
    data = (
        b"--- hw/char/demo_uart.c.orig\t2026-02-01 12:00:00.000000000 +0000\n"
        b"+++ hw/char/demo_uart.c\t2026-02-01 12:05:00.000000000 +0000\n"
        b"@@ -13,3 +13,4 @@ static const VMStateDescription vmstate_demo_uart = {\n"
        b"         VMSTATE_UINT8(ier, DemoUartState),\n"
        b"+        VMSTATE_UINT8(iir, DemoUartState),\n"
        b"         VMSTATE_UINT8_ARRAY(fifo, DemoUartState, 16),\n"
        b"         VMSTATE_END_OF_LIST()\n"
    )

    (fc,) = parse_diff(data)

    assert fc.status is FileStatus.MODIFIED
    assert fc.old_path == fc.new_path == "hw/char/demo_uart.c"
    assert fc.changed_new_lines() == {14}


def test_quoted_non_ascii_path(work: GitWork) -> None:
    work.write("docs/caf\u00e9.txt", "a\n")
    work.commit("add")
    work.write("docs/caf\u00e9.txt", "b\n")
    work.commit("edit")
    data = work.git("-c", "core.quotePath=true", "diff", "HEAD~1", "HEAD")
    assert b'"a/docs/caf\\303\\251.txt"' in data

    (fc,) = parse_diff(data)

    assert fc.path == "docs/caf\u00e9.txt"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", r"^empty patch$"),
        (b"  \n\n", r"^empty patch$"),
        (b"Hello,\n\nthis is not a patch at all.\n", r"^not a patch: no file diff found$"),
        (
            b"--- a/x.c\n+++ b/x.c\n@@ -1,3 +1,3 @@\n a\n-b\n",
            r"^malformed diff: Hunk is shorter than expected$",
        ),
        (
            b"--- a/x.c\n+++ b/x.c\n@@ -1,2 +1,2 @@\n a\n?b\n+c\n",
            r"^malformed diff: Hunk diff line expected: \?b$",
        ),
    ],
)
def test_bad_input_raises_source_error(data: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        parse_diff(data)
