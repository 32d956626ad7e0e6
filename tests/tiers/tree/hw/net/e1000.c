#include "qemu/osdep.h"
#include "hw/net/e1000_regs.h"
static const TypeInfo e1000_info = {
    .name = "e1000",
    .parent = TYPE_PCI_DEVICE,
};
