"""QEMU's Kconfig dialect: parsing, minikconf's precedence, evaluation, explanations."""

from __future__ import annotations

import pytest

from bot.tiers.kconfig import (
    And,
    ConfigInput,
    Explainer,
    Kconfig,
    KconfigError,
    Not,
    Or,
    Sym,
    evaluate,
    evaluate_one,
    parse_assignments,
    parse_expr,
    parse_kconfig,
)


def kc_from(text: str, **more: str) -> Kconfig:
    files = {"Kconfig": text, **{k.replace("__", "/"): v for k, v in more.items()}}
    return parse_kconfig(files.get)


def test_or_binds_tighter_than_and() -> None:
    # minikconf: expr = disj ('&&' disj)*, disj = primary ('||' primary)*
    assert parse_expr("A && B || C") == And(Sym("A"), Or(Sym("B"), Sym("C")))
    assert parse_expr("A || B && C") == And(Or(Sym("A"), Sym("B")), Sym("C"))
    assert parse_expr("!A || (B && C)") == Or(Not(Sym("A")), And(Sym("B"), Sym("C")))


def test_precedence_changes_the_value() -> None:
    kc = kc_from(
        """
config A
    bool
config C
    bool
config TRAP
    bool
    default y
    depends on A && B || C
"""
    )
    # With C-like precedence (A && B) || C would be true; minikconf says A && (B || C).
    on = evaluate_one(kc, ConfigInput({"A": False, "C": True}))
    assert "TRAP" not in on
    on = evaluate_one(kc, ConfigInput({"A": True, "C": True}))
    assert "TRAP" in on


def test_select_imply_depends_default_if() -> None:
    kc = kc_from(
        """
config BOARD
    bool
    default y
    depends on ARCH
    select SEL
    select SEL_IF if ARCH
    imply IMP

config ARCH
    bool

config SEL
    bool
config SEL_IF
    bool
config IMP
    bool
    depends on ARCH
config DEF
    bool
    default y if IMP
config NODEP
    bool
    default y
    depends on MISSING
"""
    )
    on = evaluate_one(kc, ConfigInput({"ARCH": True}))
    assert {"BOARD", "SEL", "SEL_IF", "IMP", "DEF"} <= on
    assert "NODEP" not in on
    # Without the architecture the board's own dependency fails: nothing follows.
    assert evaluate_one(kc, ConfigInput({})) & {"BOARD", "SEL", "IMP", "DEF"} == frozenset()


def test_imply_yields_to_an_assignment_select_does_not() -> None:
    kc = kc_from(
        """
config B
    bool
    default y
    select S
    imply I
config S
    bool
config I
    bool
"""
    )
    on = evaluate_one(kc, ConfigInput({"S": False, "I": False}))
    assert "I" not in on  # a device config can switch an implied symbol off
    assert "S" in on  # a select wins (minikconf would call it a contradiction)


def test_first_true_default_wins_in_parse_order() -> None:
    kc = kc_from(
        """
config X
    bool
    default n if A
    default y
config A
    bool
"""
    )
    assert "X" not in evaluate_one(kc, ConfigInput({"A": True}))
    assert "X" in evaluate_one(kc, ConfigInput({}))


def test_many_configurations_at_once_with_suppress_and_reach() -> None:
    kc = kc_from(
        """
config ARCH
    bool
    select COMMON
config B1
    bool
    default y
    select D1
config B2
    bool
    default y
    imply D2
config D1
    bool
config D2
    bool
config COMMON
    bool
"""
    )
    v = evaluate(
        kc,
        [
            ConfigInput({"ARCH": True}),
            ConfigInput({"ARCH": True, "B1": True}, frozenset({"B2"}), frozenset({"B1"})),
            ConfigInput({"ARCH": True, "B2": True}, frozenset({"B1"}), frozenset({"B2"})),
        ],
    )
    assert v.enabled(0) >= {"B1", "B2", "D1", "D2"}
    assert v.enabled(1) >= {"B1", "D1"} and not v.enabled(1) & {"B2", "D2"}
    assert v.enabled(2) >= {"B2", "D2"} and not v.enabled(2) & {"B1", "D1"}
    # COMMON is on everywhere, but no board brings it.
    assert v.mask("COMMON") == 0b111
    assert v.reach.get("COMMON", 0) == 0
    assert v.reach["D1"] == 0b010 and v.reach["D2"] == 0b100


def test_explainer_gives_the_shortest_chain() -> None:
    kc = kc_from(
        """
config BOARD
    bool
    select MID
    imply DEVS
config MID
    bool
    select LEAF
config DEVS
    bool
config CARD
    bool
    default y if DEVS
config LEAF
    bool
"""
    )
    v = evaluate(kc, [ConfigInput({"BOARD": True})])
    ex = Explainer(kc, v)
    assert [c.phrase() for c in ex.chain(0, ["BOARD"], "LEAF") or []] == [
        "selected by MID",
        "selected by BOARD",
    ]
    assert [c.phrase() for c in ex.chain(0, ["BOARD"], "CARD") or []] == [
        "default y if DEVS",
        "implied by BOARD",
    ]
    assert ex.chain(0, ["BOARD"], "BOARD") == []


def test_source_is_relative_to_the_including_file_and_read_once() -> None:
    kc = kc_from(
        "source hw/Kconfig\nsource hw/Kconfig\n",
        hw__Kconfig="source net/Kconfig\n",
        hw__net__Kconfig="config NIC\n    bool\n",
    )
    assert kc.files == ("Kconfig", "hw/Kconfig", "hw/net/Kconfig")
    assert kc.symbols["NIC"].files == ("hw/net/Kconfig",)


def test_cycles_do_not_hang() -> None:
    kc = kc_from("config A\n    bool\n    select B\nconfig B\n    bool\n    select A\n")
    assert evaluate_one(kc, ConfigInput({"A": True})) >= {"A", "B"}


@pytest.mark.parametrize(
    "text",
    [
        "config\n",
        "config X\n    default maybe\n",
        "config X\n    depends X\n",
        "FOO=y\n",
        "config X\n    bool\n    select\n",
        "config X $\n",
    ],
)
def test_bad_input_names_the_place(text: str) -> None:
    with pytest.raises(KconfigError, match=r"Kconfig:\d+"):
        kc_from(text)


def test_device_config_assignments_and_include() -> None:
    files = {
        "configs/devices/aarch64-softmmu/default.mak": "include ../arm-softmmu/default.mak\n"
        "CONFIG_VMAPPLE=n\n",
        "configs/devices/arm-softmmu/default.mak": "# CONFIG_MUSICPAL=n\nCONFIG_FOO=y\n",
    }
    got = parse_assignments(files.get, "configs/devices/aarch64-softmmu/default.mak")
    assert got == {"FOO": True, "VMAPPLE": False}


def test_missing_source_is_an_error() -> None:
    with pytest.raises(KconfigError, match="cannot read hw/Kconfig"):
        kc_from("source hw/Kconfig\n")
