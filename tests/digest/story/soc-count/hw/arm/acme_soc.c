#include "qemu/osdep.h"
#include "migration/vmstate.h"

typedef struct AcmeSocState {
    uint32_t ctrl;
    uint32_t count;
} AcmeSocState;

static const VMStateDescription vmstate_acme_soc = {
    .name = "acme-soc",
    .version_id = 2,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(ctrl, AcmeSocState),
        VMSTATE_UINT32_V(count, AcmeSocState, 2),
        VMSTATE_END_OF_LIST()
    }
};
