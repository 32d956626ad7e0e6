#include "qemu/osdep.h"
#include "hw/boards.h"

GlobalProperty hw_compat_10_1[] = {
    { "acme-card", "x-mode", "off" },
    { "acme-card", "x-moed", "off" },
};
const size_t hw_compat_10_1_len = G_N_ELEMENTS(hw_compat_10_1);

GlobalProperty hw_compat_9_0[] = {
    { "acme-gone-device", "x-mode", "off" },
    { .driver = "acme-card", .property = "x-maybe", .value = "on", .optional = true },
};
const size_t hw_compat_9_0_len = G_N_ELEMENTS(hw_compat_9_0);

/* Only pc-q35-3.1 applies this, and QEMU 11.0 no longer registers it. */
GlobalProperty hw_compat_3_1[] = {
    { "acme-ancient", "x-old", "on" },
};
const size_t hw_compat_3_1_len = G_N_ELEMENTS(hw_compat_3_1);
