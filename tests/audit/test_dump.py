"""VMSDs from source in the shape of QEMU's -dump-vmstate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.audit.dump import dump_size, dump_vmstate
from bot.audit.dumptree import MachineNotFoundError, dump_tree, machine_matches
from bot.audit.index import TreeIndex
from bot.audit.walk import scan_tree
from bot.compare.dumps import compare_dumps
from bot.scanner.model import FieldModel
from bot.sources.gitrepo import GitRepo

from .qemutree import Repo


@pytest.fixture(scope="module")
def dumped(tree: Repo) -> dict[str, Any]:
    return dump_tree(tree.path, "HEAD", jobs=1).data


def test_one_section_per_device_type_with_a_vmsd_inherited_ones_too(
    dumped: dict[str, Any],
) -> None:
    assert next(iter(dumped)) == "vmschkmachine"
    assert dumped["vmschkmachine"] == {"Name": "none"}
    assert sorted(dumped)[:-1] == [
        "acme-bridge",
        "acme-bridge-x2",
        "acme-card",
        "acme-mii",
        "acme-sd-isa",
        "acme-sd-pci",
        "acme-uart",
        "acme-uart-16",
    ]
    bridge = dumped["acme-bridge"]
    assert bridge["Name"] == "acme-bridge"
    assert dumped["acme-bridge-x2"]["Description"] == bridge["Description"]
    assert (bridge["version_id"], bridge["minimum_version_id"]) == (1, 1)
    # dc->vmsd set by a helper of another file that the class_init calls.
    assert dumped["acme-sd-pci"]["Description"]["name"] == "acme-sd"


def test_fields_read_as_qemu_prints_them(dumped: dict[str, Any]) -> None:
    fields = dumped["acme-bridge"]["Description"]["Fields"]
    assert [f["field"] for f in fields] == ["parent_obj", "secondary_bus", "timer"]  # no VALIDATE
    parent, bus, timer = fields
    assert parent["size"] is None  # sizeof(PCIDevice): not in the source
    assert parent["Description"]["name"] == "PCIDevice"  # extern, from hw/pci/pci.c
    assert parent["Description"]["Fields"] == [
        {"field": "config", "version_id": 0, "field_exists": False, "num": 64, "size": 4}
    ]
    assert bus == {"field": "secondary_bus", "version_id": 0, "field_exists": False, "size": 4}
    assert timer["size"] == 48  # sizeof(QEMUTimer) on a 64-bit host, as a real dump has it


def test_subsections_with_resolved_names(dumped: dict[str, Any]) -> None:
    card = dumped["acme-card"]["Description"]
    assert card["name"] == "acme-card"
    assert [s["name"] for s in card["Subsections"]] == [
        "acme-card/mode",
        "acme-card/mode",
        "acmecard/extra",
    ]
    uart = dumped["acme-uart"]["Description"]
    assert [s["name"] for s in uart["Subsections"]] == [
        "acme-uart/old",
        "acme-uart/fifo",
        "acme-uart/irq",
    ]
    assert uart["Subsections"][1]["Fields"][0]["num"] == 16


def test_dump_of_the_old_release_against_head(tree: Repo) -> None:
    git = GitRepo(tree.path)
    old = dump_vmstate(_index(git, "HEAD~1")).data
    new = dump_vmstate(_index(git, "HEAD")).data
    assert "acme-uart" not in old  # no TypeInfo in 9.0.0: no section either
    assert compare_dumps(old, new) == []


def test_sizes_known_from_the_source_only() -> None:
    def field(size_expr: str | None, size: int | None = None) -> FieldModel:
        return FieldModel("VMSTATE_X", (), 1, "x", size=size, size_expr=size_expr)

    assert dump_size(field(None, 4)) == 4
    assert dump_size(field("sizeof(QEMUTimer *)", 8)) == 8
    assert dump_size(field("sizeof(struct FooState)")) is None
    assert dump_size(field("sizeof(target_ulong)")) is None
    assert dump_size(field("sizeof(target_ulong)"), 32) == 4


def test_machine_names_match_their_family() -> None:
    assert machine_matches("pc-q35-7.2", "pc-q35", True)
    assert machine_matches("virt", "virt", False)
    assert not machine_matches("pc-q35-7.2", "pc-q35", False)
    assert not machine_matches("pc-q35-foo", "pc-q35", True)


def test_a_machine_no_board_defines_is_refused(tree: Repo) -> None:
    with pytest.raises(MachineNotFoundError, match=r"pc-q35-9\.0"):
        dump_tree(tree.path, "HEAD", machine="pc-q35-9.0", jobs=1)


def test_cli_writes_the_dump_and_its_notes(tree: Repo, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from bot.cli import main

    out = tmp_path / "dump.json"
    result = CliRunner().invoke(
        main, ["dump", "--repo", str(tree.path), "--rev", "HEAD", "-o", str(out), "-j", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "acme-card" in json.loads(out.read_text())
    assert "every device type of the tree" in result.stderr
    bad = CliRunner().invoke(main, ["dump", "--repo", str(tree.path), "--rev", "nope"])
    assert bad.exit_code == 2
    assert "unknown revision" in bad.stderr


def _index(git: GitRepo, rev: str) -> TreeIndex:
    scan = scan_tree(git, rev, jobs=1)
    return TreeIndex.build(scan.models, scan.strings)
