"""A small QEMU-shaped tree, written for these tests (nothing copied from QEMU).

It has one board per machine family the tier policy names, laid out the way
QEMU lays them out: Kconfig reached through ``source``, meson source sets with
``add_all`` and per-arch registries, configs/targets and configs/devices, and
machine definitions in C.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

from bot.change import Tree
from tests.gitenv import git_env

KCONFIG = {
    "Kconfig": """
source Kconfig.host
source accel/Kconfig
source target/Kconfig
source hw/Kconfig
source rust/Kconfig
""",
    "Kconfig.host": """
# Host features, set by meson from what the build host has.
config LINUX
    bool

config HAVE_RUST
    bool
""",
    "accel/Kconfig": """
config TCG
    bool

config KVM
    bool
""",
    "target/Kconfig": """
source arm/Kconfig

config I386
    bool

config X86_64
    bool
    select I386

config PPC64
    bool

config S390X
    bool

config M68K
    bool

config RISCV64
    bool

config TARGET_BIG_ENDIAN
    bool
""",
    "target/arm/Kconfig": """
config ARM
    bool
    # the architecture pulls this in for every board, as QEMU's ARM does
    select ARM_V7M if TCG

config AARCH64
    bool
    select ARM
""",
    "rust/Kconfig": "source hw/Kconfig\n",
    "rust/hw/Kconfig": """
config X_PL011_RUST
    bool
""",
    "hw/Kconfig": """
source pci/Kconfig
source net/Kconfig
source virtio/Kconfig
source intc/Kconfig
source char/Kconfig
source misc/Kconfig
source i386/Kconfig
source arm/Kconfig
source ppc/Kconfig
source s390x/Kconfig
source m68k/Kconfig
source riscv/Kconfig
""",
    "hw/pci/Kconfig": """
config PCI
    bool

config PCI_DEVICES
    bool
""",
    "hw/net/Kconfig": """
config E1000_PCI
    bool
    default y if PCI_DEVICES
    depends on PCI

config PLUGNIC
    bool
    default y if PCI_DEVICES
    depends on PCI && ARM

# minikconf reads this as KVM && (PSERIES || M68K_VIRT)
config TRAP
    bool
    default y
    depends on KVM && PSERIES || M68K_VIRT
""",
    "hw/virtio/Kconfig": """
config VIRTIO
    bool

config VIRTIO_PCI
    bool
    default y if PCI_DEVICES
    depends on PCI
    select VIRTIO

config VIRTIO_MMIO
    bool
    select VIRTIO

config VIRTIO_CCW
    bool
    select VIRTIO

config VIRTIO_NET
    bool
    default y
    depends on VIRTIO
""",
    "hw/intc/Kconfig": """
config APIC
    bool

config RISCV_APLIC
    bool

config ARM_GIC
    bool

config ARM_V7M
    bool
""",
    "hw/char/Kconfig": """
config PL011
    bool
    # one implementation per host: C without Rust, Rust with it
    select PL011_C if !HAVE_RUST
    select X_PL011_RUST if HAVE_RUST

config PL011_C
    bool
""",
    "hw/misc/Kconfig": """
config SYSBUSDEV
    bool

config ARMONLY_DEV
    bool
""",
    "hw/i386/Kconfig": """
config PC
    bool
    imply PCI_DEVICES
    select APIC
    select PCI

config I440FX
    bool
    default y
    depends on I386
    imply E1000_PCI
    select PC

config Q35
    bool
    default y
    depends on I386
    select PC

config MICROVM
    bool
    default y
    depends on I386
    select VIRTIO_MMIO
""",
    "hw/arm/Kconfig": """
config ARM_VIRT
    bool
    default y
    depends on ARM
    depends on TCG || KVM
    select PCI
    select PL011
    select ARM_GIC
    select VIRTIO_MMIO
    select ARMONLY_DEV if !AARCH64

