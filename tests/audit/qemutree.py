"""A small tree written in QEMU's style for the audit tests, and its git history.

Every device below carries one problem the audit must find (or one it must
not report), in the files and with the macros a real tree would use. The C
is written for these tests; the macro header is a reduced vmstate.h that
expands to the same kind of ``VMStateField`` initializers.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

from tests.gitenv import git_env

VMSTATE_H = """\
#ifndef MIGRATION_VMSTATE_H
#define MIGRATION_VMSTATE_H

#define VMSTATE_SINGLE_TEST(_field, _state, _test, _version, _info, _type) { \\
    .name         = (stringify(_field)),                                  \\
    .version_id   = (_version),                                          \\
    .field_exists = (_test),                                             \\
    .size         = sizeof(_type),                                       \\
    .info         = &(_info),                                            \\
    .flags        = VMS_SINGLE,                                          \\
    .offset       = offsetof(_state, _field),                            \\
}

#define VMSTATE_SINGLE(_field, _state, _version, _info, _type) \\
    VMSTATE_SINGLE_TEST(_field, _state, NULL, _version, _info, _type)

#define VMSTATE_ARRAY(_field, _state, _num, _version, _info, _type) { \\
    .name       = (stringify(_field)),                               \\
    .version_id = (_version),                                        \\
    .num        = (_num),                                            \\
    .info       = &(_info),                                          \\
    .size       = sizeof(_type),                                     \\
    .flags      = VMS_ARRAY,                                         \\
    .offset     = offsetof(_state, _field),                          \\
}

#define VMSTATE_STRUCT(_field, _state, _version, _vmsd, _type) {    \\
    .name       = (stringify(_field)),                               \\
    .version_id = (_version),                                        \\
    .vmsd       = &(_vmsd),                                          \\
    .size       = sizeof(_type),                                     \\
    .flags      = VMS_STRUCT,                                        \\
    .offset     = offsetof(_state, _field),                          \\
}

#define VMSTATE_UNUSED(_size) {                                      \\
    .name  = "unused",                                               \\
    .size  = (_size),                                                \\
    .info  = &vmstate_info_unused_buffer,                            \\
    .flags = VMS_BUFFER,                                             \\
}

#define VMSTATE_VALIDATE(_name, _test) {                             \\
    .name         = (_name),                                         \\
    .field_exists = (_test),                                         \\
    .flags        = VMS_ARRAY | VMS_MUST_EXIST,                      \\
    .num          = 0,                                               \\
}

#define VMSTATE_END_OF_LIST() { .flags = VMS_END, }

#define VMSTATE_UINT8_V(_f, _s, _v)  VMSTATE_SINGLE(_f, _s, _v, vmstate_info_uint8, uint8_t)
#define VMSTATE_UINT16_V(_f, _s, _v) VMSTATE_SINGLE(_f, _s, _v, vmstate_info_uint16, uint16_t)
#define VMSTATE_UINT32_V(_f, _s, _v) VMSTATE_SINGLE(_f, _s, _v, vmstate_info_uint32, uint32_t)
#define VMSTATE_BOOL_V(_f, _s, _v)   VMSTATE_SINGLE(_f, _s, _v, vmstate_info_bool, bool)
#define VMSTATE_UINT8(_f, _s)   VMSTATE_UINT8_V(_f, _s, 0)
#define VMSTATE_UINT16(_f, _s)  VMSTATE_UINT16_V(_f, _s, 0)
#define VMSTATE_UINT32(_f, _s)  VMSTATE_UINT32_V(_f, _s, 0)
#define VMSTATE_BOOL(_f, _s)    VMSTATE_BOOL_V(_f, _s, 0)
#define VMSTATE_UINT32_TEST(_f, _s, _t) \\
    VMSTATE_SINGLE_TEST(_f, _s, _t, 0, vmstate_info_uint32, uint32_t)
#define VMSTATE_UINT32_ARRAY(_f, _s, _n) \\
    VMSTATE_ARRAY(_f, _s, _n, 0, vmstate_info_uint32, uint32_t)
