#include "qemu/osdep.h"
#include "migration/vmstate.h"
#include "hw/qdev-core.h"

static bool acme_card_mode_needed(void *opaque)
{
    AcmeCardState *s = opaque;

    return s->mode != 0;
}

static const VMStateDescription vmstate_acme_card_mode = {
    .name = TYPE_ACME_CARD "/mode",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = acme_card_mode_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(mode, AcmeCardState),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_acme_card_rpmb = {
    .name = "acme-card/mode",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = acme_card_mode_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(rpmb_counter, AcmeCardState),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_acme_card_extra = {
    .name = "acmecard/extra",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = &acme_card_mode_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(extra, AcmeCardState),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_acme_card = {
    .name = TYPE_ACME_CARD,
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(status, AcmeCardState),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_acme_card_mode,
        &vmstate_acme_card_rpmb,
        &vmstate_acme_card_extra,
        NULL
    }
};

static const Property acme_card_properties[] = {
    DEFINE_PROP_BOOL("x-mode", AcmeCardState, migrate_mode, true),
};

static void acme_card_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->vmsd = &vmstate_acme_card;
    device_class_set_props(dc, acme_card_properties);
}

static const TypeInfo acme_card_info = {
    .name = TYPE_ACME_CARD,
    .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(AcmeCardState),
    .class_init = acme_card_class_init,
};
