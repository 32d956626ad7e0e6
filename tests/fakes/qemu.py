"""The repository the fake forges serve: the base tree with tests/fakes/tree laid over it.

The overlay adds hw/misc/foo.c, a device whose changes the real analyzer has
findings about; the tests push these versions of it.
"""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.tree import text_files

FOO_C = "hw/misc/foo.c"
OVERLAY = Path(__file__).resolve().parent / "tree"

BASE_TREE = text_files(OVERLAY)
"""Path -> text of the project's first commit."""
BASE_FOO = BASE_TREE[FOO_C]

ADD_FIELD = (
    "        VMSTATE_UINT32(ctrl, FooState),\n",
    "        VMSTATE_UINT32(ctrl, FooState),\n        VMSTATE_UINT32(extra, FooState),\n",
)
DROP_FIELD = ("        VMSTATE_UINT16(count, BarState),\n", "")

# Two findings: a field added to vmstate_foo without versioning (new line 11),
# and a field removed from vmstate_bar without VMSTATE_UNUSED (old line 21).
TWO_FINDINGS = BASE_FOO.replace(*ADD_FIELD).replace(*DROP_FIELD)
# The removal fixed (field put back): only the added field remains.
ONE_FINDING = BASE_FOO.replace(*ADD_FIELD)
# A clean change: a comment.
CLEAN = BASE_FOO.replace('#include "qemu/osdep.h"\n', '#include "qemu/osdep.h"\n/* foo device */\n')

ADDED_LINE = 11
REMOVED_LINE = 21
