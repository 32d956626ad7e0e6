/*
 * ACME widget: the device the compare unit tests edit one line at a time.
 *
 * Written for the migbot tests in QEMU's style.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/core/qdev-properties.h"
#include "migration/vmstate.h"

#define TYPE_ACME_WIDGET "acme-widget"

static bool acme_widget_fifo_needed(void *opaque)
{
    AcmeWidgetState *s = opaque;

    return s->migrate_fifo;
}

static const VMStateDescription vmstate_acme_widget_fifo = {
    .name = "acme-widget/fifo",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = acme_widget_fifo_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8_ARRAY(fifo, AcmeWidgetState, 16),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_acme_widget = {
    .name = TYPE_ACME_WIDGET,
    .version_id = 2,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(ctrl, AcmeWidgetState),
        VMSTATE_UINT32(status, AcmeWidgetState),
        VMSTATE_UINT16(count, AcmeWidgetState),
        VMSTATE_UINT32_V(level, AcmeWidgetState, 2),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_acme_widget_fifo,
        NULL
    }
};

static const Property acme_widget_properties[] = {
    DEFINE_PROP_BOOL("x-migrate-fifo", AcmeWidgetState, migrate_fifo, true),
    DEFINE_PROP_UINT32("depth", AcmeWidgetState, depth, 16),
};

static void acme_widget_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->vmsd = &vmstate_acme_widget;
    device_class_set_props(dc, acme_widget_properties);
}

static const TypeInfo acme_widget_info = {
    .name = TYPE_ACME_WIDGET,
    .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(AcmeWidgetState),
    .class_init = acme_widget_class_init,
};

static void acme_widget_register_types(void)
{
    type_register_static(&acme_widget_info);
}

type_init(acme_widget_register_types)
