"""MIG064's facts (bot.compare.remap) on the forms QEMU devices use to redo, or
not, on load what a guest write does to their memory regions."""

from __future__ import annotations

from bot.compare import facts as F
from bot.compare.remap import remap_facts
from tests.harness import file_models

PATH = "hw/misc/acme_gate.c"

SWITCH = """\
static void acme_gate_update(AcmeGateState *s)
{
    memory_region_set_enabled(&s->gate, s->ctrl & 1);
}

"""

WRITE = """\
static void acme_gate_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    AcmeGateState *s = opaque;

    s->ctrl = val;
%s}

"""


def vmsd(extra: str = "", fields: str = "        VMSTATE_UINT32(ctrl, AcmeGateState),\n") -> str:
    return (
        "static const VMStateDescription vmstate_acme_gate = {\n"
        '    .name = "acme-gate",\n    .version_id = 1,\n    .minimum_version_id = 1,\n'
        + extra
        + "    .fields = (const VMStateField[]) {\n"
        + fields
        + "        VMSTATE_END_OF_LIST()\n    }\n};\n"
    )


def run(old: str, new: str) -> list[F.RemapNotRedoneOnLoad]:
    out = list(remap_facts(file_models(old, new, PATH), (old, new)))
    assert all(isinstance(f, F.RemapNotRedoneOnLoad) for f in out)
    return [f for f in out if isinstance(f, F.RemapNotRedoneOnLoad)]


BEFORE = SWITCH + WRITE % "" + vmsd()
AFTER = SWITCH + WRITE % "    acme_gate_update(s);\n" + vmsd()


def test_a_write_newly_switching_a_region_is_reported_on_the_switch() -> None:
    [fact] = run(BEFORE, AFTER)
    assert (fact.switch, fact.writer, fact.member, fact.line) == (
        "acme_gate_update",
        "acme_gate_write",
        "ctrl",
        3,
    )
    assert fact.vmsd == "acme-gate"


def test_migrating_a_device_whose_writes_already_switch_regions_is_reported() -> None:
    before = SWITCH + WRITE % "    acme_gate_update(s);\n"
    assert [f.switch for f in run(before, AFTER)] == ["acme_gate_update"]


def test_a_vmstate_info_getter_redoes_it() -> None:
    getter = (
        "static int get_gate(QEMUFile *f, void *pv, size_t size, const VMStateField *field)\n"
        "{\n    AcmeGateState *s = pv;\n\n    s->ctrl = qemu_get_be32(f);\n"
        "    acme_gate_update(s);\n    return 0;\n}\n\n"
        "static const VMStateInfo vmstate_info_gate = {\n"
        '    .name = "gate",\n    .get = get_gate,\n    .put = put_gate,\n};\n\n'
    )
    assert run(BEFORE, SWITCH + getter + WRITE % "    acme_gate_update(s);\n" + vmsd()) == []


def test_a_run_state_handler_redoes_it() -> None:
    handler = (
        "static void acme_gate_vm_state_change(void *opaque, bool running, RunState state)\n"
        "{\n    if (running) {\n        acme_gate_update(opaque);\n    }\n}\n\n"
        "static void acme_gate_realize(DeviceState *dev, Error **errp)\n"
        "{\n    qemu_add_vm_change_state_handler(acme_gate_vm_state_change, dev);\n}\n\n"
    )
    assert run(BEFORE, SWITCH + handler + WRITE % "    acme_gate_update(s);\n" + vmsd()) == []


def test_a_switch_reading_nothing_migrated_is_not_judged() -> None:
    fields = "        VMSTATE_UINT32(status, AcmeGateState),\n"
    before = SWITCH + WRITE % "" + vmsd(fields=fields)
    after = SWITCH + WRITE % "    acme_gate_update(s);\n" + vmsd(fields=fields)
    assert run(before, after) == []


def test_a_write_path_the_base_already_had_is_old_news() -> None:
    after = AFTER.replace("    s->ctrl = val;\n", "    s->ctrl = val & 3;\n")
    assert run(AFTER, after) == []


def test_code_built_for_kvm_only_is_not_judged() -> None:
    path = "hw/misc/acme_gate_kvm.c"
    fm = file_models(BEFORE, AFTER, path)
    assert list(remap_facts(fm, (BEFORE, AFTER))) == []
