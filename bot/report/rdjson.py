"""reviewdog's Diagnostic Format (rdjson): ``reviewdog -f=rdjson``.

One diagnostic per finding, with the rule as its code (and the rule's page as
the code's URL) and, where the fix of one line is certain, a suggestion.
"""

from __future__ import annotations

import json
from typing import Any

from bot.findings import Finding, Report, Severity
from bot.judge.suppress import SUPPRESSED
from bot.report.common import describe_override, order
from bot.report.sarif import new_line

_SEVERITY = {
    Severity.ERROR: "ERROR",
    Severity.WARNING: "WARNING",
    Severity.NOTICE: "INFO",
    Severity.INFO: "INFO",
}


def diagnostic(finding: Finding) -> dict[str, Any]:
    location: dict[str, Any] = {"path": finding.path}
    line = new_line(finding)
    if line is not None:
        location["range"] = {"start": {"line": line}}
    message = finding.message
    if finding.override is not None and finding.override.effect == SUPPRESSED:
        message += f" [{describe_override(finding.override)}]"
    if finding.fix:
        message += "\nfix: " + finding.fix.strip().splitlines()[0]
    out: dict[str, Any] = {
        "message": message,
        "location": location,
        "severity": _SEVERITY[finding.severity],
        "code": {"value": f"{finding.rule_id} {finding.slug}"},
    }
    if finding.doc_url:
        out["code"]["url"] = finding.doc_url
    return out


def report_to_rdjson(report: Report) -> dict[str, Any]:
    worst = report.worst()
    return {
        "source": {"name": "migbot"},
        "severity": _SEVERITY[worst] if worst else "INFO",
        "diagnostics": [diagnostic(f) for f in order(report.findings)],
    }


def render_rdjson(report: Report) -> str:
    return json.dumps(report_to_rdjson(report), indent=2, ensure_ascii=False) + "\n"
