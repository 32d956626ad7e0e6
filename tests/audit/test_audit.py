"""The whole-tree audit on a QEMU-style tree in a real git repository."""

from __future__ import annotations

import json

import jsonschema

from bot.audit.output import audit_to_dict, render_audit
from bot.audit.run import AuditResult, audit
from bot.findings import Severity, Side, Tier
from bot.report import load_schema

from .qemutree import Repo


def _found(result: AuditResult) -> set[tuple[str, str, str | None]]:
    return {(f.rule_id, f.path, f.subject) for f in result.report.findings}


def test_every_latent_problem_of_the_tree_is_found_and_nothing_else(audited: AuditResult) -> None:
    assert _found(audited) == {
        ("MIG006", "hw/rtc/acme_rtc.c", "wday_offset"),
        ("MIG006", "hw/timer/widget.c", "timer"),
        ("MIG011", "hw/char/acme_uart.c", "acme-uart/fifo"),
        ("MIG013", "hw/misc/acme_card.c", "acmecard/extra"),
        ("MIG014", "hw/misc/acme_card.c", "acme-card/mode"),
        ("MIG026", "hw/misc/acme_list.c", None),
        ("MIG032", "hw/net/acme_mii.c", "AcmeMacState"),
        ("MIG032", "hw/sd/acme_sd.c", "AcmeSdState"),
        ("MIG033", "hw/core/machine.c", "acme-card.x-moed"),
        ("MIG033", "hw/core/machine.c", "acme-gone-device.x-mode"),
        ("MIG034", "hw/misc/acme_plug.c", "acme-pci"),
        ("MIG034", "hw/misc/acme_plug.c", "acme-isa-regs"),
    }


def test_findings_carry_the_catalogue_texts_tier_and_place(audited: AuditResult) -> None:
    by_rule = {f.rule_id: f for f in audited.report.findings}
    widget = next(f for f in audited.report.findings if f.path == "hw/timer/widget.c")
    assert widget.message == (
        "field 'timer' of 'widget' is _V(1) but the VMSD is at version 0: it is never sent"
    )
    assert widget.line == 8 and widget.side is Side.NEW
    assert widget.doc_url.endswith("main.html#versions")
    assert widget.tier is Tier.BIDIRECTIONAL and "pc-q35" in widget.tier_reason
    # A suspicion stays a notice whatever the tier; MIG011 says why it breaks.
    assert by_rule["MIG034"].severity is Severity.NOTICE
    assert "backward" in by_rule["MIG011"].message
    assert by_rule["MIG013"].vmsd == "acme-card"
    mii = next(f for f in audited.report.findings if f.path == "hw/net/acme_mii.c")
    assert mii.message == (
        "field 'phycr (and 1 more fields)' of 'acme-mii' is an offset in AcmeMacState, "
        "while the other fields of this VMSD are in AcmeMiiState (it is the dc->vmsd of acme-mii)"
    )
    sd = next(f for f in audited.report.findings if f.path == "hw/sd/acme_sd.c")
    assert "AcmeSdIsaState (it is the dc->vmsd of acme-sd-isa)" in sd.message
    messages = [f.message for f in audited.report.findings if f.rule_id == "MIG033"]
    assert any("no code of the tree defines a property 'x-moed'" in m for m in messages)


def test_always_sent_subsections_are_judged_against_the_oldest_registered_release(
    audited: AuditResult,
) -> None:
    # acme-uart/old was in 9.0.0 already; acme-uart/irq has a .needed.
    subjects = {f.subject for f in audited.report.findings if f.rule_id == "MIG011"}
    assert subjects == {"acme-uart/fifo"}
    assert any("release 9.0" in note for note in audited.report.notes)


def test_mig011_is_for_bidirectional_devices_only(tree: Repo) -> None:
    forward = audit(tree.path, "HEAD", tier=Tier.FORWARD, jobs=1)
    rules = {f.rule_id for f in forward.report.findings}
    assert "MIG011" not in rules
    # A forced tier names no versioned machine: MIG034 needs one.
    assert "MIG034" not in rules
    assert "MIG006" in rules
    assert all(f.tier is Tier.FORWARD for f in forward.report.findings)
    assert "set with --tier" in forward.report.findings[0].tier_reason


def test_without_history_mig011_is_not_checked_and_the_note_says_so(
    tmp_path_factory: object, tree: Repo
) -> None:
    head = tree.git("rev-parse", "HEAD").strip()
    shallow = tree.path.parent / "shallow"
    tree.git("clone", "-q", "--depth", "1", f"file://{tree.path}", str(shallow))
    result = audit(shallow, head, tier=Tier.BIDIRECTIONAL, jobs=1)
    assert "MIG011" not in {f.rule_id for f in result.report.findings}
    assert any("not in this history" in note for note in result.report.notes)


