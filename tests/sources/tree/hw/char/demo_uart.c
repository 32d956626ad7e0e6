/*
 * A small UART, written for the migbot tests.
 */

#include "qemu/osdep.h"
#include "migration/vmstate.h"

static const VMStateDescription vmstate_demo_uart = {
    .name = "demo-uart",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(lcr, DemoUartState),
        VMSTATE_UINT8(ier, DemoUartState),
        VMSTATE_UINT8_ARRAY(fifo, DemoUartState, 16),
        VMSTATE_END_OF_LIST()
    }
};
