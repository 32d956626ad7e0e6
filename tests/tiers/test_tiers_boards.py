"""Machine types read from C: versioned families and plain boards."""

from __future__ import annotations

from bot.tiers.boards import Machine, machine_type_macros, scan_machines


def test_pc_family_through_define_pc_ver_machine() -> None:
    text = """
#define DEFINE_Q35_MACHINE(major, minor) \\
    DEFINE_PC_VER_MACHINE(pc_q35, "pc-q35", pc_q35_init, false, NULL, major, minor);
#define DEFINE_Q35_MACHINE_AS_LATEST(major, minor) \\
    DEFINE_PC_VER_MACHINE(pc_q35, "pc-q35", pc_q35_init, true, "q35", major, minor);
DEFINE_Q35_MACHINE_AS_LATEST(10, 2)
DEFINE_Q35_MACHINE(10, 1)
DEFINE_Q35_MACHINE_BUGFIX(6, 1, 1)
/* DEFINE_Q35_MACHINE(99, 0) is only a comment */
"""
    assert scan_machines(text, {}) == (Machine("pc-q35", versioned=True, latest="10.2"),)


def test_ver_type_name_family_and_abstract_parent_skipped() -> None:
    text = """
#define DEFINE_VIRT_MACHINE_IMPL(latest, ...) \\
    static const TypeInfo MACHINE_VER_SYM(info, virt, __VA_ARGS__) = { \\
        .name = MACHINE_VER_TYPE_NAME("virt", __VA_ARGS__), \\
        .parent = TYPE_VIRT_MACHINE, \\
    };
static const TypeInfo virt_machine_info = {
    .name = TYPE_VIRT_MACHINE,
    .parent = TYPE_MACHINE,
    .abstract = true,
};
DEFINE_VIRT_MACHINE_AS_LATEST(11, 0)
DEFINE_VIRT_MACHINE(10, 2)
"""
    macros = machine_type_macros(['#define TYPE_VIRT_MACHINE MACHINE_TYPE_NAME("virt")\n'])
    assert scan_machines(text, macros) == (Machine("virt", versioned=True, latest="11.0"),)


def test_plain_machines() -> None:
    text = """
DEFINE_MACHINE_ARM("musicpal", musicpal_machine_init)
DEFINE_PC_MACHINE(isapc, "isapc", pc_init_isa, isapc_machine_options);
static const TypeInfo types[] = {
    {
        .name = MACHINE_TYPE_NAME("raspi2b"),
        .parent = TYPE_RASPI_MACHINE,
    }, {
        .name = TYPE_MICROVM_MACHINE,
        .parent = TYPE_X86_MACHINE,
    }, {
        .name = TYPE_RASPI_MACHINE,
        .parent = TYPE_MACHINE,
        .abstract = true,
    },
};
"""
    macros = machine_type_macros(
        [
            '#define TYPE_MICROVM_MACHINE \\\n    MACHINE_TYPE_NAME("microvm")\n',
            '#define TYPE_RASPI_MACHINE MACHINE_TYPE_NAME("raspi-common")\n',
        ]
    )
    names = [m.display for m in scan_machines(text, macros)]
    assert names == ["isapc", "microvm", "musicpal", "raspi2b"]


def test_a_device_file_defines_no_machine() -> None:
    text = """
static const TypeInfo e1000_info = {
    .name = TYPE_E1000,
    .parent = TYPE_PCI_DEVICE,
};
"""
    assert scan_machines(text, {}) == ()
