"""The audit holds each Rust device against its C twin (the mini tree's pl011)."""

from __future__ import annotations

from pathlib import Path

from bot.audit.output import audit_to_dict, render_audit
from bot.audit.run import audit
from bot.findings import Severity
from tests.fixtures.minirepo import commit_change, make_template

from .conftest import versioned_bidirectional

RUST = "rust/hw/char/pl011/src/device.rs"


def test_rust_pl011_that_agrees_with_its_c_twin_is_listed_as_agreeing(tmp_path: Path) -> None:
    repo = make_template(tmp_path)
    result = audit(repo.path, "HEAD", tier_of=versioned_bidirectional, jobs=1)
    twins = result.inventory.rust_twins
    assert [(t.name, t.rust_path, t.c_path, t.agrees) for t in twins] == [
        ("pl011", RUST, "hw/char/pl011.c", True)
    ]
    assert not [f for f in result.report.findings if f.path.startswith("rust/")]
    text = render_audit(result.report, result.inventory, "text")
    assert f"pl011    {RUST}: agrees with hw/char/pl011.c" in text
    assert audit_to_dict(result.report, result.inventory)["inventory"]["rust_twins"][0]["agrees"]


def test_rust_pl011_with_a_narrower_register_is_reported_against_its_twin(
    tmp_path: Path,
) -> None:
    repo = make_template(tmp_path)
    text = repo.read(RUST).replace("    pub control: u32,\n", "    pub control: u16,\n")
    commit_change(repo, {RUST: text})
    result = audit(repo.path, "HEAD", tier_of=versioned_bidirectional, jobs=1)
    (twin,) = result.inventory.rust_twins
    assert twin.agrees is False
    assert twin.differences == (
        "pl011: field 3 is cr (4-byte integer) in C, control (2-byte integer) in Rust",
    )
    (finding,) = [f for f in result.report.findings if f.rule_id == "MIG041"]
    assert (finding.path, finding.severity) == (RUST, Severity.ERROR)
    assert "hw/char/pl011.c" in finding.message
    assert "vmstate_of!(PL011Registers, ifl).with_version_id(3)" in finding.fix


QOM = """
unsafe impl ObjectType for PL011Registers {
    type Class = <SysBusDevice as ObjectType>::Class;
    const TYPE_NAME: &'static CStr = c"pl011";
}

impl ObjectImpl for PL011Registers {
    type ParentType = SysBusDevice;
}

impl DeviceImpl for PL011Registers {
    const VMSTATE: Option<VMStateDescription<Self>> = Some(VMSTATE_PL011);
}
"""


def test_dump_has_the_c_device_by_default_and_the_rust_one_with_rust(tmp_path: Path) -> None:
    from bot.audit.dumptree import dump_tree

    repo = make_template(tmp_path)
    commit_change(repo, {RUST: repo.read(RUST) + QOM})
    c_dump = dump_tree(repo.path, "HEAD", jobs=1)
    rust_dump = dump_tree(repo.path, "HEAD", jobs=1, rust=True)

    def fields(data: dict[str, object]) -> list[object]:
        section = data["pl011"]
        assert isinstance(section, dict)
        return [f["field"] for f in section["Description"]["Fields"]]

    assert fields(c_dump.data) == ["flags", "lcr", "cr", "int_enabled", "int_level"]
    assert fields(rust_dump.data) == [
        "flags",
        "line_control",
        "control",
        "int_enabled",
        "int_level",
    ]
    assert "Rust devices in place of their C twins: pl011" in rust_dump.notes
