"""Dump comparison: every check of scripts/vmstate-static-checker.py, and two more."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.audit.dumpreport import issues_to_report
from bot.cli import main
from bot.compare.dumps import DumpIssue, compare_dumps, upstream_lines
from bot.findings import Severity, Tier


def field(name: str, size: int, version: int = 0, **extra: Any) -> dict[str, Any]:
    return {"field": name, "version_id": version, "field_exists": False, "size": size, **extra}


def desc(name: str, fields: list[dict[str, Any]], version: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "version_id": version,
        "minimum_version_id": 1,
        "Fields": fields,
        **extra,
    }


def section(name: str, description: dict[str, Any]) -> dict[str, Any]:
    return {
        "Name": name,
        "version_id": description["version_id"],
        "minimum_version_id": description["minimum_version_id"],
        "Description": description,
    }


KBD = desc(
    "acme-kbd",
    [field("status", 1), field("mode", 1), field("keycodes", 4, num=16)],
    Subsections=[desc("acme-kbd/leds", [field("leds", 1)])],
)
NIC = desc(
    "acme-nic",
    [
        field("parent_obj", 256, Description=desc("PCIDevice", [field("config", 4, num=64)])),
        field("ctrl", 4),
        field("unused", 4),
        field("status", 4),
    ],
    version=3,
)
BASE: dict[str, Any] = {
    "vmschkmachine": {"Name": "pc-q35-9.0"},
    "acme-kbd": section("acme-kbd", KBD),
    "acme-nic": section("acme-nic", NIC),
}


def changed(edit: Any) -> dict[str, Any]:
    dump = copy.deepcopy(BASE)
    edit(dump)
    return dump


def kinds(issues: list[DumpIssue]) -> list[tuple[str, str, str | None]]:
    return [(i.kind, i.section, i.field) for i in issues]


def test_identical_dumps_have_no_issue() -> None:
    assert compare_dumps(BASE, copy.deepcopy(BASE)) == []


def test_section_missing_and_renamed_sections() -> None:
    dst = changed(lambda d: d.pop("acme-kbd"))
    assert kinds(compare_dumps(BASE, dst)) == [("section-missing", "acme-kbd", None)]
    # A section renamed in QEMU's history is looked up under its other name.
    src = {"e1000-82540em": section("e1000", desc("e1000", [field("a", 4)]))}
    dst = {"e1000": section("e1000", desc("e1000", [field("a", 4)]))}
    assert compare_dumps(src, dst) == []


def test_versions() -> None:
    def lower(d: dict[str, Any]) -> None:
        d["acme-nic"]["version_id"] = 2
        d["acme-nic"]["Description"]["version_id"] = 2
        d["acme-kbd"]["Description"]["minimum_version_id"] = 2

    issues = compare_dumps(BASE, changed(lower))
    assert [(i.kind, i.section, i.description, i.src, i.dst) for i in issues] == [
        ("minimum-version", "acme-kbd", "acme-kbd", 1, 2),
        ("version", "acme-nic", None, 3, 2),
        ("version", "acme-nic", "acme-nic", 3, 2),
    ]


def test_fields_removed_reordered_resized() -> None:
    fields = lambda d: d["acme-kbd"]["Description"]["Fields"]  # noqa: E731
    removed = changed(lambda d: fields(d).pop(1))
    (issue,) = compare_dumps(BASE, removed)
    assert (issue.kind, issue.field, issue.dst, issue.what) == (
        "field-mismatch",
        "mode",
        "keycodes",
        "removed",
    )
    fewer = changed(lambda d: fields(d).pop())
    assert kinds(compare_dumps(BASE, fewer)) == [("fields-exhausted", "acme-kbd", "keycodes")]
    swapped = changed(lambda d: fields(d).reverse())
    assert compare_dumps(BASE, swapped)[0].what == "reordered"
    resized = changed(lambda d: fields(d)[1].update(size=2))
    assert [(i.kind, i.field, i.src, i.dst) for i in compare_dumps(BASE, resized)] == [
        ("size", "mode", 1, 2)
    ]


def test_unused_padding_is_matched_by_size() -> None:
    nic = lambda d: d["acme-nic"]["Description"]["Fields"]  # noqa: E731
    # The source's 4 padding bytes became two 2-byte fields: same wire.
    split = changed(lambda d: nic(d).__setitem__(slice(2, 3), [field("a", 2), field("b", 2)]))
    assert compare_dumps(BASE, split) == []
    # ... or a 1-byte and a 2-byte one: one byte short of the padding, then misaligned.
    short = changed(lambda d: nic(d).__setitem__(slice(2, 3), [field("a", 1), field("b", 2)]))
    assert kinds(compare_dumps(BASE, short)) == [("unused-size", "acme-nic", "status")]
    # A field replaced by padding of its size keeps the stream.
    padded = changed(lambda d: nic(d).__setitem__(1, field("unused", 4)))
    assert compare_dumps(BASE, padded) == []


def test_nested_descriptions() -> None:
    nic = lambda d: d["acme-nic"]["Description"]["Fields"][0]  # noqa: E731
    gone = changed(lambda d: nic(d).pop("Description"))
    assert kinds(compare_dumps(BASE, gone)) == [
        ("field-missing-description", "acme-nic", "parent_obj")
    ]
    renamed = changed(lambda d: nic(d)["Description"].update(name="PCIEDevice"))
    assert [i.kind for i in compare_dumps(BASE, renamed)] == ["description-mismatch"]
    # A field moved into a struct of the destination, same wire: allowed.
    src = {"s": section("mch", desc("mch", [field("d", 4), field("x", 1)]))}
    inner = desc("PCIDevice", [field("parent_obj", 4)])
    dst = {"s": section("mch", desc("mch", [field("d", 4, Description=inner), field("x", 1)]))}
    dst["s"]["Description"]["Fields"][0] = field("parent_obj", 4, Description=inner)
    assert compare_dumps(src, dst) == []


def test_entries_and_subsections() -> None:
    no_fields = changed(lambda d: d["acme-kbd"]["Description"].pop("Fields"))
    assert [(i.kind, i.what) for i in compare_dumps(BASE, no_fields)] == [
        ("description-entry-missing", "Fields")
    ]
    no_desc = changed(lambda d: d["acme-kbd"].pop("Description"))
    assert [(i.kind, i.what) for i in compare_dumps(BASE, no_desc)] == [
        ("section-entry-missing", "Description")
    ]
    sub = lambda d: d["acme-kbd"]["Description"]["Subsections"]  # noqa: E731
    renamed = changed(lambda d: sub(d)[0].update(name="acme-kbd/led"))
    assert [(i.kind, i.field, i.upstream) for i in compare_dumps(BASE, renamed)] == [
        ("subsection-missing", "acme-kbd/leds", True),
        ("subsection-added", "acme-kbd/led", False),
    ]


def test_what_the_upstream_checker_misses() -> None:
    kbd = lambda d: d["acme-kbd"]["Description"]  # noqa: E731
    appended = changed(lambda d: kbd(d)["Fields"].append(field("scancode_set", 4)))
    (issue,) = compare_dumps(BASE, appended)
    assert (issue.kind, issue.field, issue.upstream) == ("field-added", "scancode_set", False)
    # At a version the source does not send, or behind a test: versioning, no issue.
    versioned = changed(lambda d: kbd(d)["Fields"].append(field("scancode_set", 4, version=2)))
    assert compare_dumps(BASE, versioned) == []
    tested = changed(
        lambda d: kbd(d)["Fields"].append(field("scancode_set", 4) | {"field_exists": True})
    )
    assert compare_dumps(BASE, tested) == []
    new_sub = changed(lambda d: kbd(d)["Subsections"].append(desc("acme-kbd/typematic", [])))
    assert kinds(compare_dumps(BASE, new_sub)) == [
        ("subsection-added", "acme-kbd", "acme-kbd/typematic")
    ]


def test_sizes_unknown_in_a_dump_from_source_are_not_compared() -> None:
    unknown = changed(lambda d: d["acme-kbd"]["Description"]["Fields"][1].update(size=None))
    assert compare_dumps(BASE, unknown) == []


def test_a_renamed_array_index_is_passed_and_the_rest_still_compared() -> None:
    def edit(d: dict[str, Any]) -> None:
        fields = d["acme-kbd"]["Description"]["Fields"]
        fields[2]["field"] = "keycodes"
        fields[1]["field"] = "mode[MODE_ALL]"

    src = changed(lambda d: d["acme-kbd"]["Description"]["Fields"][1].update(field="mode[0]"))
    dst = changed(edit)
    dst["acme-kbd"]["Description"]["Fields"][2]["size"] = 2
    issues = compare_dumps(src, dst)
    assert [(i.kind, i.what) for i in issues] == [("field-mismatch", "renamed"), ("size", None)]
    report = issues_to_report(issues, src_name="a.json", dst_name="b.json")
    assert [f.rule_id for f in report.findings] == ["MIG004"]  # the size, not the rename


def test_findings_use_the_catalogue_at_the_chosen_tier() -> None:
    dst = changed(lambda d: d.pop("acme-kbd"))
    dst["acme-nic"]["Description"]["Fields"].pop(1)
    issues = compare_dumps(BASE, dst)
    report = issues_to_report(issues, src_name="old.json", dst_name="new.json")
    assert [(f.rule_id, f.severity) for f in report.findings] == [
        ("MIG035", Severity.ERROR),
        ("MIG002", Severity.ERROR),
    ]
    assert all(f.path == "new.json" and f.line is None for f in report.findings)
    # ctrl's bytes line up with the padding that follows it, as upstream matches
    # them: the field the destination lacks shows up at the end.
    assert report.findings[1].message == (
        "acme-nic: field 'status' (4 bytes) removed from 'acme-nic' "
        "without a VMSTATE_UNUSED in its place"
    )
    loose = issues_to_report(issues, src_name="o", dst_name="n", tier=Tier.BEST_EFFORT)
    assert loose.findings[0].severity is Severity.NOTICE


def test_upstream_wording() -> None:
    dst = changed(lambda d: d["vmschkmachine"].update(Name="pc-q35-9.1"))
    dst["acme-kbd"]["Description"]["Fields"][1]["size"] = 2
    assert upstream_lines(compare_dumps(BASE, dst)) == [
        'Warning: checking incompatible machine types: "pc-q35-9.0", "pc-q35-9.1"',
        'Section "acme-kbd" Description "acme-kbd" Field "mode" size mismatch: 1 , 2',
    ]


@pytest.fixture
def dumps(tmp_path: Path) -> tuple[Path, Path, Path]:
    same, other, broken = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    same.write_text(json.dumps(BASE))
    other.write_text(json.dumps(changed(lambda d: d.pop("acme-nic"))))
    broken.write_text("{ not json")
    return same, other, broken


def test_cli_exit_codes(dumps: tuple[Path, Path, Path]) -> None:
    same, other, broken = dumps
    runner = CliRunner()
    ok = runner.invoke(main, ["compare", str(same), str(same)])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(main, ["compare", str(same), str(other)])
    assert bad.exit_code == 1
    assert "MIG035 dump-section-missing" in bad.stdout
    # The other way round, the destination has more: nothing breaks.
    back = runner.invoke(main, ["compare", "--reverse", str(same), str(other)])
    assert back.exit_code == 0
    assert runner.invoke(main, ["compare", str(same), str(broken)]).exit_code == 2
    assert runner.invoke(main, ["compare", str(same), "/nonexistent.json"]).exit_code == 2
    up = runner.invoke(main, ["compare", str(same), str(other), "--format", "upstream"])
    assert up.stdout == 'Section "acme-nic" does not exist in dest\n'
    as_json = runner.invoke(main, ["compare", str(same), str(other), "--format", "json"])
    data = json.loads(as_json.stdout)
    assert data["findings"][0]["rule_id"] == "MIG035"
    never = runner.invoke(main, ["compare", str(same), str(other), "--fail-on", "never"])
    assert never.exit_code == 0
    odd = same.with_name("odd.json")
    broken_desc = {"name": "acme-kbd", "version_id": 1, "Fields": 3}
    odd.write_text(json.dumps({"acme-kbd": {"version_id": 1, "Description": broken_desc}}))
    shape = runner.invoke(main, ["compare", str(same), str(odd)])
    assert shape.exit_code == 2
    assert "not a vmstate dump" in shape.stderr
