/*
 * ACME fan controller
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/sysbus.h"
#include "migration/vmstate.h"

typedef struct AcmeFanState {
    SysBusDevice parent_obj;
    uint32_t duty;
    uint32_t rpm;
    uint8_t mode;
} AcmeFanState;

static const VMStateDescription vmstate_acme_fan = {
    .name = "acme-fan",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(duty, AcmeFanState),
        VMSTATE_UINT32(rpm, AcmeFanState),
        VMSTATE_END_OF_LIST()
    }
};
