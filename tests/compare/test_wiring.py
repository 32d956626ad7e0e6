"""Machine options wiring (bot.compare.wiring) on the forms QEMU used over the years.

Each test scans a base and a head text written in QEMU's style and asks what
the change brings: the forms that were right in their day stay silent.
"""

from __future__ import annotations

from bot.compare import facts as F
from bot.compare.context import FileModels
from bot.compare.wiring import wiring_facts
from bot.scanner.macros import fallback_table
from bot.scanner.model import FileModel
from bot.scanner.scan import scan


def _facts(path: str, old: str, new: str, sibling: tuple[str, str] | None = None) -> list[F.Fact]:
    table = fallback_table()
    sib = (
        {True: None, False: None}
        if sibling is None
        else {
            False: scan(sibling[0], "sibling.c", table),
            True: scan(sibling[1], "sibling.c", table),
        }
    )

    def read(_path: str, new_side: bool) -> FileModel | None:
        return sib[new_side]

    fm = FileModels(path=path, old=scan(old, path, table), new=scan(new, path, table))
    return list(wiring_facts(fm, (old, new), read))


def _options(name: str, body: str) -> str:
    """An options function and the macro that defines its machine, as QEMU writes them."""
    family, _, rest = name.partition("_machine_")
    if not rest:
        family, _, rest = name.partition("_")
    version = ", ".join(p for p in rest.split("_") if p.isdigit())
    define = f"DEFINE_{family.upper()}_MACHINE({version});"
    return f"static void {name}(MachineClass *m)\n{{\n{body}}}\n\n{define}\n\n"


BUGFIX = (
    _options("pc_q35_machine_4_1_options", "    pc_q35_machine_options(m);\n")
    + _options(
        "pc_q35_machine_4_0_1_options",
        "    pc_q35_machine_4_1_options(m);\n"
        "    compat_props_add(m->compat_props, hw_compat_4_0, hw_compat_4_0_len);\n",
    )
    + _options("pc_q35_machine_4_0_options", "    pc_q35_machine_4_0_1_options(m);\n")
)


def test_a_bugfix_version_is_a_link_of_the_chain() -> None:
    old = BUGFIX.replace("4_0_1_options(m);\n}", "4_0_1_options(m);\n    m->x = 1;\n}")
    assert _facts("hw/i386/pc_q35.c", old, BUGFIX) == []


def test_a_version_that_skips_its_newer_one_is_reported() -> None:
    new = BUGFIX.replace(
        "    pc_q35_machine_4_0_1_options(m);\n", "    pc_q35_machine_4_1_options(m);\n"
    )
    got = _facts("hw/i386/pc_q35.c", BUGFIX, new)
    assert [(type(f), f.subject) for f in got] == [
        (F.MachineOptionsChainBroken, "pc_q35_machine_4_0_options")
    ]


def test_machines_that_are_no_versioned_family_are_not_a_chain() -> None:
    old = _options("xenfv_machine_4_2_options", "    pc_i440fx_machine_options(m);\n")
    new = old + _options("xenfv_machine_3_1_options", "    pc_i440fx_machine_options(m);\n")
    assert _facts("hw/i386/pc_piix.c", old, new) == []


def test_functions_of_the_macro_era_chain_through_their_macros() -> None:
    old = _options(
        "pc_q35_1_7_machine_options",
        "    pc_q35_machine_options(m);\n    SET_MACHINE_COMPAT(m, PC_COMPAT_1_7);\n",
    )
    new = old + _options(
        "pc_q35_1_6_machine_options",
        "    pc_q35_machine_options(m);\n    SET_MACHINE_COMPAT(m, PC_COMPAT_1_6);\n",
    )
    assert _facts("hw/i386/pc_q35.c", old, new) == []


MACROS = """
#define PC_COMPAT_2_5 \\
    HW_COMPAT_2_5 \\
    {\\
        .driver   = "acme-nic",\\
        .property = "mrg-rxbuf",\\
        .value    = "off",\\
    },

#define PC_COMPAT_2_0 \\
    PC_CPU_MODEL_IDS("2.0.0") \\
    {\\
        .driver   = "acme-uart",\\
        .property = "x-fifo-reset",\\
        .value    = "off",\\
    },
"""


def test_a_placeholder_macro_for_the_latest_version_is_not_reported() -> None:
    new = "#define PC_COMPAT_2_6 \\\n\n" + MACROS
    assert _facts("include/hw/i386/pc.h", MACROS, new) == []


def test_a_family_macro_with_the_wrong_generic_one_is_reported() -> None:
    new = (
        '#define PC_COMPAT_2_6 \\\n    HW_COMPAT_2_5 \\\n    {\\\n        .driver = "a",\\\n'
        '        .property = "b",\\\n        .value = "c",\\\n    },\n' + MACROS
    )
    got = _facts("include/hw/i386/pc.h", MACROS, new)
    assert [(type(f), f.subject) for f in got] == [(F.CompatMacroNotChained, "PC_COMPAT_2_6")]


def test_macros_older_than_the_generic_ones_are_not_judged() -> None:
    old = MACROS.replace('"acme-uart"', '"acme-timer"')
    assert _facts("include/hw/i386/pc.h", old, MACROS) == []


def test_an_array_the_sibling_family_applies_is_missing() -> None:
    def piix(extra: str) -> str:
        return _options(
            "pc_i440fx_machine_10_2_options", "    pc_i440fx_machine_options(m);\n"
        ) + _options(
            "pc_i440fx_machine_10_1_options",
            "    pc_i440fx_machine_10_2_options(m);\n"
            "    compat_props_add(m->compat_props, hw_compat_10_1, hw_compat_10_1_len);\n" + extra,
        )

    q35 = _options("pc_q35_machine_10_2_options", "    pc_q35_machine_options(m);\n") + _options(
        "pc_q35_machine_10_1_options",
        "    pc_q35_machine_10_2_options(m);\n"
        "    compat_props_add(m->compat_props, hw_compat_10_1, hw_compat_10_1_len);\n"
        "    compat_props_add(m->compat_props, pc_compat_10_1, pc_compat_10_1_len);\n",
    )
    both = "    compat_props_add(m->compat_props, pc_compat_10_1, pc_compat_10_1_len);\n"
    got = _facts("hw/i386/pc_piix.c", piix(both), piix(""), sibling=(q35, q35))
    assert [(type(f), f.subject) for f in got] == [
        (F.CompatArrayNotApplied, "pc_i440fx_machine_10_1_options")
    ]
    assert _facts("hw/i386/pc_piix.c", piix(""), piix(both), sibling=(q35, q35)) == []
