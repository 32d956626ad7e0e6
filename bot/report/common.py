"""What every report format shares: order, counts, wording."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from bot.findings import Finding, Override, Report, Severity, Side, Tier
from bot.judge.suppress import SUPPRESSED

SEVERITIES = (Severity.ERROR, Severity.WARNING, Severity.NOTICE, Severity.INFO)
"""Most severe first: the order of counts and summaries."""

_NOUNS = {
    Severity.ERROR: ("error", "errors"),
    Severity.WARNING: ("warning", "warnings"),
    Severity.NOTICE: ("notice", "notices"),
    Severity.INFO: ("info", "infos"),
}


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``1 file``, ``2 files``."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {word}"


def severity_count(count: int, severity: Severity) -> str:
    """``1 error``, ``3 warnings``."""
    one, many = _NOUNS[severity]
    return plural(count, one, many)


def counts(report: Report) -> dict[Severity, int]:
    """Findings per severity, every severity present, most severe first."""
    return {severity: report.count(severity) for severity in SEVERITIES}


def order(findings: Iterable[Finding]) -> list[Finding]:
    """By file, then line (file-level findings first), then most severe first."""
    return sorted(
        findings,
        key=lambda f: (f.path, -1 if f.line is None else f.line, -f.severity.rank, f.rule_id),
    )


def severity_order(findings: Iterable[Finding]) -> list[Finding]:
    """Errors first, then warnings, then the rest; within each by file and line."""
    bucket = {Severity.ERROR: 0, Severity.WARNING: 1}
    return sorted(order(findings), key=lambda f: bucket.get(f.severity, 2))


def by_file(findings: Iterable[Finding]) -> list[tuple[str, list[Finding]]]:
    """Ordered findings grouped by path."""
    groups: dict[str, list[Finding]] = {}
    for finding in order(findings):
        groups.setdefault(finding.path, []).append(finding)
    return list(groups.items())


def location(path: str, line: int | None, side: Side = Side.NEW) -> str:
    """``path:line``; ``path:line (old)`` for a line of the old file; ``path`` alone."""
    if line is None or side is Side.FILE:
        return path
    text = f"{path}:{line}"
    return f"{text} (old)" if side is Side.OLD else text


def finding_location(finding: Finding) -> str:
    return location(finding.path, finding.line, finding.side)


def describe_override(override: Override) -> str:
    """``label 'x' by alice: effect (ignored: reason)``: who did what, and whether it held.

    A suppression comment reads ``suppressed by 'migbot: ignore[..]' at path:line: reason``."""
    if override.effect == SUPPRESSED:
        return f"suppressed by '{override.label}' at {override.by}: {override.reason}"
    who = f" by {override.by}" if override.by else " (applier unknown)"
    state = "honoured" if override.honoured else "ignored"
    reason = f": {override.reason}" if override.reason else ""
    return f"label '{override.label}'{who}: {override.effect} ({state}{reason})"


def printable(text: str) -> str:
    """Control characters (terminal escapes, NUL...) shown as ``\\xNN``, never emitted.

    Names and messages come from the change under review; a crafted one must
    not drive the reader's terminal."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape_char(c) for c in text)


def _escape_char(c: str) -> str:
    n = ord(c)
    return f"\\x{n:02x}" if n <= 0xFF else f"\\u{n:04x}" if n <= 0xFFFF else f"\\U{n:08x}"


def severity_change(finding: Finding) -> str | None:
    """``error -> warning`` when an override changed the severity."""
    base = finding.base_severity
    if base is None or base is finding.severity:
        return None
    return f"{base.value} -> {finding.severity.value}"


def verdict(report: Report) -> str:
    """``2 errors, 1 warning`` over the non-zero counts; empty when there are none."""
    return ", ".join(severity_count(n, s) for s, n in counts(report).items() if n)


def files_with_findings(findings: Sequence[Finding]) -> int:
    return len({f.path for f in findings})


_INTERNAL = re.compile(r" ?\((?:\w+\.)*\w+(?:Error|Exception)\b.*?\)(?=;|,|$)")


def clean_reason(reason: str) -> str:
    """A tier reason without internal error text (``(KconfigError: ...)``)."""
    return _INTERNAL.sub("", reason)


def tier_text(tier: Tier, reason: str) -> str:
    """The tier and why, once: reasons already read ``tier forward: ...``."""
    reason = clean_reason(reason)
    if reason.startswith(f"tier {tier.value}"):
        return reason
    return f"tier {tier.value}: {reason}" if reason else f"tier {tier.value}"
