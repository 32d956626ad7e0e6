"""A few QEMU-like files whose changes the real analyzer has findings about."""

from __future__ import annotations

FOO_C = "hw/misc/foo.c"

BASE_FOO = """#include "qemu/osdep.h"
#include "migration/vmstate.h"

static const VMStateDescription vmstate_foo = {
    .name = "foo",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(reg, FooState),
        VMSTATE_UINT32(ctrl, FooState),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_bar = {
    .name = "bar",
    .version_id = 2,
    .minimum_version_id = 2,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(mode, BarState),
        VMSTATE_UINT16(count, BarState),
        VMSTATE_UINT32(level, BarState),
        VMSTATE_END_OF_LIST()
    }
};
"""

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

BASE_TREE = {
    FOO_C: BASE_FOO,
    "hw/misc/meson.build": "system_ss.add(when: 'CONFIG_FOO', if_true: files('foo.c'))\n",
    "README.rst": "QEMU\n",
}
