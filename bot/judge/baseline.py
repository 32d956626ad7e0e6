"""Baselines: accept today's findings, fail CI only on new ones.

An entry is keyed on the rule, the file, the VMSD, the field or compat entry
(the finding's subject) and a hash of what the finding says (its message,
which names no line number), so moving code keeps the entry valid while a
finding that changes what it reports is new again. Entries that match nothing
any more are stale: the run says so in a note, it does not fail.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bot.findings import Finding, Report

FORMAT = "migbot-baseline/1"


class BaselineError(ValueError):
    """The baseline file cannot be read or is not one."""


@dataclass(frozen=True, slots=True)
class Entry:
    rule: str
    path: str
    vmsd: str
    subject: str
    content: str
    """sha256 of the message, first 16 hex digits."""

    def to_dict(self) -> dict[str, str]:
        return {
            "rule": self.rule,
            "path": self.path,
            "vmsd": self.vmsd,
            "subject": self.subject,
            "content": self.content,
        }


def entry_of(finding: Finding) -> Entry:
    digest = hashlib.sha256(finding.message.encode()).hexdigest()[:16]
    return Entry(finding.rule_id, finding.path, finding.vmsd or "", finding.subject or "", digest)


def write_baseline(report: Report, path: Path) -> int:
    """Write every finding of ``report`` as accepted; returns how many."""
    entries = sorted(
        (entry_of(f) for f in report.findings), key=lambda e: (e.path, e.rule, e.vmsd, e.subject)
    )
    data = {"format": FORMAT, "entries": [e.to_dict() for e in entries]}
    try:
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise BaselineError(f"cannot write baseline {path}: {exc.strerror}") from None
    return len(entries)


def read_baseline(path: Path) -> list[Entry]:
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BaselineError(f"baseline {path} is not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BaselineError(f'{path} is not a migbot baseline (no "format": "{FORMAT}")')
    try:
        return [
            Entry(e["rule"], e["path"], e["vmsd"], e["subject"], e["content"])
            for e in data["entries"]
        ]
    except (KeyError, TypeError) as exc:
        raise BaselineError(f"baseline {path} has a malformed entry ({exc})") from None


def apply_baseline(report: Report, entries: list[Entry], source: str) -> Report:
    """The report without the findings the baseline accepts (each entry accepts
    as many findings as it was written for), with a note for what was left out
    and for the stale entries."""
    budget = Counter(entries)
    kept = []
    known = 0
    for finding in report.findings:
        key = entry_of(finding)
        if budget[key] > 0:
            budget[key] -= 1
            known += 1
        else:
            kept.append(finding)
    notes = list(report.notes)
    if known:
        notes.append(f"{known} known finding(s) accepted by the baseline {source} are not shown")
    stale = sorted(budget.elements(), key=lambda e: (e.path, e.rule))
    if stale:
        shown = "; ".join(f"{e.rule} {e.path} {e.vmsd or e.subject}".rstrip() for e in stale[:5])
        more = f" and {len(stale) - 5} more" if len(stale) > 5 else ""
        notes.append(
            f"{len(stale)} stale baseline entr{'y' if len(stale) == 1 else 'ies'} in {source} "
            f"match no finding any more (fixed?): {shown}{more}; rewrite it with --write-baseline"
        )
    paths = {f.path for f in kept}
    return replace(
        report,
        findings=tuple(kept),
        tiers=tuple(t for t in report.tiers if t[0] in paths),
        notes=tuple(notes),
    )