config MUSICPAL
    bool
    default y
    depends on TCG && ARM
    imply PCI_DEVICES
    select PCI
    select SYSBUSDEV
    select ARM_V7M
""",
    "hw/ppc/Kconfig": """
config PSERIES
    bool
    default y
    depends on PPC64
    imply PCI_DEVICES
    select PCI
""",
    "hw/s390x/Kconfig": """
config S390_CCW_VIRTIO
    bool
    default y
    depends on S390X
    select VIRTIO_CCW
""",
    "hw/m68k/Kconfig": """
config M68K_VIRT
    bool
    default y
    depends on M68K
    select VIRTIO_MMIO

config Q800
    bool
    default y
    depends on M68K
    select SYSBUSDEV
""",
    "hw/riscv/Kconfig": """
config RISCV_VIRT
    bool
    default y
    depends on RISCV64
    select RISCV_APLIC
    select PCI
""",
}

CONFIGS = {
    "configs/targets/x86_64-softmmu.mak": "TARGET_ARCH=x86_64\nTARGET_BASE_ARCH=i386\n",
    "configs/targets/aarch64-softmmu.mak": "TARGET_ARCH=aarch64\nTARGET_BASE_ARCH=arm\n",
    "configs/targets/arm-softmmu.mak": "TARGET_ARCH=arm\n",
    "configs/targets/ppc64-softmmu.mak": (
        "TARGET_ARCH=ppc64\nTARGET_BASE_ARCH=ppc\nTARGET_BIG_ENDIAN=y\n"
    ),
    "configs/targets/s390x-softmmu.mak": "TARGET_ARCH=s390x\nTARGET_BIG_ENDIAN=y\n",
    "configs/targets/m68k-softmmu.mak": "TARGET_ARCH=m68k\nTARGET_BIG_ENDIAN=y\n",
    "configs/targets/riscv64-softmmu.mak": "TARGET_ARCH=riscv64\nTARGET_BASE_ARCH=riscv\n",
    "configs/targets/x86_64-linux-user.mak": "TARGET_ARCH=x86_64\nTARGET_BASE_ARCH=i386\n",
    "configs/devices/x86_64-softmmu/default.mak": "# Boards are selected by default\n",
    "configs/devices/arm-softmmu/default.mak": "# CONFIG_MUSICPAL=n\n",
    "configs/devices/aarch64-softmmu/default.mak": "include ../arm-softmmu/default.mak\n",
    "configs/devices/ppc64-softmmu/default.mak": "",
    "configs/devices/s390x-softmmu/default.mak": "",
    "configs/devices/m68k-softmmu/default.mak": "",
    "configs/devices/riscv64-softmmu/default.mak": "",
}

MESON = {
    "meson.build": """
project('mini', 'c')
ss = import('sourceset')

# The host decides which targets can use KVM; every branch counts.
if cpu == 'x86_64'
  kvm_targets = ['i386-softmmu', 'x86_64-softmmu']
elif cpu == 'aarch64'
  kvm_targets = ['aarch64-softmmu']
elif cpu == 'ppc64'
  kvm_targets = ['ppc-softmmu', 'ppc64-softmmu']
elif cpu == 's390x'
  kvm_targets = ['s390x-softmmu']
elif cpu == 'riscv64'
  kvm_targets = ['riscv64-softmmu']
else
  kvm_targets = []
endif
accelerator_targets = { 'CONFIG_KVM': kvm_targets }

system_ss = ss.source_set()
specific_ss = ss.source_set()
user_ss = ss.source_set()
rust_devices_ss = ss.source_set()
hw_arch = {}
target_arch = {}
target_system_arch = {}
modules = {}

subdir('hw')
subdir('target')
subdir('migration')
subdir('rust')
""",
    "hw/meson.build": """
