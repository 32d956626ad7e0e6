"""The in-memory hunk applier, on hand-written hunks."""

from __future__ import annotations

from bot.sources.apply import apply_hunks
from bot.sources.diff import PatchHunk, parse_file_patches
from bot.sources.text import split_lines

BASE = split_lines(
    "static const VMStateDescription vmstate_demo = {\n"
    '    .name = "demo",\n'
    "    .version_id = 1,\n"
    "    .minimum_version_id = 1,\n"
    "    .fields = (const VMStateField[]) {\n"
    "        VMSTATE_UINT32(ctrl, DemoState),\n"
    "        VMSTATE_UINT32(status, DemoState),\n"
    "        VMSTATE_END_OF_LIST()\n"
    "    }\n"
    "};\n"
)

ADD_FIELD = """\
--- a/hw/misc/demo.c
+++ b/hw/misc/demo.c
@@ -5,4 +5,5 @@
     .fields = (const VMStateField[]) {
         VMSTATE_UINT32(ctrl, DemoState),
         VMSTATE_UINT32(status, DemoState),
+        VMSTATE_UINT32(mask, DemoState),
         VMSTATE_END_OF_LIST()
"""

BUMP_AND_ADD = """\
--- a/hw/misc/demo.c
+++ b/hw/misc/demo.c
@@ -1,4 +1,4 @@
 static const VMStateDescription vmstate_demo = {
     .name = "demo",
-    .version_id = 1,
+    .version_id = 2,
     .minimum_version_id = 1,
@@ -6,3 +6,4 @@
         VMSTATE_UINT32(ctrl, DemoState),
         VMSTATE_UINT32(status, DemoState),
+        VMSTATE_UINT32_V(mask, DemoState, 2),
         VMSTATE_END_OF_LIST()
"""


def hunks(diff: str) -> tuple[PatchHunk, ...]:
    (fp,) = parse_file_patches(diff.encode())
    return fp.hunks


def test_applies_where_the_header_says() -> None:
    result = apply_hunks(BASE, hunks(ADD_FIELD))

    assert result.failures == ()
    assert result.offsets == (0,)
    assert result.lines[7] == "        VMSTATE_UINT32(mask, DemoState),\n"
    assert len(result.lines) == len(BASE) + 1


def test_finds_moved_context_and_carries_the_drift() -> None:
    moved = ["/* a comment */\n", "\n", *BASE]

    result = apply_hunks(moved, hunks(BUMP_AND_ADD))

    # The first hunk starts at line 1, so it must match there: it fails; the
    # second is found two lines lower.
    assert [f.number for f in result.failures] == [1]
    assert result.offsets == (2,)
    moved_body = apply_hunks(moved[2:], hunks(BUMP_AND_ADD))
    assert moved_body.failures == ()
    assert moved_body.lines[2] == "    .version_id = 2,\n"


def test_offset_search_goes_both_ways() -> None:
    shorter = BASE[1:]
    longer = ["#include <demo.h>\n", "\n", "\n", *BASE]

    for lines, offset in ((shorter, -1), (longer, 3)):
        result = apply_hunks(lines, hunks(ADD_FIELD))
        assert result.failures == ()
        assert result.offsets == (offset,)


def test_mismatched_context_is_reported_and_the_rest_applies() -> None:
    changed = [line.replace("status", "state") for line in BASE]

    result = apply_hunks(changed, hunks(BUMP_AND_ADD))

    (failure,) = result.failures
    assert failure.number == 2
    assert failure.describe() == (
        "hunk #2 (@@ -6,3 +6,4 @@) does not apply: line 7 is"
        " '        VMSTATE_UINT32(state, DemoState),', the patch expects"
        " '        VMSTATE_UINT32(status, DemoState),'"
    )
    assert result.lines[2] == "    .version_id = 2,\n"


def test_already_applied_is_recognised() -> None:
    once = apply_hunks(BASE, hunks(ADD_FIELD)).lines

    (failure,) = apply_hunks(once, hunks(ADD_FIELD)).failures

    assert "already there" in failure.reason


def test_no_newline_at_end_of_file() -> None:
    diff = (
        "--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n"
        "\\ No newline at end of file\n"
    )
    (fp,) = parse_file_patches(diff.encode())

    assert apply_hunks(["a\n", "b"], fp.hunks).lines == ["a\n", "c"]
    (failure,) = apply_hunks(["a\n", "b\n"], fp.hunks).failures
    assert "line 2 is 'b'" in failure.reason


def test_hunk_without_trailing_context_must_match_at_the_end() -> None:
    diff = "--- a/x\n+++ b/x\n@@ -2,2 +2,3 @@\n b\n c\n+d\n"

    assert apply_hunks(["a\n", "b\n", "c\n"], hunks(diff)).lines == ["a\n", "b\n", "c\n", "d\n"]
    assert apply_hunks(["a\n", "b\n", "c\n", "z\n"], hunks(diff)).failures


def test_creating_a_file() -> None:
    diff = "--- /dev/null\n+++ b/x\n@@ -0,0 +1,2 @@\n+a\n+b\n"

    assert apply_hunks([], hunks(diff)).lines == ["a\n", "b\n"]