#define VMSTATE_TIMER(_f, _s) VMSTATE_SINGLE(_f, _s, 0, vmstate_info_timer, QEMUTimer)

#endif
"""

PCI_H = """\
#ifndef HW_PCI_DEVICE_H
#define HW_PCI_DEVICE_H

#define TYPE_PCI_DEVICE "pci-device"

extern const VMStateDescription vmstate_pci_device;

#define VMSTATE_PCI_DEVICE(_field, _state) \\
    VMSTATE_STRUCT(_field, _state, 0, vmstate_pci_device, PCIDevice)

#endif
"""

QDEV_H = """\
#ifndef HW_QDEV_CORE_H
#define HW_QDEV_CORE_H

#define TYPE_DEVICE "device"
#define TYPE_SYS_BUS_DEVICE "sys-bus-device"
#define TYPE_ISA_DEVICE ("isa-device")
#define TYPE_ACME_UART "acme-uart"
#define TYPE_ACME_CARD "acme" "-card"

#endif
"""

WIDGET_TIMER_H = """\
#ifndef HW_WIDGET_TIMER_H
#define HW_WIDGET_TIMER_H

extern const VMStateDescription vmstate_widget_timer;

/* The timer state is at version 1 of its users. */
#define VMSTATE_WIDGET_TIMER(_f, _s) \\
    VMSTATE_STRUCT(_f, _s, 1, vmstate_widget_timer, WidgetTimer)

#endif
"""

QDEV_C = """\
#include "qemu/osdep.h"
#include "hw/qdev-core.h"

static void device_class_init(ObjectClass *oc, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    dc->realize = device_realize;
    dc->user_creatable = true;
}

static const TypeInfo device_type_info = {
    .name = TYPE_DEVICE,
    .parent = TYPE_OBJECT,
    .instance_size = sizeof(DeviceState),
    .class_init = device_class_init,
    .abstract = true,
};

static const TypeInfo sysbus_type_info = {
    .name = TYPE_SYS_BUS_DEVICE,
    .parent = TYPE_DEVICE,
    .instance_size = sizeof(SysBusDevice),
    .abstract = true,
};

static const TypeInfo isa_type_info = {
    .name = TYPE_ISA_DEVICE,
    .parent = TYPE_DEVICE,
    .instance_size = sizeof(ISADevice),
    .abstract = true,
};
"""

PCI_C = """\
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
"""

# MIG006 directly: a _V field above the VMSD version.
ACME_RTC_C = """\
#include "qemu/osdep.h"
#include "migration/vmstate.h"

static const VMStateDescription vmstate_acme_rtc = {
    .name = "acme-rtc",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(seconds, AcmeRtcState),
        VMSTATE_UINT8_V(century, AcmeRtcState, 1),
        VMSTATE_UINT8_V(wday_offset, AcmeRtcState, 2),
        VMSTATE_END_OF_LIST()
    }
};
"""

# MIG006 through a wrapper macro that fixes the version (VMSD at version 0).
WIDGET_C = """\
#include "qemu/osdep.h"
#include "migration/vmstate.h"
#include "hw/widget-timer.h"

static const VMStateDescription vmstate_widget = {
    .name = "widget",
    .fields = (const VMStateField[]) {
        VMSTATE_WIDGET_TIMER(timer, WidgetState),
        VMSTATE_UINT16(ctrl, WidgetState),
        VMSTATE_END_OF_LIST()
    }
};
"""

# MIG013 and MIG014: a subsection named after another device, and two siblings
# sharing a name. The property x-mode is what a compat entry below pins.
ACME_CARD_C = """\
#include "qemu/osdep.h"
#include "migration/vmstate.h"
#include "hw/qdev-core.h"

static bool acme_card_mode_needed(void *opaque)
{
    AcmeCardState *s = opaque;

    return s->mode != 0;
}