foreach d : ['unused']
endforeach
subdir('core')
subdir('pci')
subdir('net')
subdir('virtio')
subdir('intc')
subdir('char')
subdir('misc')
subdir('i386')
subdir('arm')
subdir('ppc')
subdir('s390x')
subdir('m68k')
subdir('riscv')
""",
    "hw/core/meson.build": "system_ss.add(files('machine.c', 'qdev.c'))\n",
    "hw/pci/meson.build": """
pci_ss = ss.source_set()
pci_ss.add(files('pci.c'))
system_ss.add_all(when: 'CONFIG_PCI', if_true: pci_ss)
system_ss.add(when: 'CONFIG_PCI', if_false: files('pci-stub.c'))
""",
    "hw/net/meson.build": """
e1000_files = files('e1000.c', 'e1000x_common.c')
system_ss.add(when: 'CONFIG_E1000_PCI', if_true: e1000_files)
system_ss.add(when: 'CONFIG_PLUGNIC', if_true: files('plugnic.c'))
system_ss.add(when: ['CONFIG_TRAP'], if_true: files('trap.c'))
""",
    "hw/virtio/meson.build": """
virtio_ss = ss.source_set()
virtio_ss.add(files('virtio.c'))
virtio_ss.add(when: 'CONFIG_VIRTIO_PCI', if_true: files('virtio-pci.c'))
virtio_ss.add(when: 'CONFIG_VIRTIO_NET', if_true: [files('virtio-net.c'), zlib])
system_ss.add_all(when: 'CONFIG_VIRTIO', if_true: virtio_ss)
""",
    "hw/intc/meson.build": """
specific_ss.add(when: 'CONFIG_APIC', if_true: files('apic_common.c'))
specific_ss.add(when: 'CONFIG_RISCV_APLIC', if_true: files('riscv_aplic.c'))
system_ss.add(when: 'CONFIG_ARM_GIC', if_true: files('arm_gic.c'))
system_ss.add(when: 'CONFIG_ARM_V7M', if_true: files('armv7m_nvic.c'))
""",
    "hw/char/meson.build": "system_ss.add(when: 'CONFIG_PL011_C', if_true: files('pl011.c'))\n",
    "hw/misc/meson.build": """
system_ss.add(when: 'CONFIG_SYSBUSDEV', if_true: files('sysbusdev.c'))
system_ss.add(when: 'CONFIG_ARMONLY_DEV', if_true: files('armonly.c'))
""",
    "hw/i386/meson.build": """
i386_ss = ss.source_set()
i386_ss.add(when: 'CONFIG_I440FX', if_true: files('pc_piix.c'))
i386_ss.add(when: 'CONFIG_Q35', if_true: files('pc_q35.c'))
i386_ss.add(when: 'CONFIG_MICROVM', if_true: files('microvm.c'))
i386_ss.add(when: 'CONFIG_PC', if_true: files('pc.c'))
hw_arch += {'i386': i386_ss}
""",
    "hw/arm/meson.build": """
arm_ss = ss.source_set()
arm_ss.add(when: 'CONFIG_ARM_VIRT', if_true: files('virt.c'))
arm_ss.add(when: 'CONFIG_MUSICPAL', if_true: files('musicpal.c'))
hw_arch += {'arm': arm_ss}
""",
    "hw/ppc/meson.build": """
ppc_ss = ss.source_set()
ppc_ss.add(when: 'CONFIG_PSERIES', if_true: files('spapr.c'))
hw_arch += {'ppc': ppc_ss}
""",
    "hw/s390x/meson.build": """
s390x_ss = ss.source_set()
s390x_ss.add(when: 'CONFIG_S390_CCW_VIRTIO', if_true: files('s390-virtio-ccw.c'))
hw_arch += {'s390x': s390x_ss}
""",
    "hw/m68k/meson.build": """
m68k_ss = ss.source_set()
m68k_ss.add(when: 'CONFIG_M68K_VIRT', if_true: files('virt.c'))
m68k_ss.add(when: 'CONFIG_Q800', if_true: files('q800.c'))
hw_arch += {'m68k': m68k_ss}
""",
    "hw/riscv/meson.build": """
