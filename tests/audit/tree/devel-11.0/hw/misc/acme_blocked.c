#include "qemu/osdep.h"
#include "hw/pci/pci_device.h"
#include "migration/blocker.h"

static void acme_blocked_realize(PCIDevice *pdev, Error **errp)
{
    AcmeBlockedState *s = ACME_BLOCKED(pdev);

    error_setg(&s->blocker, "acme-blocked cannot be migrated");
    migrate_add_blocker(&s->blocker, errp);
}

static void acme_blocked_class_init(ObjectClass *klass, const void *data)
{
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = acme_blocked_realize;
}

static const TypeInfo acme_blocked_info = {
    .name = "acme-blocked",
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(AcmeBlockedState),
    .class_init = acme_blocked_class_init,
};
