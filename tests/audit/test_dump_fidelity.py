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
