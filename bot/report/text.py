"""The terminal report: one finding per block, grouped by file, then a summary."""

from __future__ import annotations

from bot.findings import Finding, Report, Severity
from bot.judge.catalogue import first_line
from bot.report.common import (
    by_file,
    counts,
    describe_override,
    files_with_findings,
    finding_location,
    location,
    plural,
    printable,
    severity_change,
    severity_count,
    tier_text,
)

_COLOURS = {
    Severity.ERROR: "\x1b[31m",
    Severity.WARNING: "\x1b[33m",
    Severity.NOTICE: "\x1b[36m",
    Severity.INFO: "\x1b[2m",
}
_BOLD = "\x1b[1m"
_RESET = "\x1b[0m"
INDENT = "    "


class _Paint:
    """ANSI colours, or nothing. Applied only to text migbot wrote itself."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def severity(self, severity: Severity, text: str | None = None) -> str:
        text = severity.value if text is None else text
        return f"{_COLOURS[severity]}{text}{_RESET}" if self.enabled else text

    def bold(self, text: str) -> str:
        return f"{_BOLD}{text}{_RESET}" if self.enabled else text


def render_text(report: Report, *, color: bool = False) -> str:
    """The report for a terminal. ANSI colours only when ``color`` is set.

    Everything that comes from the change (paths, names, messages) goes through
    `printable`, so a crafted name cannot emit terminal escapes."""
    paint = _Paint(color)
    out: list[str] = []
    for _, findings in by_file(report.findings):
        for finding in findings:
            out += _finding(finding, paint)
        out.append("")
    out.append(_summary(report, paint))
    if report.not_understood:
        out += ["", paint.bold("Not understood") + " (review these by hand):"]
        out += [
            f"{INDENT}{printable(location(item.path, item.line))}: {printable(item.what)}"
            for item in report.not_understood
        ]
    if report.overrides:
        out += ["", paint.bold("Overrides") + ":"]
        out += [f"{INDENT}{printable(describe_override(o))}" for o in report.overrides]
    if report.notes:
        out += ["", paint.bold("Notes") + ":"]
        out += [f"{INDENT}{printable(note)}" for note in report.notes]
    return "\n".join(out) + "\n"


def _finding(finding: Finding, paint: _Paint) -> list[str]:
    head = (
        f"{printable(finding_location(finding))}: {paint.severity(finding.severity)} "
        f"[{finding.rule_id} {finding.slug}] {printable(finding.message)}"
    )
    lines = [head, f"{INDENT}{printable(tier_text(finding.tier, finding.tier_reason))}"]
    if finding.override is not None:
        change = severity_change(finding)
        suffix = f" [{change}]" if change else ""
        lines.append(f"{INDENT}override: {printable(describe_override(finding.override))}{suffix}")
    fix = first_line(finding.fix)
    if fix:
        lines.append(f"{INDENT}fix: {printable(fix)}")
    if finding.doc_url:
        lines.append(f"{INDENT}see: {printable(finding.doc_url)}")
    return lines


def _summary(report: Report, paint: _Paint) -> str:
    if not report.findings:
        if report.files_scanned == 0:
            return "No files scanned: nothing in this change is read by migbot."
        scanned = plural(report.files_scanned, "file")
        if report.not_understood:
            return f"No findings in {scanned}, but some code was not understood (see below)."
        if report.notes:
            return f"No findings in what could be judged of {scanned}: see the notes below."
        return f"No migration-relevant changes found. {scanned} scanned."
    parts = []
    for severity, n in counts(report).items():
        text = severity_count(n, severity)
        parts.append(paint.severity(severity, text) if n else text)
    files = plural(files_with_findings(report.findings), "file")
    scanned = f" ({report.files_scanned} scanned)" if report.files_scanned else ""
    return f"{', '.join(parts)} in {files}{scanned}"
