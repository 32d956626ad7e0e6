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


def test_families_in_the_older_styles() -> None:
    # Before QEMU 9.1 the version was in a string, and the family in the macro body.
    spapr = """
#define DEFINE_SPAPR_MACHINE(suffix, verstr, latest)                 \\
    static const TypeInfo spapr_machine_##suffix##_info = {          \\
        .name = MACHINE_TYPE_NAME("pseries-" verstr),                \\
    };
DEFINE_SPAPR_MACHINE(7_0, "7.0", true);
DEFINE_SPAPR_MACHINE(6_2, "6.2", false);
DEFINE_SPAPR_MACHINE(2_12_sxxm, "2.12-sxxm", false);
"""
    assert scan_machines(spapr, {}) == (Machine("pseries", versioned=True, latest="7.0"),)
    virt = """
#define DEFINE_VIRT_MACHINE(major, minor, latest) \\
    static const TypeInfo machvirt_##major##_##minor##_info = { \\
        .name = MACHINE_TYPE_NAME("virt-" # major "." # minor), \\
    };
DEFINE_VIRT_MACHINE(7, 0, true)
DEFINE_VIRT_MACHINE(6, 2, false)
"""
    assert scan_machines(virt, {}) == (Machine("virt", versioned=True, latest="7.0"),)
    piix = """
DEFINE_I440FX_MACHINE(v7_0, "pc-i440fx-7.0", NULL, pc_i440fx_7_0_machine_options);
DEFINE_I440FX_MACHINE(v6_2, "pc-i440fx-6.2", NULL, pc_i440fx_6_2_machine_options);
DEFINE_I440FX_MACHINE(v1_4, "pc-i440fx-1.4", NULL, pc_i440fx_1_4_machine_options);
DEFINE_PC_MACHINE(isapc, "isapc", pc_init_isa, isapc_machine_options);
DEFINE_PC_MACHINE(xenfv_4_2, "xenfv-4.2", pc_xen_hvm_init, xenfv_4_2_machine_options);
DEFINE_PC_MACHINE(xenfv_3_1, "xenfv-3.1", pc_xen_hvm_init, xenfv_3_1_machine_options);
"""
    # Two xenfv versions are two machines; a family needs three.
    assert [m.display for m in scan_machines(piix, {})] == [
        "isapc",
        "pc-i440fx-*",
        "xenfv-3.1",
        "xenfv-4.2",
    ]


def test_qemumachine_initializers_before_2_5() -> None:
    text = """
static QEMUMachine acme_v2_0 = {
    .name = "acme-pc-2.0",
    .alias = "acme-pc",
    .init = acme_init,
};
static QEMUMachine acme_v1_7 = { .name = "acme-pc-1.7", .init = acme_init };
static QEMUMachine acme_v1_6 = { .name = "acme-pc-1.6", .init = acme_init };
static QEMUMachine acme_isa = {
    .name = "acme-isa",
    .init = acme_isa_init,
};
"""
    assert scan_machines(text, {}) == (
        Machine("acme-isa"),
        Machine("acme-pc", versioned=True, latest="2.0"),
    )


def test_mc_name_versions_of_a_known_family_are_versioned_from_the_first() -> None:
    text = """
static void acme_2_1_class_init(ObjectClass *oc, void *data)
{
    MachineClass *mc = MACHINE_CLASS(oc);
    mc->name = "acmeseries-2.1";
}
"""
    assert scan_machines(text, {}) == (Machine("acmeseries-2.1"),)
    assert scan_machines(text, {}, ["acmeseries"]) == (
        Machine("acmeseries", versioned=True, latest="2.1"),
    )


def test_mc_name_through_a_plain_type_macro() -> None:
    text = """
#define TYPE_ACME_MACHINE "acme"
static void acme_class_init(ObjectClass *oc, void *data)
{
    MachineClass *mc = MACHINE_CLASS(oc);
    mc->name = TYPE_ACME_MACHINE;
}
"""
    assert scan_machines(text, {}) == (Machine("acme"),)


def test_a_device_typeinfo_with_a_literal_name_is_no_machine() -> None:
    text = """
static const TypeInfo acme_uart_info = {
    .name = "acme-uart-2.0",
    .parent = TYPE_SYS_BUS_DEVICE,
};
"""
    assert scan_machines(text, {}) == ()
