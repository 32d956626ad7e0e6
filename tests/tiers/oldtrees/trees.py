"""Small QEMU-style trees of the two make eras, written for these tests.

`kconfig_era()` is laid out like QEMU 4.0 to 5.1 (Makefile.objs, Kconfig.host
and hw/Kconfig, default-configs/<target>.mak), `flat_era()` like QEMU 2.0 to
3.1 (Makefile.objs and flat default-configs, no Kconfig; machines registered
with QEMUMachine and ``mc->name``). Both have the boards the tier policy tells
apart: an x86 versioned KVM machine, arm virt, a TCG-only arm board, pseries;
and devices: one only the arm board creates, a UART every board has, a
pluggable PCI NIC. Nothing here is copied from QEMU.
"""

from __future__ import annotations

CONFIGURE = """\
#!/bin/sh
supported_kvm_target() {
    test "$kvm" = "yes" || return 1
    case "${1%-softmmu}:$cpu" in
        arm:arm | aarch64:aarch64 | \\
        x86_64:x86_64 | \\
        ppc64:ppc64)
            return 0
        ;;
    esac
    return 1
}

for target in $target_list; do
TARGET_ARCH="$target_name"
TARGET_BASE_ARCH=""
case "$target_name" in
  x86_64)
    TARGET_BASE_ARCH=i386
  ;;
  aarch64)
    TARGET_BASE_ARCH=arm
    case "$cpu" in
      arm) echo nested ;;
    esac
  ;;
  arm)
  ;;
  ppc64)
    TARGET_BASE_ARCH=ppc
  ;;
  *)
    error_exit "Unsupported target CPU"
  ;;
esac
done
"""

MAKEFILE_TARGET = """\
include config-target.mak

obj-y += exec.o
obj-y += target/$(TARGET_BASE_ARCH)/

ifdef CONFIG_LINUX_USER
obj-y += linux-user/
endif

ifdef CONFIG_SOFTMMU
obj-y += hw/
obj-y += hw/$(TARGET_BASE_ARCH)/
endif # CONFIG_SOFTMMU
"""

MAKEFILE_OBJS = """\
util-obj-y = util/
ifeq ($(CONFIG_SOFTMMU),y)
common-obj-y += migration/
endif
"""

HW_MAKEFILE = """\
devices-dirs-y = core/
ifeq ($(CONFIG_SOFTMMU), y)
devices-dirs-y += char/
devices-dirs-y += misc/
devices-dirs-$(CONFIG_PCI) += net/ \\
    pci/
endif

common-obj-y += $(devices-dirs-y)
obj-y += $(devices-dirs-y)
"""

SLCR = """\
#include "hw/sysbus.h"
#include "migration/vmstate.h"

#define TYPE_ACME_SLCR "acme,slcr"

typedef struct AcmeSlcrState {
    SysBusDevice parent_obj;
    uint32_t regs[4];
} AcmeSlcrState;

static const VMStateDescription vmstate_acme_slcr = {
    .name = "acme_slcr",
    .version_id = 2,
    .minimum_version_id = 2,
    .fields = (VMStateField[]) {
        VMSTATE_UINT32_ARRAY(regs, AcmeSlcrState, 4),
        VMSTATE_END_OF_LIST()
    }
};

static void acme_slcr_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->vmsd = &vmstate_acme_slcr;
}

static const TypeInfo acme_slcr_info = {
    .name = TYPE_ACME_SLCR,
    .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(AcmeSlcrState),
    .class_init = acme_slcr_class_init,
};
"""

UART = """\
#include "hw/char/acme_uart.h"

static const VMStateDescription vmstate_acme_uart = {
    .name = "acme-uart",
    .version_id = 1,
    .fields = (VMStateField[]) {
        VMSTATE_UINT8(lsr, AcmeUartState),
        VMSTATE_END_OF_LIST()
    }
};

DeviceState *acme_uart_create(hwaddr addr, qemu_irq irq)
{
    DeviceState *dev = qdev_create(NULL, TYPE_ACME_UART);
    qdev_init_nofail(dev);
    return dev;
}

static void acme_uart_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->vmsd = &vmstate_acme_uart;
}

static const TypeInfo acme_uart_info = {
    .name          = TYPE_ACME_UART,
    .parent        = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(AcmeUartState),
    .class_init    = acme_uart_class_init,
};
"""

UART_H = """\
#ifndef HW_ACME_UART_H
#define HW_ACME_UART_H

#define TYPE_ACME_UART "acme-uart"

typedef struct AcmeUartState {
    SysBusDevice parent_obj;
    uint8_t lsr;
} AcmeUartState;

DeviceState *acme_uart_create(hwaddr addr, qemu_irq irq);

#endif
"""