riscv_ss = ss.source_set()
riscv_ss.add(when: 'CONFIG_RISCV_VIRT', if_true: files('virt.c'))
hw_arch += {'riscv': riscv_ss}
""",
    "target/meson.build": "subdir('arm')\n",
    "target/arm/meson.build": """
arm_system_ss = ss.source_set()
arm_system_ss.add(files('machine.c'))
arm_user_ss = ss.source_set()
target_system_arch += {'arm': arm_system_ss}
""",
    "migration/meson.build": """
system_ss.add(files('savevm.c'))
user_ss.add(files('user-only.c'))
""",
    "rust/meson.build": "subdir('hw/char/pl011')\n",
    "rust/hw/char/pl011/meson.build": """
_lib = static_library('pl011', structured_sources(['src/lib.rs', 'src/device.rs']))
rust_devices_ss.add(when: 'CONFIG_X_PL011_RUST', if_true: [declare_dependency(
  link_whole: [_lib],
)])
""",
}


def _versioned(family: str, macro: str) -> str:
    return f"""
#define {macro}_IMPL(latest, ...) \\
    static const TypeInfo MACHINE_VER_SYM(info, x, __VA_ARGS__) = {{ \\
        .name = MACHINE_VER_TYPE_NAME("{family}", __VA_ARGS__), \\
        .parent = TYPE_X_MACHINE, \\
    }};
#define {macro}_AS_LATEST(major, minor) {macro}_IMPL(true, major, minor)
#define {macro}(major, minor) {macro}_IMPL(false, major, minor)

{macro}_AS_LATEST(10, 2)
{macro}(10, 1)
"""


SOURCES = {
    "hw/core/machine.c": '#include "qemu/osdep.h"\n',
    "hw/core/qdev.c": "",
    "hw/pci/pci.c": "",
    "hw/pci/pci-stub.c": "",
    "hw/net/e1000.c": """#include "qemu/osdep.h"
#include "hw/net/e1000_regs.h"
static const TypeInfo e1000_info = {
    .name = "e1000",
    .parent = TYPE_PCI_DEVICE,
};
""",
    "hw/net/e1000x_common.c": "/* helpers of the e1000 cards: no QOM type here */\n",
    "include/hw/net/e1000_regs.h": '#include "hw/net/mii.h"\n',
    "include/hw/net/mii.h": "#define MII_BMCR 0\n",
    "include/hw/net/unused.h": "",
    "hw/net/plugnic.c": "static const TypeInfo plug_info = {\n    .parent = TYPE_PCI_DEVICE,\n};\n",
    "hw/net/trap.c": "",
    "hw/virtio/virtio.c": "",
    "hw/virtio/virtio-pci.c": "",
    "hw/virtio/virtio-net.c": """static const TypeInfo vn = {
    .parent = TYPE_VIRTIO_DEVICE,
};
""",
    "hw/intc/apic_common.c": "",
    "hw/intc/riscv_aplic.c": "",
    "hw/intc/arm_gic.c": "",
    "hw/intc/armv7m_nvic.c": "",
    "hw/char/pl011.c": "",
    "hw/misc/sysbusdev.c": "static const TypeInfo sb = {\n    .parent = TYPE_SYS_BUS_DEVICE,\n};\n",
    "hw/misc/armonly.c": "",
    "hw/i386/pc.c": "",
    "hw/i386/pc_piix.c": """
#define DEFINE_I440FX_MACHINE(major, minor) \\
    DEFINE_PC_VER_MACHINE(pc_i440fx, "pc-i440fx", pc_i440fx_init, false, NULL, major, minor);
#define DEFINE_I440FX_MACHINE_AS_LATEST(major, minor) \\
    DEFINE_PC_VER_MACHINE(pc_i440fx, "pc-i440fx", pc_i440fx_init, true, "pc", major, minor);

