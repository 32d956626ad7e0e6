#include "qemu/osdep.h"
#include "migration/vmstate.h"
#include "hw/pci/pci_device.h"

static const VMStateDescription vmstate_acme_mii = {
    .name = "acme-mii",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(phycr, AcmeMacState),
        VMSTATE_UINT32(phydata, AcmeMacState),
        VMSTATE_END_OF_LIST()
    }
};

static void acme_mii_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->vmsd = &vmstate_acme_mii;
}

static const TypeInfo acme_mii_info = {
    .name = "acme-mii",
    .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(AcmeMiiState),
    .class_init = acme_mii_class_init,
};

static const VMStateDescription vmstate_acme_bridge = {
    .name = "acme-bridge",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, PCIDevice),
        VMSTATE_UINT32(secondary_bus, AcmeBridgeState),
        VMSTATE_TIMER(timer, AcmeBridgeState),
        VMSTATE_VALIDATE("bus in range", acme_bridge_bus_valid),
        VMSTATE_END_OF_LIST()
    }
};

static void acme_bridge_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->vmsd = &vmstate_acme_bridge;
}

static const TypeInfo acme_bridge_info = {
    .name = "acme-bridge",
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(AcmeBridgeState),
    .class_init = acme_bridge_class_init,
};

static const TypeInfo acme_bridge_x2_info = {
    .name = "acme-bridge-x2",
    .parent = "acme-bridge",
};