NIC = """\
#include "hw/pci/pci.h"

static const VMStateDescription vmstate_acme_nic = {
    .name = "acme-nic",
    .version_id = 1,
    .fields = (VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, AcmeNicState),
        VMSTATE_END_OF_LIST()
    }
};

static const TypeInfo acme_nic_info = {
    .name          = "acme-nic",
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(AcmeNicState),
};
"""

TIMER = """\
static const TypeInfo acme_timer_info = {
    .name          = "acme-timer",
    .parent        = TYPE_SYS_BUS_DEVICE,
};
"""

PCI = """\
static const TypeInfo pci_device_type_info = {
    .name = TYPE_PCI_DEVICE,
    .parent = TYPE_DEVICE,
    .abstract = true,
};
"""

PC = """\
#include "hw/char/acme_uart.h"

void pc_basic_devices_init(void)
{
    acme_uart_create(0x3f8, NULL);
}
"""

USER = "int main(int argc, char **argv)\n{\n    return 0;\n}\n"

COMMON_FILES: dict[str, str] = {
    "configure": CONFIGURE,
    "Makefile.target": MAKEFILE_TARGET,
    "Makefile.objs": MAKEFILE_OBJS,
    "hw/Makefile.objs": HW_MAKEFILE,
    "hw/core/Makefile.objs": "common-obj-y += qdev.o\n",
    "hw/core/qdev.c": "void qdev_init_nofail(DeviceState *dev)\n{\n}\n",
    "hw/char/Makefile.objs": "common-obj-$(CONFIG_ACME_UART) += acme_uart.o\n",
    "hw/char/acme_uart.c": UART,
    "include/hw/char/acme_uart.h": UART_H,
    "hw/misc/Makefile.objs": (
        "common-obj-$(CONFIG_ACME_SLCR) += acme_slcr.o\n"
        "common-obj-$(CONFIG_ACME_TIMER) += acme_timer.o\n"
    ),
    "hw/misc/acme_slcr.c": SLCR,
    "hw/misc/acme_timer.c": TIMER,
    "hw/net/Makefile.objs": (
        "common-obj-$(call land,$(CONFIG_PCI),$(CONFIG_ACME_NIC)) += acme_nic.o\n"
    ),
    "hw/net/acme_nic.c": NIC,
    "hw/pci/Makefile.objs": "common-obj-$(CONFIG_PCI) += pci.o\n",
    "hw/pci/pci.c": PCI,
    "hw/i386/pc.c": PC,
    "target/arm/Makefile.objs": "obj-y += machine.o\n",
    "target/arm/machine.c": "/* arm CPU state */\n",
    "target/i386/Makefile.objs": "obj-y += machine.o\n",
    "target/i386/machine.c": "/* x86 CPU state */\n",
    "target/ppc/Makefile.objs": "obj-y += machine.o\n",
    "target/ppc/machine.c": "/* ppc CPU state */\n",
    "linux-user/Makefile.objs": "obj-y += main.o\n",
    "linux-user/main.c": USER,
    "default-configs/x86_64-linux-user.mak": "# user mode: no devices\n",
}


# -- QEMU 4.0 to 5.1: Kconfig with Makefile.objs --------------------------------

PC_PIIX_KCONFIG_ERA = """\
#define DEFINE_I440FX_MACHINE(suffix, name, compatfn, optionfn) \\
    static void pc_init_##suffix(MachineState *machine) \\
    { \\
        pc_basic_devices_init(); \\
    } \\
    DEFINE_PC_MACHINE(suffix, name, pc_init_##suffix, optionfn)

DEFINE_I440FX_MACHINE(v5_0, "pc-i440fx-5.0", NULL, pc_i440fx_5_0_machine_options);
DEFINE_I440FX_MACHINE(v4_2, "pc-i440fx-4.2", NULL, pc_i440fx_4_2_machine_options);
DEFINE_I440FX_MACHINE(v4_1, "pc-i440fx-4.1", NULL, pc_i440fx_4_1_machine_options);
"""

VIRT_KCONFIG_ERA = """\
#define DEFINE_VIRT_MACHINE_LATEST(major, minor, latest) \\
    static const TypeInfo machvirt_##major##_##minor##_info = { \\
        .name = MACHINE_TYPE_NAME("virt-" # major "." # minor), \\
        .parent = TYPE_VIRT_MACHINE, \\
    };
#define DEFINE_VIRT_MACHINE(major, minor) DEFINE_VIRT_MACHINE_LATEST(major, minor, false)

static void machvirt_init(MachineState *machine)
{
    acme_uart_create(0x9000000, NULL);
}

DEFINE_VIRT_MACHINE_LATEST(5, 0, true)
DEFINE_VIRT_MACHINE(4, 2)
"""

