#include "qemu/osdep.h"
#include "migration/vmstate.h"

static const VMStateDescription vmstate_acme_list = {
    .name = "acme-list",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(head, AcmeListState),
        VMSTATE_UINT32(tail, AcmeListState),
    }
};
