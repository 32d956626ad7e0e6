"""The machine-readable report: schema ``migbot.report/1`` (docs/json-report.md).

The schema is bot/report/report.schema.json. Within ``/1`` keys are only
added, never removed or changed in meaning; consumers ignore keys they do not
know. A breaking change is ``/2``.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from bot import __version__
from bot.findings import Finding, Override, Report, TierDecision
from bot.report.common import counts, order

SCHEMA_ID = "migbot.report/1"
SCHEMA_FILE = "report.schema.json"


def report_to_dict(report: Report) -> dict[str, Any]:
    """The report as JSON-ready values, in the shape of the schema."""
    summary: dict[str, int] = {s.value: n for s, n in counts(report).items()}
    summary["files_scanned"] = report.files_scanned
    return {
        "schema": SCHEMA_ID,
        "tool": {"name": "migbot", "version": __version__},
        "change": {"title": report.change_title, "base": report.base, "head": report.head},
        "summary": summary,
        "findings": [finding_to_dict(f) for f in order(report.findings)],
        "not_understood": [
            {"path": n.path, "line": n.line, "what": n.what} for n in report.not_understood
        ],
        "tiers": [_tier(path, decision) for path, decision in report.tiers],
        "overrides": [override_to_dict(o) for o in report.overrides],
        "notes": list(report.notes),
    }


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    return {
        "rule_id": finding.rule_id,
        "slug": finding.slug,
        "title": finding.title,
        "severity": finding.severity.value,
        "tier": finding.tier.value,
        "tier_reason": finding.tier_reason,
        "path": finding.path,
        "line": finding.line,
        "side": finding.side.value,
        "vmsd": finding.vmsd,
        "field": finding.subject,
        "message": finding.message,
        "fix": finding.fix,
        "doc_url": finding.doc_url,
        "fingerprint": finding.fingerprint,
        "override": None if finding.override is None else override_to_dict(finding.override),
        "base_severity": None if finding.base_severity is None else finding.base_severity.value,
    }


def override_to_dict(override: Override) -> dict[str, Any]:
    return {
        "label": override.label,
        "by": override.by,
        "effect": override.effect,
        "honoured": override.honoured,
        "reason": override.reason,
    }


def _tier(path: str, decision: TierDecision) -> dict[str, Any]:
    return {
        "path": path,
        "tier": decision.tier.value,
        "reason": decision.reason,
        "machines": list(decision.machines),
        "source": decision.source,
    }


def render_json(report: Report) -> str:
    return json.dumps(report_to_dict(report), indent=2, ensure_ascii=False) + "\n"


def load_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of this format.

    Read from bot/data/, where a symlink to bot/report/report.schema.json makes
    it package data.
    """
    text = resources.files("bot").joinpath("data", SCHEMA_FILE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
