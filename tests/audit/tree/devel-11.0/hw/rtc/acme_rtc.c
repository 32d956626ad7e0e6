#include "qemu/osdep.h"
#include "migration/vmstate.h"

static const VMStateDescription vmstate_acme_rtc = {
    .name = "acme-rtc",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(seconds, AcmeRtcState),
        VMSTATE_UINT8_V(century, AcmeRtcState, 1),
        VMSTATE_UINT8_V(wday_offset, AcmeRtcState, 2),
        VMSTATE_END_OF_LIST()
    }
};