BOARD_KCONFIG_ERA = """\
static void acme_board_init(MachineState *machine)
{
    DeviceState *dev = qdev_create(NULL, "acme,slcr");
    qdev_init_nofail(dev);
    acme_uart_create(0xe0000000, NULL);
}

static void acme_board_machine_init(MachineClass *mc)
{
    mc->desc = "Acme evaluation board";
    mc->init = acme_board_init;
}

DEFINE_MACHINE("acme-board", acme_board_machine_init)
"""

SPAPR_KCONFIG_ERA = """\
#define DEFINE_SPAPR_MACHINE(suffix, verstr, latest)                 \\
    static const TypeInfo spapr_machine_##suffix##_info = {          \\
        .name = MACHINE_TYPE_NAME("pseries-" verstr),                \\
        .parent = TYPE_SPAPR_MACHINE,                                \\
    };

DEFINE_SPAPR_MACHINE(5_0, "5.0", true);
DEFINE_SPAPR_MACHINE(4_2, "4.2", false);
"""

SPAPR_VIO = """\
static const TypeInfo spapr_vio_bus_info = {
    .name = "spapr-vio-bus",
    .parent = TYPE_BUS,
};
"""


def kconfig_era() -> dict[str, str]:
    """A tree laid out like QEMU 4.0 to 5.1."""
    return {
        **COMMON_FILES,
        "VERSION": "5.0.50\n",
        "Kconfig.host": "config KVM\n    bool\n\nconfig LINUX\n    bool\n",
        "hw/Kconfig": (
            "source char/Kconfig\nsource misc/Kconfig\nsource net/Kconfig\n"
            "source pci/Kconfig\nsource arm/Kconfig\nsource i386/Kconfig\n"
            "source ppc/Kconfig\n"
        ),
        "hw/char/Kconfig": "config ACME_UART\n    bool\n",
        "hw/misc/Kconfig": "config ACME_SLCR\n    bool\n\nconfig ACME_TIMER\n    bool\n",
        "hw/net/Kconfig": (
            "config ACME_NIC\n    bool\n    default y if PCI_DEVICES\n    depends on PCI\n"
        ),
        "hw/pci/Kconfig": "config PCI\n    bool\n\nconfig PCI_DEVICES\n    bool\n",
        "hw/arm/Kconfig": (
            "config ARM_VIRT\n    bool\n    imply PCI_DEVICES\n    select PCI\n"
            "    select ACME_UART\n\n"
            "config ACME_BOARD\n    bool\n    select ACME_SLCR\n    select ACME_UART\n"
        ),
        "hw/i386/Kconfig": (
            "config PC\n    bool\n    select ACME_UART\n\n"
            "config I440FX\n    bool\n    imply PCI_DEVICES\n    select PC\n    select PCI\n"
        ),
        "hw/ppc/Kconfig": "config PSERIES\n    bool\n    imply PCI_DEVICES\n    select PCI\n",
        "default-configs/x86_64-softmmu.mak": "# x86_64-softmmu\nCONFIG_I440FX=y\n",
        "default-configs/arm-softmmu.mak": (
            "# Default configuration for arm-softmmu\n\nCONFIG_ARM_VIRT=y\nCONFIG_ACME_BOARD=y\n"
        ),
        "default-configs/aarch64-softmmu.mak": (
            "# Default configuration for aarch64-softmmu\n\ninclude arm-softmmu.mak\n"
        ),
        "default-configs/ppc64-softmmu.mak": "CONFIG_PSERIES=y\n",
        "hw/i386/Makefile.objs": "obj-$(CONFIG_PC) += pc.o\nobj-$(CONFIG_I440FX) += pc_piix.o\n",
        "hw/i386/pc_piix.c": PC_PIIX_KCONFIG_ERA,
        "hw/arm/Makefile.objs": (
            "obj-$(CONFIG_ARM_VIRT) += virt.o\nobj-$(CONFIG_ACME_BOARD) += acme_board.o\n"
        ),
        "hw/arm/virt.c": VIRT_KCONFIG_ERA,
        "hw/arm/acme_board.c": BOARD_KCONFIG_ERA,
        "hw/ppc/Makefile.objs": "obj-$(CONFIG_PSERIES) += spapr.o spapr_vio.o\n",
        "hw/ppc/spapr.c": SPAPR_KCONFIG_ERA,
        "hw/ppc/spapr_vio.c": SPAPR_VIO,
    }


