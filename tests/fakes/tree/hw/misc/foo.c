#include "qemu/osdep.h"
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
