"""A dump from source agrees with QEMU's own -dump-vmstate on what QEMU builds
by macro: CPU models named from a template, field names with macros in them."""

from __future__ import annotations

from typing import Any

import pytest

from bot.audit.dumptree import dump_tree
from bot.scanner.cache import ScanCache
from tests.fixtures.tree import base_subset

from .qemutree import Repo

CPU_QOM_H = """\
#ifndef ACME_CPU_QOM_H
#define ACME_CPU_QOM_H

#define TYPE_ACME_CPU "acme-cpu"

#endif
"""

CPU_H = """\
#ifndef ACME_CPU_H
#define ACME_CPU_H

#include "cpu-qom.h"

#define ACME_CPU_TYPE_SUFFIX "-" TYPE_ACME_CPU
#define ACME_CPU_TYPE_NAME(model) model ACME_CPU_TYPE_SUFFIX
#define ACME_CORE_TYPE_NAME(model) (model "-core")

#endif
"""

MACHINE_C = """\
#include "qemu/osdep.h"
#include "cpu.h"
#include "migration/vmstate.h"

const VMStateDescription vmstate_acme_cpu = {
    .name = "cpu",
    .version_id = 2,
    .minimum_version_id = 2,
    .fields = (VMStateField[]) {
        VMSTATE_UINT32_ARRAY(env.regs, AcmeCPU, 16),
        VMSTATE_UINT32(env.pc, AcmeCPU),
        VMSTATE_END_OF_LIST()
    }
};
"""

CPU_C = """\
#include "qemu/osdep.h"
#include "cpu.h"

extern const VMStateDescription vmstate_acme_cpu;

static void acme_cpu_class_init(ObjectClass *c, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(c);

    dc->vmsd = &vmstate_acme_cpu;
}

static void acme_core_class_init(ObjectClass *c, void *data)
{
    CPUClass *cc = CPU_CLASS(c);

    cc->gdb_core_xml_file = "acme-core.xml";
}

#define DEFINE_ACME_CPU_TYPE(model)              \\
    {                                            \\
        .name = ACME_CPU_TYPE_NAME(#model),      \\
        .instance_init = model##_cpu_initfn,     \\
        .parent = TYPE_ACME_CPU,                 \\
        .class_init = acme_core_class_init       \\
    }

static const TypeInfo acme_cpus_type_infos[] = {
    {
        .name = TYPE_ACME_CPU,
        .parent = TYPE_CPU,
        .instance_size = sizeof(AcmeCPU),
        .abstract = true,
        .class_init = acme_cpu_class_init,
    },
    DEFINE_ACME_CPU_TYPE(a100),
    DEFINE_ACME_CPU_TYPE(a200),
    {
        .name = ACME_CORE_TYPE_NAME("a300"),
        .parent = TYPE_ACME_CPU,
    },
};

DEFINE_TYPES(acme_cpus_type_infos)
"""


TIMER_H = """\
#ifndef ACME_TIMER_H
#define ACME_TIMER_H

#include "migration/vmstate.h"

#define ACME_NCHAN 3
#define ACME_FIFO_LEN (ACME_NCHAN * 4)

typedef enum AcmeMode {
    ACME_MODE_ONESHOT,
    ACME_MODE_PERIODIC,
} AcmeMode;

typedef uint64_t acme_ticks;
typedef struct AcmeIRQState *acme_irq;
typedef void (*AcmeExpireHandler)(void *opaque, int channel,
                                  acme_ticks when);

typedef struct AcmeChannel {
    uint32_t count;
    uint8_t latch;
    acme_ticks next;
    QEMUTimer *timer;
    AcmeMode mode;
    acme_irq irq;
    AcmeExpireHandler expire;
} AcmeChannel;

#ifndef CONFIG_USER_ONLY
typedef struct QEMU_PACKED AcmeRomHeader {
    uint8_t magic;
    uint32_t entry;
} AcmeRomHeader;
#endif

#define ACME_RING_COUNT 4
#define ACME_RING_SIZE  0x10

typedef union AcmeFPReg {
    uint64_t bits;
    struct {
        uint64_t lower;
        uint16_t upper;
    } l;
} AcmeFPReg;

typedef union AcmeReg {
    uint64_t q;
    uint8_t b[12];
} AcmeReg;

typedef struct AcmeHostState {
    QemuMutex lock;
    uint32_t pending;
} AcmeHostState;

typedef struct AcmeDebugState {
    uint32_t level;
#ifdef CONFIG_ACME_DEBUG
    uint32_t trace;
#endif
} AcmeDebugState;

typedef struct AcmeTimerState {
    SysBusDevice parent_obj;

    AcmeChannel channels[ACME_NCHAN];
    AcmeRomHeader rom;
    AcmeReg regs[2];
    AcmeHostState host;
    AcmeDebugState debug;
    uint8_t fifo[ACME_FIFO_LEN];
    uint8_t ring[ACME_RING_COUNT * ACME_RING_SIZE];
    AcmeFPReg fp;
    uint8_t *log;
    uint32_t log_len;
} AcmeTimerState;

#define VMSTATE_ACME_LOG(_field, _state, _len) {                     \
    .name = (stringify(_field)),                                     \
    .size_offset = vmstate_offset_value(_state, _len, uint32_t),     \
    .info = &vmstate_info_buffer,                                    \
    .flags = VMS_VBUFFER | VMS_POINTER,                              \
    .offset = offsetof(_state, _field),                              \
}

#endif
"""

