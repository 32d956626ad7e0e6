"""SARIF 2.1.0: the report for code-scanning tools (GitHub code scanning, IDEs).

One run. ``tool.driver.rules`` is the whole catalogue, generated from it:
title as the short description, *why* as the full description, the fix recipe
as help (Markdown), the documentation link as ``helpUri``. Each result names
its rule by id and index, maps migbot's severity to a SARIF level, carries the
finding's fingerprint under ``partialFingerprints["migbot/v1"]`` (so an alert
survives moved lines and re-pushes) and the tier in its properties.

GitHub needs ``region.startLine`` on every result: a finding about the whole
file, or about a line of the *old* file (a removed field), points at line 1
of the file and says which old line it meant.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from bot import __version__
from bot.findings import Finding, NotUnderstood, Report, Severity, Side, Tier
from bot.judge.catalogue import Catalogue, Rule, load_catalogue
from bot.judge.suppress import SUPPRESSED
from bot.report.common import order
from bot.report.jsonfmt import override_to_dict

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
FINGERPRINT_KEY = "migbot/v1"
"""The ``partialFingerprints`` key; bump it if `Finding.fingerprint` changes meaning."""
SRCROOT = "%SRCROOT%"
"""Paths are relative to the repository root, which the consumer knows."""

LEVELS = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.NOTICE: "note",
    Severity.INFO: "note",
}
_TIERS = (Tier.BIDIRECTIONAL, Tier.FORWARD, Tier.BEST_EFFORT)


def render_sarif(report: Report, catalogue: Catalogue | None = None) -> str:
    """The report as a SARIF 2.1.0 log (JSON text)."""
    log = report_to_sarif(report, catalogue or load_catalogue())
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def report_to_sarif(report: Report, catalogue: Catalogue) -> dict[str, Any]:
    """The SARIF log as JSON-ready values."""
    descriptors = [rule_descriptor(rule, catalogue) for rule in catalogue]
    index = {rule.id: i for i, rule in enumerate(catalogue)}
    findings = order(report.findings)
    for finding in findings:
        # A finding from a rule this catalogue lacks still gets a descriptor.
        if finding.rule_id not in index:
            index[finding.rule_id] = len(descriptors)
            descriptors.append(_descriptor_from_finding(finding))
    notifications = [_not_understood(item) for item in report.not_understood]
    notifications += [{"level": "note", "message": {"text": note}} for note in report.notes]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "migbot",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": descriptors,
            }
        },
        "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
        "results": [_result(f, index[f.rule_id]) for f in findings],
        "properties": {
            "change": {"title": report.change_title, "base": report.base, "head": report.head},
            "files_scanned": report.files_scanned,
            "overrides": [override_to_dict(o) for o in report.overrides],
        },
    }
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def rule_descriptor(rule: Rule, catalogue: Catalogue) -> dict[str, Any]:
    """A catalogue rule as a SARIF ``reportingDescriptor``."""
    descriptor: dict[str, Any] = {
        "id": rule.id,
        "name": rule.slug,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.why},
        "help": {"text": rule.fix, "markdown": _help_markdown(rule.fix, rule.doc_url)},
        "helpUri": rule.doc_url,
        "defaultConfiguration": {"level": LEVELS[rule.severity(Tier.BIDIRECTIONAL)]},
        "properties": {
            "tags": ["migration", "qemu"],
            "status": rule.status,
            "since": rule.since,
            "severity": {tier.value: rule.severity(tier).value for tier in _TIERS},
        },
    }
    old_codes = sorted(old for old, new in catalogue.redirects.items() if new == rule.id)
    if old_codes:
        descriptor["deprecatedIds"] = old_codes
    return descriptor


def _descriptor_from_finding(finding: Finding) -> dict[str, Any]:
    descriptor: dict[str, Any] = {
        "id": finding.rule_id,
        "name": finding.slug,
        "shortDescription": {"text": finding.title},
    }
    if finding.fix:
        descriptor["help"] = {
            "text": finding.fix,
            "markdown": _help_markdown(finding.fix, finding.doc_url),
        }
    if finding.doc_url:
        descriptor["helpUri"] = finding.doc_url
    return descriptor


def _help_markdown(fix: str, doc_url: str) -> str:
    text = f"**Fix.** {fix.strip()}"
    return f"{text}\n\nSee <{doc_url}>." if doc_url else text


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    text = finding.message
    if finding.side is Side.OLD and finding.line is not None:
        text += f" (line {finding.line} of the old file)"
    properties: dict[str, Any] = {
        "tier": finding.tier.value,
        "tier_reason": finding.tier_reason,
        "severity": finding.severity.value,
        "side": finding.side.value,
    }
    if finding.side is Side.OLD and finding.line is not None:
        properties["old_line"] = finding.line
    if finding.vmsd is not None:
        properties["vmsd"] = finding.vmsd
    if finding.subject is not None:
        properties["subject"] = finding.subject
    if finding.override is not None:
        properties["override"] = override_to_dict(finding.override)
    if finding.base_severity is not None:
        properties["base_severity"] = finding.base_severity.value
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": text},
        "locations": [_location(finding.path, new_line(finding))],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": properties,
    }
    if finding.line_fix is not None:
        fix = finding.line_fix
        result["fixes"] = [
            {
                "description": {"text": f"Replace line {fix.line}"},
                "artifactChanges": [
                    {
                        "artifactLocation": {
                            "uri": artifact_uri(finding.path),
                            "uriBaseId": SRCROOT,
                        },
                        "replacements": [
                            {
                                "deletedRegion": {"startLine": fix.line, "endLine": fix.line},
                                "insertedContent": {"text": fix.new},
                            }
                        ],
                    }
                ],
            }
        ]
    if finding.override is not None and finding.override.effect == SUPPRESSED:
        # Code scanning closes a suppressed alert and shows the justification.
        result["suppressions"] = [{"kind": "inSource", "justification": finding.override.reason}]
    return result


def new_line(finding: Finding) -> int | None:
    """The finding's line in the new file, None when it has none there."""
    if finding.side is not Side.NEW or finding.line is None or finding.line < 1:
        return None
    return finding.line


def _location(path: str, line: int | None) -> dict[str, Any]:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": artifact_uri(path), "uriBaseId": SRCROOT},
            "region": {"startLine": line or 1},
        }
    }


def artifact_uri(path: str) -> str:
    """A repository path as a relative URI reference (spaces, ``%``, ``#`` escaped)."""
    return quote(path.lstrip("/"), safe="/")


def _not_understood(item: NotUnderstood) -> dict[str, Any]:
    line = item.line if item.line is not None and item.line >= 1 else None
    return {
        "level": "warning",
        "message": {"text": f"not understood, review by hand: {item.what}"},
        "locations": [_location(item.path, line)],
    }