static const VMStateDescription vmstate_acme_card_mode = {
    .name = TYPE_ACME_CARD "/mode",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = acme_card_mode_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(mode, AcmeCardState),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_acme_card_rpmb = {
    .name = "acme-card/mode",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = acme_card_mode_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(rpmb_counter, AcmeCardState),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_acme_card_extra = {
    .name = "acmecard/extra",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = &acme_card_mode_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(extra, AcmeCardState),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_acme_card = {
    .name = TYPE_ACME_CARD,
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(status, AcmeCardState),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_acme_card_mode,
        &vmstate_acme_card_rpmb,
        &vmstate_acme_card_extra,
        NULL
    }
};

static const Property acme_card_properties[] = {
    DEFINE_PROP_BOOL("x-mode", AcmeCardState, migrate_mode, true),
};

static void acme_card_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->vmsd = &vmstate_acme_card;
    device_class_set_props(dc, acme_card_properties);
}

static const TypeInfo acme_card_info = {
    .name = TYPE_ACME_CARD,
    .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(AcmeCardState),
    .class_init = acme_card_class_init,
};
"""

# MIG026: the field list runs past its end.
ACME_LIST_C = """\
#include "qemu/osdep.h"
#include "migration/vmstate.h"

static const VMStateDescription vmstate_acme_list = {
    .name = "acme-list",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(head, AcmeListState),
        VMSTATE_UINT32(tail, AcmeListState),
    }
};
"""

# MIG032: the MII's VMSD takes offsets in the MAC's struct. The bridge next to
# it names its QOM parent's struct, which is fine (the parent is the first member).
ACME_MII_C = """\
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
"""

# MIG011 history: acme-uart/old exists at the baseline release, acme-uart/fifo
# came later without .needed, acme-uart/irq later with one.
ACME_UART_OLD_C = """\
#include "qemu/osdep.h"
#include "migration/vmstate.h"
#include "hw/qdev-core.h"

static const VMStateDescription vmstate_acme_uart_old = {
    .name = "acme-uart/old",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(scratch, AcmeUartState),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_acme_uart = {
    .name = TYPE_ACME_UART,
    .version_id = 2,
    .minimum_version_id = 2,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(lcr, AcmeUartState),
        VMSTATE_UINT8(lsr, AcmeUartState),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_acme_uart_old,
        NULL
    }
};
"""

ACME_UART_C = (
    ACME_UART_OLD_C.replace(
        "static const VMStateDescription vmstate_acme_uart = {",
        """static bool acme_uart_irq_needed(void *opaque)
{
    AcmeUartState *s = opaque;

    return s->irq_pending;
}

static const VMStateDescription vmstate_acme_uart_fifo = {
    .name = "acme-uart/fifo",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32_ARRAY(fifo, AcmeUartState, 16),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_acme_uart_irq = {
    .name = "acme-uart/irq",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = acme_uart_irq_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(irq_pending, AcmeUartState),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_acme_uart = {""",
    ).replace(
        "        &vmstate_acme_uart_old,\n",
        "        &vmstate_acme_uart_old,\n        &vmstate_acme_uart_fifo,\n"
        "        &vmstate_acme_uart_irq,\n",
    )
    + """
static void acme_uart_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->vmsd = &vmstate_acme_uart;
}

static const TypeInfo acme_uart_types[] = {
    {
        .name = TYPE_ACME_UART,
        .parent = TYPE_SYS_BUS_DEVICE,
        .instance_size = sizeof(AcmeUartState),
        .class_init = acme_uart_class_init,
    }, {
        .name = "acme-uart-16",
        .parent = TYPE_ACME_UART,
    },
};
"""
)

# MIG034 and its exceptions: devices a user can plug that migrate nothing.
ACME_PLUG_C = """\
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
"""

# The class of a PCI variant gets its VMSD from a helper in the common file.
ACME_SD_C = """\
#include "qemu/osdep.h"
#include "migration/vmstate.h"

static const VMStateDescription vmstate_acme_sd = {
    .name = "acme-sd",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(blksize, AcmeSdState),
        VMSTATE_END_OF_LIST()
    }
};

void acme_sd_common_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->vmsd = &vmstate_acme_sd;
}
"""

ACME_SD_PCI_C = """\
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
"""

ACME_INTERNAL_C = """\
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
"""

ACME_BLOCKED_C = """\
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
"""

# MIG033: one entry right, one with a property nobody defines, one naming a
# type that does not exist, one optional entry that may match nothing.
MACHINE_C = """\
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
"""

PC_Q35_C = """\
#include "qemu/osdep.h"
#include "hw/boards.h"

