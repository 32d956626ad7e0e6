#include "qemu/osdep.h"
#include "hw/pci/pci_device.h"

static void acme_internal_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    /* Created by the board only. */
    dc->user_creatable = false;
}

static const TypeInfo acme_internal_info = {
    .name = "acme-internal",
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(AcmeInternalState),
    .class_init = acme_internal_class_init,
};