def test_inventory_counts_the_tree(audited: AuditResult) -> None:
    inv = audited.inventory
    assert inv.total.vmsds == 15
    assert inv.sections == 5  # acme-card, acme-mii, acme-bridge, acme-uart, acme-sd
    assert inv.total.subsections == 6
    assert inv.total.compat_entries == 5
    assert dict(inv.by_tier)["bidirectional"].vmsds == 15
    assert dict(inv.by_directory)["hw/misc"].vmsds == 5
    assert [(c.release, c.array, c.entries) for c in inv.compat_by_release] == [
        ("10.1", "hw_compat_10_1", 2),
        ("9.0", "hw_compat_9_0", 2),
        ("3.1", "hw_compat_3_1", 1),
    ]
    (q35,) = inv.machines
    assert (q35.family, q35.versions, q35.oldest, q35.latest) == ("q35", 4, "3.1", "11.0")


def test_tests_and_files_without_migration_words_are_not_scanned(audited: AuditResult) -> None:
    assert audited.files == 15
    paths = {f.path for f in audited.report.findings}
    assert not any(p.startswith("tests/") for p in paths)


def test_json_is_a_valid_report_with_the_inventory(audited: AuditResult) -> None:
    text = render_audit(audited.report, audited.inventory, "json")
    data = json.loads(text)
    jsonschema.validate(data, load_schema())
    assert data["schema"] == "migbot.report/1"
    assert data["inventory"]["vmsds"] == 15
    assert data["inventory"]["by_tier"][0] == {
        "tier": "bidirectional",
        "files": 9,
        "vmsds": 15,
        "fields": 24,
        "subsections": 6,
        "compat_entries": 5,
    }
    assert len(data["findings"]) == 12
    broken = audit_to_dict(audited.report, audited.inventory)
    broken["inventory"]["surprise"] = 1
    assert not jsonschema.Draft202012Validator(load_schema()).is_valid(broken)


def test_text_and_markdown_show_findings_and_inventory(audited: AuditResult) -> None:
    text = render_audit(audited.report, audited.inventory, "text")
    assert "MIG006 field-version-above-vmsd" in text
    assert "Inventory: 15 VMSDs (5 sections, 6 subsections)" in text
    assert "hw_compat_10_1 2" in text
    assert "acme-ancient" not in text  # an array no registered machine applies
    md = render_audit(audited.report, audited.inventory, "markdown")
    assert "### Inventory" in md
    assert "| `hw/misc` | 2 | 5 | 6 | 3 | 0 |" in md
    assert "MIG032" in md


def test_default_tiers_come_from_the_tree_or_its_path_rules(tree: Repo) -> None:
    result = audit(tree.path, "HEAD", jobs=1)
    assert result.report.findings
    assert all(f.tier_reason for f in result.report.findings)


def test_parallel_scan_gives_the_same_report(tree: Repo, audited: AuditResult) -> None:
    from .conftest import versioned_bidirectional

    parallel = audit(tree.path, "HEAD", tier_of=versioned_bidirectional, jobs=2)
    assert parallel.report.findings == audited.report.findings
    assert parallel.inventory == audited.inventory


def test_cli_audit_formats_and_exit_codes(tree: Repo) -> None:
    from click.testing import CliRunner

    from bot.cli import main

    runner = CliRunner()
    base = ["audit", "--repo", str(tree.path), "--tier", "bidirectional", "-j", "1"]
    as_json = runner.invoke(main, [*base, "--format", "json"])
    assert as_json.exit_code == 1  # errors reach the default --fail-on
    data = json.loads(as_json.stdout)
    jsonschema.validate(data, load_schema())
    assert data["summary"]["error"] >= 1 and data["inventory"]["vmsds"] == 15
    quiet = runner.invoke(main, [*base, "--fail-on", "never", "--no-color"])
    assert quiet.exit_code == 0
    assert "Inventory:" in quiet.stdout
    old = runner.invoke(main, [*base, "--rev", "HEAD~1", "--format", "markdown"])
    assert old.exit_code == 0, old.stdout  # the 9.0.0 tree has nothing wrong
    assert "### Inventory" in old.stdout
    missing = runner.invoke(main, ["audit", "--repo", str(tree.path / "nowhere")])
    assert missing.exit_code == 2
    assert "not a git repository" in missing.stderr
