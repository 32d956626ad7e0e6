#include "qemu/osdep.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"

#define TYPE_ACME_UART "acme-uart"

typedef struct AcmeUartState {
    DeviceState parent_obj;
    uint8_t data;
    uint8_t lcr;
    uint32_t fifo_level;
    bool migrate_fifo;
} AcmeUartState;

static const VMStateDescription vmstate_acme_uart = {
    .name = TYPE_ACME_UART,
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(data, AcmeUartState),
        VMSTATE_UINT8(lcr, AcmeUartState),
        VMSTATE_UINT32(fifo_level, AcmeUartState),
        VMSTATE_END_OF_LIST()
    }
};

static const Property acme_uart_properties[] = {
    DEFINE_PROP_UINT8("lcr-reset", AcmeUartState, lcr, 0),
};
