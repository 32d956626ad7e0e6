"""Hand-written streams: what a change to qemu_put_*/qemu_get_* code does to the wire."""

from __future__ import annotations

import difflib

from bot.change import Change, FileChange, FileStatus, Hunk, HunkLine, LineKind
from bot.compare import facts as F
from bot.compare.streams import stream_facts
from tests.harness import scan_c

PATH = "hw/misc/acme_pit.c"

SAVE_LOAD = """
#include "qemu/osdep.h"

static void acme_pit_save(QEMUFile *f, void *opaque)
{
    AcmePITState *s = opaque;
    int i;

    qemu_put_be32(f, s->mode);
    for (i = 0; i < 3; i++) {
        qemu_put_be16(f, s->count[i]);
    }
    qemu_put_be64(f, s->next_tick);
}

static int acme_pit_load(QEMUFile *f, void *opaque, int version_id)
{
    AcmePITState *s = opaque;
    int i;

    s->mode = qemu_get_be32(f);
    for (i = 0; i < 3; i++) {
        s->count[i] = qemu_get_be16(f);
    }
    if (version_id >= 2) {
        s->next_tick = qemu_get_be64(f);
    }
    return 0;
}

static SaveVMHandlers savevm_acme_pit = {
    .save_state = acme_pit_save,
    .load_state = acme_pit_load,
};

static void acme_pit_realize(DeviceState *dev, Error **errp)
{
    register_savevm_live("acme-pit", 0, 2, &savevm_acme_pit, dev);
}
"""


NEWER_BRANCH = (
    "    if (version_id >= 3) {\n        s->gate = qemu_get_byte(f);\n    }\n    return 0;\n}"
)


def _change(old: str, new: str, path: str = PATH) -> Change:
    a, b = old.split("\n"), new.split("\n")
    lines: list[HunkLine] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        lines += [HunkLine(LineKind.REMOVED, k + 1, None, a[k]) for k in range(i1, i2)]
        lines += [HunkLine(LineKind.ADDED, None, k + 1, b[k]) for k in range(j1, j2)]
    fc = FileChange(
        path, path, FileStatus.MODIFIED, (Hunk(1, len(a), 1, len(b), tuple(lines)),), old, new
    )
    return Change("test", "a", "b", (fc,))


def _facts(old: str, new: str) -> list[F.Fact]:
    return stream_facts(_change(old, new))


def test_width_changed_in_a_loop_on_both_sides_is_one_unversioned_change() -> None:
    new = SAVE_LOAD.replace("qemu_put_be16(f, s->count[i])", "qemu_put_be32(f, s->count[i])")
    new = new.replace("qemu_get_be16(f);", "qemu_get_be32(f);")
    [fact] = _facts(SAVE_LOAD, new)
    assert isinstance(fact, F.StreamChanged)
    assert fact.function == "acme_pit_save" and fact.vmsd == "acme-pit"
    assert "(2 bytes) became `qemu_put_be32(f, s->count[i])` (4 bytes)" in fact.what
    assert fact.version == 2


def test_reordered_elements_are_a_change() -> None:
    new = SAVE_LOAD.replace("    qemu_put_be32(f, s->mode);\n", "").replace(
        "    qemu_put_be64(f, s->next_tick);\n",
        "    qemu_put_be64(f, s->next_tick);\n    qemu_put_be32(f, s->mode);\n",
    )
    kinds = {type(f).__name__ for f in _facts(SAVE_LOAD, new)}
    # the load still reads the old order: save and load disagree now
    assert kinds == {"StreamOutOfSync"}


def test_save_only_change_is_out_of_sync_with_the_load() -> None:
    new = SAVE_LOAD.replace(
        "    qemu_put_be64(f, s->next_tick);\n",
        "    qemu_put_be64(f, s->next_tick);\n    qemu_put_byte(f, s->gate);\n",
    )
    [fact] = _facts(SAVE_LOAD, new)
    assert isinstance(fact, F.StreamOutOfSync)
    assert fact.save == "acme_pit_save" and fact.load == "acme_pit_load"
    assert "qemu_put_byte(f, s->gate)" in fact.what


