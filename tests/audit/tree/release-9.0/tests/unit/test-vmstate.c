#include "migration/vmstate.h"

static const VMStateDescription vmstate_broken_on_purpose = {
    .name = "test/broken",
    .version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8_V(a, TestState, 9),
        VMSTATE_END_OF_LIST()
    }
};
