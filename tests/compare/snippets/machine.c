/*
 * Compat property arrays, for the compare unit tests.
 *
 * Written for the migbot tests in QEMU's style.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/core/boards.h"

GlobalProperty hw_compat_10_2[] = {
    { "acme-widget", "x-migrate-fifo", "off" },
};
const size_t hw_compat_10_2_len = G_N_ELEMENTS(hw_compat_10_2);

GlobalProperty hw_compat_10_1[] = {
    { "acme-nic", "mrg-rxbuf", "off" },
};
const size_t hw_compat_10_1_len = G_N_ELEMENTS(hw_compat_10_1);
