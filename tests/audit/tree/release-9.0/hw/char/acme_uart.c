#include "qemu/osdep.h"
#include "migration/vmstate.h"
#include "hw/qdev-core.h"

static const VMStateDescription vmstate_acme_uart_old = {
    .name = "acme-uart/old",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(scratch, AcmeUartState),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_acme_uart = {
    .name = TYPE_ACME_UART,
    .version_id = 2,
    .minimum_version_id = 2,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(lcr, AcmeUartState),
        VMSTATE_UINT8(lsr, AcmeUartState),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_acme_uart_old,
        NULL
    }
};
