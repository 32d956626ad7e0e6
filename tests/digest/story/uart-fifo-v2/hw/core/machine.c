#include "qemu/osdep.h"
#include "hw/boards.h"

GlobalProperty hw_compat_10_2[] = {
    { "acme-uart", "x-migrate-fifo", "off" },
};
const size_t hw_compat_10_2_len = G_N_ELEMENTS(hw_compat_10_2);

GlobalProperty hw_compat_10_1[] = {
    { "virtio-net-pci", "x-old-feature", "off" },
};
const size_t hw_compat_10_1_len = G_N_ELEMENTS(hw_compat_10_1);
