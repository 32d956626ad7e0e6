#include "qemu/osdep.h"
#include "hw/pci/pci_device.h"
#include "hw/qdev-core.h"

static void acme_pci_class_init(ObjectClass *klass, const void *data)
{
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->vendor_id = 0x1234;
}

static const TypeInfo acme_pci_info = {
    .name = "acme-pci",
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(AcmePciState),
    .class_init = acme_pci_class_init,
};

static void acme_testdev_class_init(ObjectClass *klass, const void *data)
{
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->vendor_id = 0x1234;
}

static const TypeInfo acme_testdev_info = {
    .name = "acme-testdev",
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(AcmeTestState),
    .class_init = acme_testdev_class_init,
};

static void acme_isa_quiet_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->desc = "a port that keeps nothing";
}

static const TypeInfo acme_isa_quiet_info = {
    .name = "acme-isa-quiet",
    .parent = TYPE_ISA_DEVICE,
    .instance_size = sizeof(AcmeIsaQuietState),
    .class_init = acme_isa_quiet_class_init,
};

static void acme_isa_regs_reset(DeviceState *dev)
{
    AcmeIsaRegsState *s = ACME_ISA_REGS(dev);

    s->index = 0;
}

static void acme_isa_regs_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    device_class_set_legacy_reset(dc, acme_isa_regs_reset);
}

static const TypeInfo acme_isa_regs_info = {
    .name = "acme-isa-regs",
    .parent = TYPE_ISA_DEVICE,
    .instance_size = sizeof(AcmeIsaRegsState),
    .class_init = acme_isa_regs_class_init,
};