DEFINE_I440FX_MACHINE_AS_LATEST(10, 2)
DEFINE_I440FX_MACHINE(10, 1)
""",
    "hw/i386/pc_q35.c": """
#define DEFINE_Q35_MACHINE(major, minor) \\
    DEFINE_PC_VER_MACHINE(pc_q35, "pc-q35", pc_q35_init, false, NULL, major, minor);
DEFINE_Q35_MACHINE(10, 2)
DEFINE_Q35_MACHINE(9, 2)
""",
    "hw/i386/microvm.c": """#include "hw/i386/microvm.h"
static const TypeInfo microvm_machine_info = {
    .name          = TYPE_MICROVM_MACHINE,
    .parent        = TYPE_X86_MACHINE,
};
""",
    "include/hw/i386/microvm.h": '#define TYPE_MICROVM_MACHINE   MACHINE_TYPE_NAME("microvm")\n',
    "hw/arm/virt.c": _versioned("virt", "DEFINE_VIRT_MACHINE")
    + """
static const TypeInfo virt_machine_info = {
    .name          = TYPE_VIRT_MACHINE,
    .parent        = TYPE_MACHINE,
    .abstract      = true,
};
""",
    "include/hw/arm/virt.h": '#define TYPE_VIRT_MACHINE MACHINE_TYPE_NAME("virt")\n',
    "hw/arm/musicpal.c": 'DEFINE_MACHINE_ARM("musicpal", musicpal_machine_init)\n',
    "hw/ppc/spapr.c": _versioned("pseries", "DEFINE_SPAPR_MACHINE"),
    "hw/s390x/s390-virtio-ccw.c": _versioned("s390-ccw-virtio", "DEFINE_CCW_MACHINE"),
    "hw/m68k/virt.c": _versioned("virt", "DEFINE_VIRT_MACHINE")
    + """
static const TypeInfo virt_machine_info = {
    .name          = MACHINE_TYPE_NAME("virt"),
    .parent        = TYPE_MACHINE,
    .abstract      = true,
};
""",
    "hw/m68k/q800.c": """static const TypeInfo q800 = {
    .name = MACHINE_TYPE_NAME("q800"),
};
""",
    "hw/riscv/virt.c": 'static const TypeInfo rv = {\n    .name = MACHINE_TYPE_NAME("virt"),\n};\n',
    "target/arm/machine.c": "",
    "target/arm/cpu.h": "",
    "migration/savevm.c": "",
    "migration/user-only.c": "",
    "rust/hw/char/pl011/src/lib.rs": "",
    "rust/hw/char/pl011/src/device.rs": "",
}


def files() -> dict[str, str]:
    """The whole tree, path -> text."""
    return {**KCONFIG, **CONFIGS, **MESON, **SOURCES}


def dict_tree(content: Mapping[str, str], tree_id: str = "mini-1", *, grep: bool = True) -> Tree:
    """A `Tree` over a dict; ``grep(needle, under)`` searches texts below ``under``."""
    data = dict(content)

    def search(needle: str, under: str) -> list[str]:
        prefix = under.rstrip("/") + "/" if under else ""
        return sorted(p for p, t in data.items() if p.startswith(prefix) and needle in t)

    return Tree(tree_id=tree_id, read=data.get, grep=search if grep else None)


def git_repo(root: Path, content: Mapping[str, str], *, bare: bool = True) -> Path:
    """Commit ``content`` in a fresh repository; return it (a bare clone by default)."""
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "gitconfig").write_text("")
    env = git_env(home)
    work = root / "work"
    work.mkdir()
    for path, text in content.items():
        target = work / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def git(*args: str, cwd: Path = work) -> None:
        subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)

    git("init", "-q", "-b", "master")
    git("config", "commit.gpgsign", "false")
    git("add", "-A")
    git("commit", "-q", "-m", "mini tree")
    if not bare:
        return work
    git("clone", "-q", "--bare", str(work), str(root / "bare.git"), cwd=root)
    return root / "bare.git"
