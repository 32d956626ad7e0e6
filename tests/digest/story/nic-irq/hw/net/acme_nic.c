#include "qemu/osdep.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"

typedef struct AcmeNicState {
    uint32_t ctrl;
    uint32_t status;
    uint32_t irq_mask;
} AcmeNicState;

static const VMStateDescription vmstate_acme_nic = {
    .name = "acme-nic",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(ctrl, AcmeNicState),
        VMSTATE_UINT32(status, AcmeNicState),
        VMSTATE_UINT32(irq_mask, AcmeNicState),
        VMSTATE_END_OF_LIST()
    }
};
