"""GitHub Actions workflow commands: one annotation per finding.

``::error file=hw/a.c,line=12,title=MIG001 field-added-unversioned::message``.
GitHub shows them on the pull request's diff and in the run, also for pull
requests from forks, where uploading SARIF is not allowed. The job summary
(the Markdown report) is written by the command line when
``GITHUB_STEP_SUMMARY`` is set.
"""

from __future__ import annotations

from bot.findings import Finding, Report, Severity
from bot.report.common import order, severity_order, verdict
from bot.report.sarif import new_line

_COMMANDS = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.NOTICE: "notice",
    Severity.INFO: "notice",
}


def _data(text: str) -> str:
    """Escaping of a workflow command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    """Escaping of a workflow command's property value."""
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: Finding) -> str:
    props = [f"file={_prop(finding.path)}"]
    line = new_line(finding)
    if line is not None:
        props.append(f"line={line}")
    props.append(f"title={_prop(f'{finding.rule_id} {finding.slug}')}")
    message = finding.message
    if finding.override is not None and finding.base_severity is not None:
        message += (
            f" [{finding.override.effect}: {finding.override.reason or finding.override.label}]"
        )
    if finding.fix:
        message += "\nfix: " + finding.fix.strip().splitlines()[0]
    if finding.doc_url:
        message += f"\nsee: {finding.doc_url}"
    return f"::{_COMMANDS[finding.severity]} {','.join(props)}::{_data(message)}"


def render_github(report: Report) -> str:
    lines = [annotation(f) for f in severity_order(order(report.findings))]
    lines += [
        f"::warning file={_prop(n.path)}"
        + (f",line={n.line}" if n.line and n.line > 0 else "")
        + f",title=not understood::{_data('review by hand: ' + n.what)}"
        for n in report.not_understood
    ]
    lines += [f"::notice title=migbot::{_data(note)}" for note in report.notes]
    lines.append(f"migbot: {verdict(report) or 'no migration problems found'}")
    return "\n".join(lines) + "\n"
