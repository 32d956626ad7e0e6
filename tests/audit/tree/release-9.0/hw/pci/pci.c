#include "qemu/osdep.h"
#include "migration/vmstate.h"
#include "hw/pci/pci_device.h"

const VMStateDescription vmstate_pci_device = {
    .name = "PCIDevice",
    .version_id = 2,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32_ARRAY(config, PCIDevice, 64),
        VMSTATE_END_OF_LIST()
    }
};

static const TypeInfo pci_device_type_info = {
    .name = TYPE_PCI_DEVICE,
    .parent = TYPE_DEVICE,
    .instance_size = sizeof(PCIDevice),
    .abstract = true,
};
