"""Class flags of versioned machine types (bot.compare.machinecompat), on the
forms QEMU's machine files use: what a change to an options function does to the
machine types that were released with it."""

from __future__ import annotations

from bot.compare import facts as F
from bot.compare.machinecompat import options_assignments, options_flag_facts
from bot.findings import Side
from tests.harness import file_models

PIIX = "hw/i386/pc_piix.c"


def _options(name: str, body: str, define: str) -> str:
    return f"static void {name}(MachineClass *m)\n{{\n{body}}}\n\n{define}\n\n"


def _piix(v2_7: str, v2_6: str = "") -> str:
    """i440fx machines 2.8 (latest), 2.7 and 2.6, as QEMU wrote them in 2017."""
    return (
        _options(
            "pc_i440fx_2_8_machine_options",
            '    pc_i440fx_machine_options(m);\n    m->alias = "pc";\n    m->is_default = 1;\n',
            'DEFINE_I440FX_MACHINE(v2_8, "pc-i440fx-2.8", NULL, pc_i440fx_2_8_machine_options);',
        )
        + _options(
            "pc_i440fx_2_7_machine_options",
            "    PCMachineClass *pcmc = PC_MACHINE_CLASS(m);\n\n"
            "    pc_i440fx_2_8_machine_options(m);\n"
            "    m->is_default = 0;\n    m->alias = NULL;\n"
            + v2_7
            + "    SET_MACHINE_COMPAT(m, PC_COMPAT_2_7);\n",
            'DEFINE_I440FX_MACHINE(v2_7, "pc-i440fx-2.7", NULL, pc_i440fx_2_7_machine_options);',
        )
        + _options(
            "pc_i440fx_2_6_machine_options",
            "    PCMachineClass *pcmc = PC_MACHINE_CLASS(m);\n\n"
            "    pc_i440fx_2_7_machine_options(m);\n"
            + v2_6
            + "    SET_MACHINE_COMPAT(m, PC_COMPAT_2_6);\n",
            'DEFINE_I440FX_MACHINE(v2_6, "pc-i440fx-2.6", NULL, pc_i440fx_2_6_machine_options);',
        )
    )


READER = (
    "static void pc_cpus_init(PCMachineState *pcms)\n"
    "{\n    if (pcmc->legacy_cpu_hotplug) {\n    }\n}\n\n"
)


def _facts(old: str, new: str, entries: set[tuple[int, int]] | None = None) -> list[F.Fact]:
    fm = file_models(READER + old, READER + new, PIIX)
    return list(
        options_flag_facts(fm, (READER + old, READER + new), entries or set(), lambda _m: True)
    )


def test_options_assignments_know_the_newest_version_of_each_family() -> None:
    got = options_assignments(_piix("    pcmc->legacy_cpu_hotplug = true;\n"))
    flags = {(a.function, a.member): a.newest for a in got}
    assert flags[("pc_i440fx_2_7_machine_options", "legacy_cpu_hotplug")] is False
    assert flags[("pc_i440fx_2_8_machine_options", "alias")] is True


def test_a_flag_removed_from_an_older_version_is_reported_on_the_old_line() -> None:
    old = _piix("    pcmc->legacy_cpu_hotplug = true;\n")
    got = _facts(old, _piix(""))
    assert len(got) == 1
    f = got[0]
    assert isinstance(f, F.MachineCompatDropped)
    assert (f.how, f.flag, f.machine, f.side) == (
        "removed",
        "pcmc->legacy_cpu_hotplug",
        "2.7",
        Side.OLD,
    )
    assert "legacy_cpu_hotplug" in old.splitlines()[f.line - 1 - READER.count("\n")]


def test_a_flag_flipped_in_an_older_version_is_reported() -> None:
    got = _facts(
        _piix("    pcmc->smbios_legacy_mode = true;\n"),
        _piix("    pcmc->smbios_legacy_mode = false;\n"),
    )
    assert [(f.how, f.new_value) for f in got if isinstance(f, F.MachineCompatDropped)] == [
        ("inverted", "false")
    ]


def test_the_same_truth_spelt_another_way_is_no_flip() -> None:
    assert (
        _facts(_piix("    pcmc->pci_enabled = 1;\n"), _piix("    pcmc->pci_enabled = true;\n"))
        == []
    )


def test_aliases_and_defaults_moving_between_versions_are_not_compat() -> None:
    old = _piix("")
    new = old.replace("    m->is_default = 0;\n    m->alias = NULL;\n", "")
    assert _facts(old, new) == []


def test_the_newest_version_s_options_are_not_compat() -> None:
    old = _piix("").replace(
        "    m->is_default = 1;\n", "    m->is_default = 1;\n    pcmc->foo = true;\n"
    )
    new = _piix("")
    assert _facts(old, new) == []


def test_a_flag_replaced_by_another_in_the_same_function_is_a_conversion() -> None:
    old = _piix("", "    m->auto_enable_numa_with_memhp = false;\n")
    new = _piix("", "    m->auto_enable_numa_with_memdev = false;\n")
    assert _facts(old, new) == []


def test_a_flag_replaced_by_a_compat_entry_of_its_version_is_a_conversion() -> None:
    old = _piix("    pcmc->legacy_cpu_hotplug = true;\n")
    assert _facts(old, _piix(""), {(2, 7)}) == []
    assert len(_facts(old, _piix(""), {(2, 6)})) == 1


def test_a_flag_nobody_reads_any_more_is_retired_with_its_readers() -> None:
    old = _piix("    pcmc->legacy_cpu_hotplug = true;\n")
    fm = file_models(READER + old, _piix(""), PIIX)
    got = options_flag_facts(fm, (READER + old, _piix("")), set(), lambda _m: False)
    assert list(got) == []


def test_a_version_removed_with_its_flags_is_routine_cleanup() -> None:
    old = _piix("", "    pcmc->legacy_cpu_hotplug = true;\n")
    new = old[: old.index("static void pc_i440fx_2_6_machine_options")]
    assert _facts(old, new) == []


def test_a_flag_moved_to_a_newer_version_is_still_inherited_by_the_older_one() -> None:
    old = _piix("", "    pcmc->phb_placement = phb_placement_2_6;\n")
    new = _piix("    pcmc->phb_placement = phb_placement_2_7;\n", "")
    assert _facts(old, new) == []
