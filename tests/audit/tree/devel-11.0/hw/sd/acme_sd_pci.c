#include "qemu/osdep.h"
#include "hw/pci/pci_device.h"

static void acme_sd_pci_class_init(ObjectClass *klass, const void *data)
{
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->vendor_id = 0x1b36;
    acme_sd_common_class_init(klass, data);
}

static const TypeInfo acme_sd_pci_info = {
    .name = "acme-sd-pci",
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(AcmeSdState),
    .class_init = acme_sd_pci_class_init,
};

/* MIG032 across files: the ISA variant embeds the state after its parent but
 * sets the common VMSD, whose offsets are in AcmeSdState, as its own. */
static void acme_sd_isa_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->vmsd = &vmstate_acme_sd;
}

static const TypeInfo acme_sd_isa_info = {
    .name = "acme-sd-isa",
    .parent = TYPE_ISA_DEVICE,
    .instance_size = sizeof(AcmeSdIsaState),
    .class_init = acme_sd_isa_class_init,
};
