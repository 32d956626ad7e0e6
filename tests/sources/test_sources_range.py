"""change_from_range against real repositories, bare and not."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.change import Change, FileChange, FileStatus
from bot.sources import GitRepo, SourceError, change_from_range

from .gitwork import COMPAT_C, TIMER_C, UART_C, GitWork, assert_hunks_match_texts


def by_path(change: Change) -> dict[str, FileChange]:
    return {fc.path: fc for fc in change.files}


def test_single_commit_is_parent_to_commit(work: GitWork) -> None:
    work.write("hw/timer/demo_timer.c", TIMER_C)
    base = work.commit("hw/timer: add demo timer")
    work.write(
        "hw/timer/demo_timer.c",
        TIMER_C.replace(
            "        VMSTATE_UINT32(reload, DemoTimerState),\n",
            "        VMSTATE_UINT32(reload, DemoTimerState),\n"
            "        VMSTATE_UINT32(prescale, DemoTimerState),\n",
        ),
    )
    head = work.commit("hw/timer/demo: migrate the prescaler\n\nLonger body.")

    change = change_from_range(work.path, head)

    assert (change.base, change.head) == (base, head)
    assert change.title == "hw/timer/demo: migrate the prescaler"
    (fc,) = change.files
    assert fc.status is FileStatus.MODIFIED
    assert fc.old_path == fc.new_path == "hw/timer/demo_timer.c"
    assert fc.old_text == work.blob(base, fc.path).decode()
    assert fc.new_text == work.blob(head, fc.path).decode()
    assert fc.texts_known
    assert not fc.binary
    assert fc.changed_new_lines() == {34}
    assert fc.hunks[0].section == "static const VMStateDescription vmstate_demo_timer = {"
    assert_hunks_match_texts(fc)


def test_range_of_several_commits(work: GitWork) -> None:
    work.write("hw/timer/demo_timer.c", TIMER_C)
    base = work.commit("one")
    work.write("hw/char/demo_uart.c", UART_C)
    work.commit("two")
    work.write("hw/core/machine.c", COMPAT_C)
    head = work.commit("three")

    change = change_from_range(work.path, f"{base}..{head}")

    assert change.title == f"{base}..{head}"
    assert sorted(by_path(change)) == ["hw/char/demo_uart.c", "hw/core/machine.c"]
    assert all(fc.status is FileStatus.ADDED and fc.old_text is None for fc in change.files)
    assert by_path(change)["hw/core/machine.c"].new_text == COMPAT_C
    one = change_from_range(work.path, "HEAD~1..HEAD")
    assert one.title == "three"
    assert [fc.path for fc in one.files] == ["hw/core/machine.c"]


def test_three_dot_range_starts_at_the_merge_base(work: GitWork) -> None:
    work.write("hw/timer/demo_timer.c", TIMER_C)
    fork = work.commit("base")
    work.git("checkout", "-q", "-b", "topic")
    work.write("hw/char/demo_uart.c", UART_C)
    work.commit("topic work")
    work.git("checkout", "-q", "master")
    work.write("hw/core/machine.c", COMPAT_C)
    work.commit("master work")

    change = change_from_range(work.path, "master...topic")

    assert change.base == fork
    assert [fc.path for fc in change.files] == ["hw/char/demo_uart.c"]


def test_root_commit_is_compared_with_the_empty_tree(work: GitWork) -> None:
    work.write("hw/timer/demo_timer.c", TIMER_C)
    root = work.commit("initial")

    change = change_from_range(work.path, root)

    assert change.base is None
    assert change.head == root
    (fc,) = change.files
    assert fc.status is FileStatus.ADDED
    assert fc.old_path is None
    assert fc.new_text == TIMER_C
    assert fc.old_text is None
    assert fc.hunks[0].old_start == 0
    assert fc.hunks[0].new_length == TIMER_C.count("\n")
    assert_hunks_match_texts(fc)
    assert change.base_tree is not None
    assert change.head_tree is not None
    assert change.base_tree.tree_id == "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
    assert change.base_tree.read("hw/timer/demo_timer.c") is None
    assert change.base_tree.grep is not None
    assert change.base_tree.grep("VMSTATE", "") == []
    assert change.head_tree.read("hw/timer/demo_timer.c") == TIMER_C


def test_rename_with_modification(work: GitWork) -> None:
    work.write("hw/timer/demo_timer.c", TIMER_C)
    base = work.commit("add")
    work.git("mv", "hw/timer/demo_timer.c", "hw/timer/demo-timer.c")
    work.write("hw/timer/demo-timer.c", TIMER_C.replace(".version_id = 2,", ".version_id = 3,"))
    head = work.commit("rename and bump")

    change = change_from_range(work.path, head)

    (fc,) = change.files
    assert fc.status is FileStatus.RENAMED
    assert (fc.old_path, fc.new_path) == ("hw/timer/demo_timer.c", "hw/timer/demo-timer.c")
    assert fc.old_text == TIMER_C
    assert fc.new_text == work.blob(head, "hw/timer/demo-timer.c").decode()
    assert [ln.text for h in fc.hunks for ln in h.lines if ln.kind == "+"] == [
        "    .version_id = 3,"
    ]
    assert_hunks_match_texts(fc)
    assert change.base_tree is not None
    assert change.head_tree is not None
    assert change.head_tree.read("hw/timer/demo_timer.c") is None
    assert change.base_tree.read("hw/timer/demo-timer.c") is None
    assert (
        change.base_tree.read("hw/timer/demo_timer.c")
        == work.blob(base, "hw/timer/demo_timer.c").decode()
    )


def test_added_and_deleted_files(work: GitWork) -> None:
    work.write("hw/timer/demo_timer.c", TIMER_C)
    work.commit("add timer")
    work.remove("hw/timer/demo_timer.c")
    work.write("hw/char/demo_uart.c", UART_C)
    head = work.commit("swap devices")

    files = by_path(change_from_range(work.path, head))

    gone, new = files["hw/timer/demo_timer.c"], files["hw/char/demo_uart.c"]
    assert gone.status is FileStatus.DELETED
    assert (gone.old_path, gone.new_path) == ("hw/timer/demo_timer.c", None)
    assert gone.old_text == TIMER_C
    assert gone.new_text is None
    assert gone.changed_old_lines() == set(range(1, TIMER_C.count("\n") + 1))
    assert new.status is FileStatus.ADDED
    assert (new.old_path, new.new_path) == (None, "hw/char/demo_uart.c")
    assert new.new_text == UART_C
    assert_hunks_match_texts(gone)
    assert_hunks_match_texts(new)


def test_type_change_to_symlink(work: GitWork) -> None:
    work.write("include/hw/demo.h", "#define DEMO 1\n")
    work.commit("header")
    (work.path / "include/hw/demo.h").unlink()
    (work.path / "include/hw/demo.h").symlink_to("demo-real.h")
    head = work.commit("symlink")

    (fc,) = change_from_range(work.path, head).files

    assert fc.status is FileStatus.MODIFIED
    assert fc.old_text == "#define DEMO 1\n"
    assert fc.new_text == "demo-real.h"
    assert_hunks_match_texts(fc)


def test_binary_file_has_no_texts(work: GitWork) -> None:
    work.write("pc-bios/demo.rom", b"\x7fROM\x00\x01\x02" * 10)
    work.commit("add rom")
    work.write("pc-bios/demo.rom", b"\x7fROM\x00\x01\x03" * 10)
    work.write("hw/char/demo_uart.c", UART_C)
    head = work.commit("update rom")

    files = by_path(change_from_range(work.path, head))

    rom = files["pc-bios/demo.rom"]
    assert rom.binary
    assert rom.status is FileStatus.MODIFIED
    assert rom.old_text is None
    assert rom.new_text is None
    assert rom.hunks == ()
    assert files["hw/char/demo_uart.c"].new_text == UART_C


def test_non_utf8_content_keeps_line_numbers(work: GitWork) -> None:
    latin1 = "/* Copyright (c) 2026 Fran\xe7ois */\n".encode("latin-1")
    work.write("hw/char/demo_uart.c", latin1 + UART_C.encode())
    work.commit("add")
    work.write(
        "hw/char/demo_uart.c",
        latin1 + UART_C.replace("ier", "iir").encode() + b"/* \xff\xfe */\n",
    )
    head = work.commit("edit")

    (fc,) = change_from_range(work.path, head).files

    assert fc.new_text is not None
    assert fc.old_text is not None
    assert fc.new_text.startswith("/* Copyright (c) 2026 Fran\ufffdois */\n")
    assert fc.new_text.count("\n") == UART_C.count("\n") + 2
    assert fc.new_text.endswith("/* \ufffd\ufffd */\n")
    assert_hunks_match_texts(fc)


def test_no_newline_at_end_of_file(work: GitWork) -> None:
    work.write("hw/core/machine.c", COMPAT_C.rstrip("\n"))
    work.commit("no final newline")
    work.write("hw/core/machine.c", COMPAT_C.rstrip("\n") + "\n/* end */")
    head = work.commit("still none")

    (fc,) = change_from_range(work.path, head).files

    assert fc.old_text == COMPAT_C.rstrip("\n")
    assert fc.new_text == COMPAT_C + "/* end */"
    (hunk,) = fc.hunks
    assert [(ln.kind, ln.text) for ln in hunk.lines if ln.kind != " "] == [
        ("-", "const size_t hw_compat_10_1_len = G_N_ELEMENTS(hw_compat_10_1);"),
        ("+", "const size_t hw_compat_10_1_len = G_N_ELEMENTS(hw_compat_10_1);"),
        ("+", "/* end */"),
    ]
    assert_hunks_match_texts(fc)


def test_crlf_content_is_kept(work: GitWork) -> None:
    work.write("docs/demo.txt", b"one\r\ntwo\r\n")
    work.commit("crlf")
    work.write("docs/demo.txt", b"one\r\n2\r\n")
    head = work.commit("crlf edit")

    (fc,) = change_from_range(work.path, head).files

    assert fc.new_text == "one\r\n2\r\n"
    assert [ln.text for ln in fc.hunks[0].lines] == ["one\r", "two\r", "2\r"]


def test_only_newline_ends_a_line(work: GitWork) -> None:
    # Form feeds are common in old C files; a lone CR, VT or U+2028 also must
    # not split a line, or every line number after them would be off.
    odd = "/* page */\x0c\nint a;\rint b;\x0bint c;\u2028\nint d;\n"
    work.write("hw/misc/odd.c", odd)
    work.commit("odd")
    work.write("hw/misc/odd.c", odd + "int e;\n")
    head = work.commit("one more")

    (fc,) = change_from_range(work.path, head).files

    assert fc.changed_new_lines() == {4}
    assert_hunks_match_texts(fc)


def test_unusual_paths(work: GitWork) -> None:
    work.write("docs/caf\u00e9 notes.txt", "a\n")
    work.write('docs/quote"d.txt', "b\n")
    work.commit("odd names")
    work.write("docs/caf\u00e9 notes.txt", "a\nb\n")
    work.write('docs/quote"d.txt', "c\n")
    head = work.commit("edit odd names")

    files = by_path(change_from_range(work.path, head))

    assert files["docs/caf\u00e9 notes.txt"].new_text == "a\nb\n"
    assert files['docs/quote"d.txt'].changed_new_lines() == {1}


def test_bare_mirror_gives_the_same_change(work: GitWork, tmp_path: Path) -> None:
    work.write("hw/timer/demo_timer.c", TIMER_C)
    work.write("hw/core/machine.c", COMPAT_C)
    work.commit("add")
    work.write("hw/timer/demo_timer.c", TIMER_C.replace("irq_level", "irq_state"))
    head = work.commit("rename field")
    bare = work.clone_bare(tmp_path / "mirror.git")

    from_work = change_from_range(work.path, head)
    from_bare = change_from_range(bare, head)

    assert from_bare.files == from_work.files
    assert from_bare.head_tree is not None
    assert from_bare.head_tree.grep is not None
    assert from_bare.head_tree.read("hw/core/machine.c") == COMPAT_C
    assert from_bare.head_tree.read("hw/core") is None
    assert from_bare.head_tree.read("no/such/file.c") is None
    assert from_bare.head_tree.grep("irq_state", "hw/*.c") == ["hw/timer/demo_timer.c"]
    assert from_bare.head_tree.grep("hw_compat_10_2", "") == ["hw/core/machine.c"]
    assert from_bare.head_tree.grep("no such text", "*.c") == []
    assert from_bare.base_tree is not None
    assert from_bare.base_tree.grep is not None
    assert from_bare.base_tree.grep("irq_state", "*.c") == []


def test_blobs_are_read_once(work: GitWork) -> None:
    work.write("hw/core/machine.c", COMPAT_C)
    head = work.commit("add")
    with GitRepo(work.path) as repo:
        change = change_from_range(repo, head)
        assert change.head_tree is not None
        first = change.head_tree.read("hw/core/machine.c")
        again = change_from_range(repo, head).files[0].new_text
        assert first is again is change.files[0].new_text


def test_unknown_revision(work: GitWork) -> None:
    work.write("a.c", "int a;\n")
    work.commit("a")
    with pytest.raises(SourceError, match=r"^unknown revision: 'nope'$"):
        change_from_range(work.path, "nope")
    with pytest.raises(SourceError, match="unknown revision"):
        change_from_range(work.path, "HEAD..nope")
    with pytest.raises(SourceError, match="unknown revision"):
        change_from_range(work.path, "--output=/tmp/x")


def test_not_a_git_repository(work: GitWork, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(SourceError, match=r"^not a git repository: "):
        change_from_range(plain, "HEAD")
    # A directory inside a work tree is not taken for the repository around it.
    (work.path / "sub").mkdir()
    with pytest.raises(SourceError, match=r"^not a git repository: "):
        change_from_range(work.path / "sub", "HEAD")
    with pytest.raises(SourceError, match="no such directory"):
        change_from_range(tmp_path / "missing", "HEAD")


def test_a_merge_carries_the_messages_of_the_commits_it_brings(work: GitWork) -> None:
    # A pull request merged into master: the Fixes: trailer of a fix in the
    # pull is part of the merge's change, as it would be for the range.
    work.write("hw/timer/demo_timer.c", TIMER_C)
    work.commit("hw/timer: add demo timer")
    work.git("checkout", "-q", "-b", "pull")
    work.write("hw/core/machine.c", COMPAT_C)
    work.commit('hw/core: keep the old timer for 1.0\n\nFixes: 0123456789ab ("timer")')
    work.git("checkout", "-q", "master")
    work.write("hw/char/demo_uart.c", UART_C)
    work.commit("hw/char: add demo uart")
    work.git("merge", "-q", "--no-ff", "-m", "Merge tag 'pull-timer' into staging", "pull")
    merge = work.rev("HEAD")

    change = change_from_range(work.path, merge)

    assert change.messages[0] == "Merge tag 'pull-timer' into staging"
    assert any("Fixes: 0123456789ab" in m for m in change.messages)
    assert "hw/char: add demo uart" not in change.messages  # master's side, already in
