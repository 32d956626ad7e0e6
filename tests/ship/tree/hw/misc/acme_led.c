#include "qemu/osdep.h"
#include "migration/vmstate.h"

static const VMStateDescription vmstate_acme_led = {
    .name = "acme-led",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(on, AcmeLedState),
        VMSTATE_END_OF_LIST()
    }
};