def test_version_raised_is_versioning_not_a_silent_change() -> None:
    new = (
        SAVE_LOAD.replace(
            "    qemu_put_be64(f, s->next_tick);\n",
            "    qemu_put_be64(f, s->next_tick);\n    qemu_put_byte(f, s->gate);\n",
        )
        .replace("    return 0;\n}", NEWER_BRANCH)
        .replace('"acme-pit", 0, 2,', '"acme-pit", 0, 3,')
    )
    [fact] = _facts(SAVE_LOAD, new)
    assert isinstance(fact, F.StreamVersionBumped)
    assert (fact.old, fact.new) == (2, 3)


def test_refactor_keeping_the_bytes_is_silent() -> None:
    new = SAVE_LOAD.replace(
        """    qemu_put_be32(f, s->mode);
    for (i = 0; i < 3; i++) {
        qemu_put_be16(f, s->count[i]);
    }
""",
        """    qemu_put_be32s(f, &s->mode);
    for (int n = 0; n < ACME_PIT_NCHAN; n++) {
        acme_pit_save_count(f, s, n);
    }
""",
    ).replace(
        "static void acme_pit_save(",
        "static void acme_pit_save_count(QEMUFile *f, AcmePITState *s, int n)\n"
        "{\n    qemu_put_be16(f, s->count[n]);\n}\n\nstatic void acme_pit_save(",
    )
    assert _facts(SAVE_LOAD, new) == []


def test_new_load_branch_for_a_newer_version_is_silent() -> None:
    new = SAVE_LOAD.replace("    return 0;\n}", NEWER_BRANCH)
    assert _facts(SAVE_LOAD, new) == []


def test_element_gated_on_both_sides_is_silent() -> None:
    new = SAVE_LOAD.replace(
        "    qemu_put_be64(f, s->next_tick);\n",
        "    qemu_put_be64(f, s->next_tick);\n    if (s->migrate_gate) {\n"
        "        qemu_put_byte(f, s->gate);\n    }\n",
    ).replace(
        "    return 0;\n}",
        "    if (s->migrate_gate) {\n        s->gate = qemu_get_byte(f);\n    }\n    return 0;\n}",
    )
    assert _facts(SAVE_LOAD, new) == []


def test_opaque_helper_swapped_for_inline_code_is_not_judged() -> None:
    old = SAVE_LOAD.replace(
        "    qemu_put_be64(f, s->next_tick);\n", "    timer_save_state(f, s->timer);\n"
    )
    assert _facts(old, SAVE_LOAD) == []


CORE_OLD = """
static SaveState savevm_state;

void qemu_savevm_state_header(QEMUFile *f)
{
    qemu_put_be32(f, QEMU_VM_FILE_MAGIC);
    qemu_put_be32(f, QEMU_VM_FILE_VERSION);
}
"""

CORE_NEW = """
static SaveState savevm_state;

void savevm_skip_runstate(void)
{
    savevm_state.skip_runstate = true;
}

void qemu_savevm_state_header(QEMUFile *f)
{
    qemu_put_be32(f, QEMU_VM_FILE_MAGIC);
    qemu_put_be32(f, QEMU_VM_FILE_VERSION);
    if (!savevm_state.skip_runstate) {
        qemu_put_byte(f, QEMU_VM_RUNSTATE);
        vmstate_save_state(f, &vmstate_runstate, &savevm_state, NULL);
    }
}
"""

PC = "static void pc_i440fx_machine_2_3_options(MachineClass *m)\n"
PC += "{\n    savevm_skip_runstate();\n}\n"
PC += "static void pc_i440fx_machine_2_4_options(MachineClass *m)\n{\n}\n"
SPAPR = "static void spapr_machine_2_2_class_options(MachineClass *mc)\n{\n}\n"
SPAPR += "static void spapr_machine_2_3_class_options(MachineClass *mc)\n{\n}\n"


