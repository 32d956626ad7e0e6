#include "qemu/osdep.h"
#include "migration/vmstate.h"

static const VMStateDescription vmstate_acme_sd = {
    .name = "acme-sd",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(blksize, AcmeSdState),
        VMSTATE_END_OF_LIST()
    }
};

void acme_sd_common_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->vmsd = &vmstate_acme_sd;
}
