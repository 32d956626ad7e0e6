"""What the pipeline concludes, as values every report format reads."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTICE = "notice"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


_RANK = {Severity.INFO: 0, Severity.NOTICE: 1, Severity.WARNING: 2, Severity.ERROR: 3}


class Tier(StrEnum):
    BIDIRECTIONAL = "bidirectional"
    FORWARD = "forward"
    BEST_EFFORT = "best-effort"

    @property
    def strictness(self) -> int:
        return {Tier.BEST_EFFORT: 0, Tier.FORWARD: 1, Tier.BIDIRECTIONAL: 2}[self]


class Side(StrEnum):
    NEW = "new"
    OLD = "old"
    FILE = "file"
    """Not tied to a line: the finding is about the file as a whole."""


class TierSource(StrEnum):
    """Where a tier decision comes from."""

    DEFAULT = "default"
    """The path rules of rules/tiers.toml (no tree, or a tree that could not be read)."""
    TREE = "tree"
    """Computed from the tree's Kconfig and meson files."""
    CLI = "cli"
    """Forced with ``--tier``."""
    LABEL = "label"
    """Set by a maintainer's tier label."""


@dataclass(frozen=True, slots=True)
class TierDecision:
    tier: Tier
    reason: str
    machines: tuple[str, ...] = ()
    source: TierSource = TierSource.DEFAULT


TierResolver = Callable[[str], TierDecision]
"""Decides the tier of a source path (path rules, or computed from a tree)."""


@dataclass(frozen=True, slots=True)
class Override:
    label: str
    by: str | None
    effect: str
    honoured: bool = True
    reason: str = ""


@dataclass(frozen=True, slots=True)
class LineFix:
    """A certain fix of one line of the new file: ``old`` becomes ``new``."""

    line: int
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    slug: str
    title: str
    severity: Severity
    tier: Tier
    tier_reason: str
    path: str
    line: int | None
    side: Side
    message: str
    fix: str
    doc_url: str
    vmsd: str | None = None
    subject: str | None = None
    """The field, subsection, compat entry or property the finding is about."""
    override: Override | None = None
    base_severity: Severity | None = None
    """Severity before an override changed it."""
    line_fix: LineFix | None = None
    """Set when the fix is one certain line (a suggestion, a SARIF fix)."""

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.rule_id, self.path, self.vmsd, self.subject)


def fingerprint(rule_id: str, path: str, vmsd: str | None, subject: str | None) -> str:
    """Identity of a finding that survives moved lines and re-pushes."""
    raw = "\x1f".join((rule_id, path, vmsd or "", subject or ""))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class NotUnderstood:
    path: str
    line: int | None
    what: str


@dataclass(frozen=True, slots=True)
class Report:
    """The result of judging one change."""

    change_title: str
    base: str | None
    head: str | None
    findings: tuple[Finding, ...]
    not_understood: tuple[NotUnderstood, ...] = ()
    tiers: tuple[tuple[str, TierDecision], ...] = ()
    overrides: tuple[Override, ...] = ()
    files_scanned: int = 0
    notes: tuple[str, ...] = field(default=())

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), key=lambda s: s.rank, default=None)

    def reaches(self, threshold: Severity) -> bool:
        return any(f.severity.at_least(threshold) for f in self.findings)

    @property
    def migration_affecting(self) -> bool:
        return bool(self.findings)