def test_core_element_sent_unless_opted_out_names_the_families_that_do_not() -> None:
    ch = _change(CORE_OLD, CORE_NEW, "migration/savevm.c")
    files = {"hw/i386/pc_piix.c": PC, "hw/ppc/spapr.c": SPAPR}
    [fact] = stream_facts(ch, files.get)
    assert isinstance(fact, F.CoreStreamElementAdded)
    assert fact.families == ("pseries",)
    assert fact.flag == "skip_runstate"


def test_core_element_opted_out_by_every_family_is_silent() -> None:
    ch = _change(CORE_OLD, CORE_NEW, "migration/savevm.c")
    spapr = SPAPR.replace("{\n}\n", "{\n    savevm_skip_runstate();\n}\n", 1)
    files = {"hw/i386/pc_piix.c": PC, "hw/ppc/spapr.c": spapr}
    assert stream_facts(ch, files.get) == []


def test_load_branch_for_old_streams_dropped_without_refusal_is_a_misread() -> None:
    new = SAVE_LOAD.replace(
        "    if (version_id >= 2) {\n        s->next_tick = qemu_get_be64(f);\n    }\n",
        "    s->next_tick = qemu_get_be64(f);\n",
    )
    [fact] = _facts(SAVE_LOAD, new)
    assert isinstance(fact, F.StreamChanged)
    assert fact.function == "acme_pit_load"
    assert "streams of version 1" in fact.what


def test_load_branch_for_old_streams_dropped_with_a_refusal_is_cleanup() -> None:
    new = SAVE_LOAD.replace(
        "    if (version_id >= 2) {\n        s->next_tick = qemu_get_be64(f);\n    }\n",
        "    s->next_tick = qemu_get_be64(f);\n",
    ).replace(
        "    s->mode = qemu_get_be32(f);\n",
        "    if (version_id < 2) {\n        return -EINVAL;\n    }\n"
        "    s->mode = qemu_get_be32(f);\n",
    )
    assert _facts(SAVE_LOAD, new) == []


def test_load_brought_back_in_line_with_the_save_is_a_fix_and_silent() -> None:
    broken = SAVE_LOAD.replace("s->mode = qemu_get_be32(f);", "s->mode = qemu_get_be16(f);")
    assert _facts(broken, SAVE_LOAD) == []


CONVERTED = SAVE_LOAD.replace(
    "    qemu_put_be64(f, s->next_tick);\n",
    "    vmstate_save_state(f, &vmstate_acme_pit_tick, s, NULL);\n",
).replace(
    "static void acme_pit_save(",
    """static const VMStateDescription vmstate_acme_pit_tick = {
    .name = "acme-pit/tick",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(next_tick, AcmePITState),
        VMSTATE_END_OF_LIST()
    }
};

static void acme_pit_save(""",
)


def _with_models(old: str, new: str) -> list[F.Fact]:
    models = {PATH: (scan_c(old, PATH), scan_c(new, PATH))}
    return stream_facts(_change(old, new), None, models)


def test_puts_moved_into_a_vmsd_with_the_same_bytes_are_silent() -> None:
    assert _with_models(SAVE_LOAD, CONVERTED) == []


def test_puts_moved_into_a_vmsd_that_lost_one_are_reported() -> None:
    old = SAVE_LOAD.replace(
        "    qemu_put_be64(f, s->next_tick);\n",
        "    qemu_put_be64(f, s->next_tick);\n    qemu_put_be32(f, s->latch);\n",
    ).replace("    return 0;\n}", "    s->latch = qemu_get_be32(f);\n    return 0;\n}")
    [fact] = _with_models(old, CONVERTED)
    assert isinstance(fact, F.StreamChanged)
    assert "`qemu_put_be32(f, s->latch)` removed" in fact.what
