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

static bool acme_uart_irq_needed(void *opaque)
{
    AcmeUartState *s = opaque;

    return s->irq_pending;
}

static const VMStateDescription vmstate_acme_uart_fifo = {
    .name = "acme-uart/fifo",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32_ARRAY(fifo, AcmeUartState, 16),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_acme_uart_irq = {
    .name = "acme-uart/irq",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = acme_uart_irq_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(irq_pending, AcmeUartState),
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
        &vmstate_acme_uart_fifo,
        &vmstate_acme_uart_irq,
        NULL
    }
};

static void acme_uart_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->vmsd = &vmstate_acme_uart;
}

static const TypeInfo acme_uart_types[] = {
    {
        .name = TYPE_ACME_UART,
        .parent = TYPE_SYS_BUS_DEVICE,
        .instance_size = sizeof(AcmeUartState),
        .class_init = acme_uart_class_init,
    }, {
        .name = "acme-uart-16",
        .parent = TYPE_ACME_UART,
    },
};