TIMER_C = """\
#include "qemu/osdep.h"
#include "hw/timer/acme_timer.h"

static const VMStateDescription vmstate_acme_channel = {
    .name = "acme-channel",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(count, AcmeChannel),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_acme_rom = {
    .name = "acme-rom",
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(magic, AcmeRomHeader),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_acme_reg = {
    .name = "acme-reg",
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(q, AcmeReg),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_acme_host = {
    .name = "acme-host",
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(pending, AcmeHostState),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_acme_debug = {
    .name = "acme-debug",
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(level, AcmeDebugState),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_acme_timer = {
    .name = "acme-timer",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT_ARRAY(channels, AcmeTimerState, ACME_NCHAN, 1,
                             vmstate_acme_channel, AcmeChannel),
        VMSTATE_STRUCT(rom, AcmeTimerState, 0, vmstate_acme_rom, AcmeRomHeader),
        VMSTATE_STRUCT_ARRAY(regs, AcmeTimerState, 2, 0, vmstate_acme_reg, AcmeReg),
        VMSTATE_STRUCT(host, AcmeTimerState, 0, vmstate_acme_host, AcmeHostState),
        VMSTATE_STRUCT(debug, AcmeTimerState, 0, vmstate_acme_debug, AcmeDebugState),
        VMSTATE_BUFFER(fifo, AcmeTimerState),
        VMSTATE_BUFFER(ring, AcmeTimerState),
        VMSTATE_STRUCT(fp, AcmeTimerState, 0, vmstate_acme_reg, AcmeFPReg),
        VMSTATE_ACME_LOG(log, AcmeTimerState, log_len),
        VMSTATE_END_OF_LIST()
    }
};

static void acme_timer_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->vmsd = &vmstate_acme_timer;
}

static const TypeInfo acme_timer_info = {
    .name = "acme-timer",
    .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(AcmeTimerState),
    .class_init = acme_timer_class_init,
};
"""


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    root = tmp_path_factory.mktemp("fidelity")
    repo = Repo(root / "qemu", root / "home")
    files = dict(base_subset("include/migration/vmstate.h"))
    files.update(
        {
            "target/acme/cpu-qom.h": CPU_QOM_H,
            "target/acme/cpu.h": CPU_H,
            "target/acme/machine.c": MACHINE_C,
            "target/acme/cpu.c": CPU_C,
            "include/hw/timer/acme_timer.h": TIMER_H,
            "hw/timer/acme_timer.c": TIMER_C,
        }
    )
    repo.commit(files, "Acme CPU models")
    return repo


@pytest.fixture(scope="module", params=["plain", "cached"])
def dumped(
    repo: Repo, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """Both ways of reading the headers: one git grep, or per header blob with a cache."""
    scans = ScanCache(tmp_path_factory.mktemp("scans")) if request.param == "cached" else None
    return dump_tree(repo.path, "HEAD", jobs=1, scans=scans).data


def test_cpu_models_of_a_type_array_written_with_a_macro(dumped: dict[str, Any]) -> None:
    assert {"a100-acme-cpu", "a200-acme-cpu", "a300-core"} <= set(dumped)
    model = dumped["a100-acme-cpu"]
    assert model["Name"] == "a100-acme-cpu"
    assert model["Description"]["name"] == "cpu"
    assert model["version_id"] == 2
    assert [f["field"] for f in model["Description"]["Fields"]] == ["env.regs", "env.pc"]


def test_struct_sizes_laid_out_as_a_64_bit_host_does(dumped: dict[str, Any]) -> None:
    fields = {f["field"]: f for f in dumped["acme-timer"]["Description"]["Fields"]}
    # 4 + 1, padded to 8 for the typedef'd uint64_t, a pointer, an enum (4, padded to 8),
    # a pointer typedef and a function pointer typedef
    assert fields["channels"]["size"] == 48
    assert fields["rom"]["size"] == 5  # QEMU_PACKED: no padding; the #if is around it all
    assert fields["ring"]["size"] == 64  # regs[A * B] is an array of bytes, not pointers
    assert fields["fp"]["size"] == 16  # a union with a named struct member of 8 + 2
    assert fields["regs"]["size"] == 16  # a union: its largest member, aligned
    assert fields["fifo"]["size"] == 12  # VMSTATE_BUFFER: sizeof the member, dims by #define
    assert fields["log"]["size"] == 0  # no .size in the VMStateField: QEMU prints 0


def test_sizes_the_source_cannot_fix_stay_unknown(dumped: dict[str, Any]) -> None:
    fields = {f["field"]: f for f in dumped["acme-timer"]["Description"]["Fields"]}
    assert fields["host"]["size"] is None  # QemuMutex: the host's C library decides
    assert fields["debug"]["size"] is None  # a member under #ifdef: the build decides