# -- QEMU 2.0 to 3.1: no Kconfig --------------------------------------------------

PC_PIIX_FLAT_ERA = """\
static void pc_init_pci(QEMUMachineInitArgs *args)
{
    pc_basic_devices_init();
}

static QEMUMachine pc_i440fx_machine_v2_0 = {
    .name = "pc-i440fx-2.0",
    .alias = "pc",
    .init = pc_init_pci,
    .is_default = 1,
};

static QEMUMachine pc_i440fx_machine_v1_7 = {
    .name = "pc-i440fx-1.7",
    .init = pc_init_pci,
};

static QEMUMachine pc_i440fx_machine_v1_6 = {
    .name = "pc-i440fx-1.6",
    .init = pc_init_pci,
};

static void pc_machine_init(void)
{
    qemu_register_machine(&pc_i440fx_machine_v2_0);
    qemu_register_machine(&pc_i440fx_machine_v1_7);
    qemu_register_machine(&pc_i440fx_machine_v1_6);
}

machine_init(pc_machine_init);
"""

VIRT_FLAT_ERA = """\
static void machvirt_init(QEMUMachineInitArgs *args)
{
    acme_uart_create(0x9000000, NULL);
}

static QEMUMachine machvirt_a15_machine = {
    .name = "virt",
    .desc = "ARM Virtual Machine",
    .init = machvirt_init,
};
"""

BOARD_FLAT_ERA = """\
static void acme_board_init(QEMUMachineInitArgs *args)
{
    DeviceState *dev = qdev_create(NULL, "acme,slcr");
    qdev_init_nofail(dev);
}

static QEMUMachine acme_board_machine = {
    .name = "acme-board",
    .desc = "Acme evaluation board",
    .init = acme_board_init,
};
"""

SPAPR_FLAT_ERA = """\
static void spapr_machine_2_1_class_init(ObjectClass *oc, void *data)
{
    MachineClass *mc = MACHINE_CLASS(oc);

    mc->name = "pseries-2.1";
    mc->desc = "pSeries Logical Partition (PAPR compliant) v2.1";
}

static void spapr_machine_2_2_class_init(ObjectClass *oc, void *data)
{
    MachineClass *mc = MACHINE_CLASS(oc);

    mc->name = "pseries-2.2";
    mc->alias = "pseries";
}
"""


def flat_era() -> dict[str, str]:
    """A tree laid out like QEMU 2.0 to 3.1."""
    return {
        **COMMON_FILES,
        "VERSION": "2.2.50\n",
        "default-configs/pci.mak": "CONFIG_PCI=y\nCONFIG_ACME_NIC=y\n",
        "default-configs/x86_64-softmmu.mak": (
            "# Default configuration for x86_64-softmmu\n\ninclude pci.mak\nCONFIG_ACME_UART=y\n"
        ),
        "default-configs/arm-softmmu.mak": (
            "# Default configuration for arm-softmmu\n\ninclude pci.mak\n"
            "CONFIG_ACME_UART=y\nCONFIG_ACME_SLCR=y\nCONFIG_ACME_TIMER=y\n"
            "CONFIG_ARM_GIC_KVM=$(CONFIG_KVM)\n"
        ),
        "default-configs/aarch64-softmmu.mak": (
            "# Default configuration for aarch64-softmmu\n\ninclude arm-softmmu.mak\n"
        ),
        "default-configs/ppc64-softmmu.mak": (
            "include pci.mak\nCONFIG_PSERIES=y\n"
            "CONFIG_XICS_KVM=$(call land,$(CONFIG_PSERIES),$(CONFIG_KVM))\n"
        ),
        "hw/i386/Makefile.objs": "obj-y += pc.o pc_piix.o\n",
        "hw/i386/pc_piix.c": PC_PIIX_FLAT_ERA,
        "hw/arm/Makefile.objs": "obj-y += virt.o acme_board.o\n",
        "hw/arm/virt.c": VIRT_FLAT_ERA,
        "hw/arm/acme_board.c": BOARD_FLAT_ERA,
        "hw/ppc/Makefile.objs": "obj-$(CONFIG_PSERIES) += spapr.o spapr_vio.o\n",
        "hw/ppc/spapr.c": SPAPR_FLAT_ERA,
        "hw/ppc/spapr_vio.c": SPAPR_VIO,
    }