static void pc_q35_machine_11_0_options(MachineClass *m)
{
    pc_q35_machine_options(m);
}

DEFINE_Q35_MACHINE_AS_LATEST(11, 0);

static void pc_q35_machine_10_1_options(MachineClass *m)
{
    pc_q35_machine_11_0_options(m);
    compat_props_add(m->compat_props, hw_compat_10_1, hw_compat_10_1_len);
}

DEFINE_Q35_MACHINE(10, 1);

static void pc_q35_machine_9_0_options(MachineClass *m)
{
    pc_q35_machine_10_1_options(m);
    compat_props_add(m->compat_props, hw_compat_9_0, hw_compat_9_0_len);
}

DEFINE_Q35_MACHINE(9, 0);

static void pc_q35_machine_3_1_options(MachineClass *m)
{
    pc_q35_machine_9_0_options(m);
}

DEFINE_Q35_MACHINE(3, 1);
"""

# Not migration state at all: never scanned (no candidate word), or excluded.
README = "A tree in QEMU's style for the migbot audit tests.\n"
TEST_VMSTATE_C = """\
#include "migration/vmstate.h"

static const VMStateDescription vmstate_broken_on_purpose = {
    .name = "test/broken",
    .version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8_V(a, TestState, 9),
        VMSTATE_END_OF_LIST()
    }
};
"""

BASE_FILES: Mapping[str, str] = {
    "VERSION": "9.0.0\n",
    "README.rst": README,
    "include/migration/vmstate.h": VMSTATE_H,
    "include/hw/pci/pci_device.h": PCI_H,
    "include/hw/qdev-core.h": QDEV_H,
    "include/hw/widget-timer.h": WIDGET_TIMER_H,
    "hw/core/qdev.c": QDEV_C,
    "hw/pci/pci.c": PCI_C,
    "hw/char/acme_uart.c": ACME_UART_OLD_C,
    "tests/unit/test-vmstate.c": TEST_VMSTATE_C,
}

HEAD_FILES: Mapping[str, str | None] = {
    "VERSION": "10.2.50\n",
    "hw/char/acme_uart.c": ACME_UART_C,
    "hw/rtc/acme_rtc.c": ACME_RTC_C,
    "hw/timer/widget.c": WIDGET_C,
    "hw/misc/acme_card.c": ACME_CARD_C,
    "hw/misc/acme_list.c": ACME_LIST_C,
    "hw/net/acme_mii.c": ACME_MII_C,
    "hw/misc/acme_plug.c": ACME_PLUG_C,
    "hw/misc/acme_internal.c": ACME_INTERNAL_C,
    "hw/misc/acme_blocked.c": ACME_BLOCKED_C,
    "hw/sd/acme_sd.c": ACME_SD_C,
    "hw/sd/acme_sd_pci.c": ACME_SD_PCI_C,
    "hw/core/machine.c": MACHINE_C,
    "hw/i386/pc_q35.c": PC_Q35_C,
}


class Repo:
    """A non-bare repository: write files, commit them, read git's answers."""

    def __init__(self, path: Path, home: Path) -> None:
        self.path = path
        home.mkdir(parents=True, exist_ok=True)
        (home / "gitconfig").write_text("")
        self.env = git_env(home)
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "master")
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str) -> str:
        proc = subprocess.run(
            ["git", *args], cwd=self.path, env=self.env, capture_output=True, check=False
        )
        assert proc.returncode == 0, proc.stderr.decode(errors="replace")
        return proc.stdout.decode()

    def commit(self, files: Mapping[str, str | None], message: str) -> str:
        for path, text in files.items():
            target = self.path / path
            if text is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD").strip()


def make_tree(path: Path) -> Repo:
    """The tree at release 9.0.0, then the development tree of 11.0."""
    repo = Repo(path / "qemu", path / "home")
    repo.commit(BASE_FILES, "Update version for v9.0.0 release")
    repo.commit(HEAD_FILES, "Devices, machines and compat properties of the 11.0 cycle")
    return repo
