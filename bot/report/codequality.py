"""GitLab Code Quality: the report a CI job publishes as ``artifacts:reports:codequality``.

A JSON array of Code Climate issues. GitLab reads ``description``,
``check_name``, ``fingerprint``, ``severity`` and ``location`` (``path`` and
``lines.begin``) and shows them in the merge request's Code Quality widget and
in the diff. Code that migbot did not understand is listed too, as ``info``,
so the reader knows to look at it by hand.

Fingerprints are the findings' own (rule, path, VMSD, subject), unique within
one report, so GitLab matches an issue across pipelines even when lines move.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from bot.findings import Finding, NotUnderstood, Report, Severity
from bot.judge.suppress import SUPPRESSED
from bot.report.common import describe_override, order, tier_text
from bot.report.sarif import new_line

SEVERITIES = {
    Severity.ERROR: "critical",
    Severity.WARNING: "major",
    Severity.NOTICE: "minor",
    Severity.INFO: "info",
}
"""migbot severity -> Code Climate severity (info, minor, major, critical, blocker)."""

NOT_UNDERSTOOD_CHECK = "migbot not-understood"


def render_codequality(report: Report) -> str:
    return json.dumps(report_to_codequality(report), indent=2, ensure_ascii=False) + "\n"


def report_to_codequality(report: Report) -> list[dict[str, Any]]:
    """The Code Quality issues of a report, findings first, in report order."""
    issues = [_issue(f) for f in order(report.findings)]
    issues += [_not_understood(item) for item in report.not_understood]
    _make_unique(issues)
    return issues


def _issue(finding: Finding) -> dict[str, Any]:
    description = f"{finding.rule_id} {finding.slug}: {finding.message}"
    line = new_line(finding)
    if line is None and finding.line is not None:
        description += f" (line {finding.line} of the old file)"
    if finding.override is not None and finding.override.effect == SUPPRESSED:
        description += f" [{describe_override(finding.override)}]"
    body = [
        f"**{finding.title}** ({finding.severity.value})",
        "",
        tier_text(finding.tier, finding.tier_reason) + ".",
    ]
    if finding.fix:
        body += ["", f"**Fix.** {finding.fix.strip()}"]
    if finding.doc_url:
        body += ["", f"See <{finding.doc_url}>."]
    return {
        "type": "issue",
        "engine_name": "migbot",
        "check_name": f"{finding.rule_id} {finding.slug}",
        "description": description,
        "content": {"body": "\n".join(body)},
        "categories": ["Bug Risk"],
        "severity": SEVERITIES[finding.severity],
        "fingerprint": finding.fingerprint,
        "location": {"path": finding.path, "lines": {"begin": line or 1}},
    }


def _not_understood(item: NotUnderstood) -> dict[str, Any]:
    line = item.line if item.line is not None and item.line >= 1 else 1
    raw = "\x1f".join((NOT_UNDERSTOOD_CHECK, item.path, item.what))
    return {
        "type": "issue",
        "engine_name": "migbot",
        "check_name": NOT_UNDERSTOOD_CHECK,
        "description": f"migbot could not read this, review it by hand: {item.what}",
        "categories": ["Bug Risk"],
        "severity": "info",
        "fingerprint": hashlib.sha256(raw.encode()).hexdigest()[:16],
        "location": {"path": item.path, "lines": {"begin": line}},
    }


def _make_unique(issues: list[dict[str, Any]]) -> None:
    """Suffix repeated fingerprints (``-2``, ``-3``) so GitLab keeps every issue."""
    seen: dict[str, int] = {}
    for issue in issues:
        fp = issue["fingerprint"]
        seen[fp] = seen.get(fp, 0) + 1
        if seen[fp] > 1:
            issue["fingerprint"] = f"{fp}-{seen[fp]}"
