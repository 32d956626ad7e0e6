"""The values the digest is made of: what goes in (`ChangeInput`) and what comes out (`Digest`).

Both doors (stored reviews, analysed commits) produce `ChangeInput`s; `build`
turns them into one `Digest`; every renderer reads the `Digest` alone. A digest
round-trips through JSON, so the service can show the one the scheduler stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

TIER_ORDER = ("bidirectional", "forward", "best-effort", "unknown")
"""Strictest first; ``unknown`` for a change no finding gave a tier to."""


class Outcome(StrEnum):
    """Where a migration-affecting change stands at the end of the period."""

    OPEN_ERRORS = "open-errors"
    MERGED_ERRORS = "merged-errors"
    MERGED_OVERRIDE = "merged-override"
    MERGED_WARNINGS = "merged-warnings"
    FIXED = "fixed-before-merge"
    MERGED_CLEAN = "merged-clean"
    OPEN = "open"
    CLOSED = "closed"

    @property
    def heading(self) -> str:
        return _OUTCOME_TITLES[self]


_OUTCOME_TITLES = {
    Outcome.OPEN_ERRORS: "Still open, with errors",
    Outcome.MERGED_ERRORS: "Merged with errors nobody acknowledged",
    Outcome.MERGED_OVERRIDE: "Merged with an override",
    Outcome.MERGED_WARNINGS: "Merged with warnings",
    Outcome.FIXED: "Fixed before merge",
    Outcome.MERGED_CLEAN: "Merged clean, compat handled",
    Outcome.OPEN: "Open, no errors",
    Outcome.CLOSED: "Closed without merging",
}
OUTCOME_ORDER = tuple(Outcome)
"""Display order: what needs a person's attention first."""


# --- what goes in ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FindingNote:
    """A finding as the digest needs it (from a stored review or a fresh report)."""

    rule_id: str
    slug: str
    severity: str
    tier: str
    path: str
    fingerprint: str
    vmsd: str | None = None
    subject: str | None = None
    override: str | None = None
    """The label that lowered its severity, if any."""
    base_severity: str | None = None

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> FindingNote:
        return cls(
            rule_id=str(d.get("rule_id", "")),
            slug=str(d.get("slug", "")),
            severity=str(d.get("severity", "info")),
            tier=str(d.get("tier") or "unknown"),
            path=str(d.get("path", "")),
            fingerprint=str(d.get("fingerprint", "")),
            vmsd=d.get("vmsd"),
            subject=d.get("subject"),
            override=d.get("override"),
            base_severity=d.get("base_severity"),
        )


@dataclass(frozen=True, slots=True)
class CompatNote:
    """A ``{ driver, property, value }`` line added to or removed from a compat array."""

    array: str
    driver: str
    prop: str
    """The property name (``property`` in JSON)."""
    value: str
    change: str
    """``added`` or ``removed``."""
    path: str = ""

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> CompatNote:
        return cls(
            array=str(d.get("array", "")),
            driver=str(d.get("driver", "")),
            prop=str(d.get("property", "")),
            value=str(d.get("value", "")),
            change=str(d.get("change", "added")),
            path=str(d.get("path", "")),
        )

    @property
    def text(self) -> str:
        return f'{{ "{self.driver}", "{self.prop}", "{self.value}" }}'


@dataclass(frozen=True, slots=True)
class OverrideNote:
    label: str
    by: str | None
    honoured: bool
    effect: str = ""

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> OverrideNote:
        return cls(
            label=str(d.get("label", "")),
            by=d.get("by"),
            honoured=bool(d.get("honoured", True)),
            effect=str(d.get("effect") or ""),
        )


@dataclass(frozen=True, slots=True)
class Patch:
    """One commit of a landed series (git door), to say who wrote what."""

    sha: str
    subject: str
    author: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class ChangeInput:
    """One merge request, pull request, landed commit or series, at the period's end."""

    key: str
    """Identity, e.g. ``gitlab:qemu/qemu!12``, ``git:<sha>``, ``series:<ref>``."""
    ref: str
    """How a person names it: ``!12``, ``#7``, a short sha, a series name."""
    title: str
    url: str | None
    author: str | None
    labels: tuple[str, ...]
    state: str
    """``open``, ``merged`` or ``closed``."""
    when: datetime
    """Merge (landing) time; for an open change, its latest review."""
    verdicts: tuple[str, ...]
    """Each review's verdict (``pass``, ``warn``, ``fail``), oldest first."""
    findings: tuple[FindingNote, ...]
    """The latest review's findings."""
    earlier_findings: tuple[FindingNote, ...] = ()
    """Findings of earlier reviews that the latest no longer has."""
    compat: tuple[CompatNote, ...] = ()
    overrides: tuple[OverrideNote, ...] = ()
    patches: tuple[Patch, ...] = ()
    via: str | None = None
    """How it landed, when that says something (a pull request's tag)."""
    retired: tuple[str, ...] = ()
    """Machine types and compat arrays it removed (deprecation policy)."""

    @property
    def affecting(self) -> bool:
        return bool(self.findings or self.earlier_findings or self.compat or self.retired)


# --- what comes out -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DigestLine:
    """One change in the digest: what it did to migration state, in a few words."""

    ref: str
    title: str
    url: str | None
    author: str | None
    labels: tuple[str, ...]
    state: str
    when: datetime
    outcome: Outcome
    tier: str
    vmsds: tuple[str, ...]
    what: tuple[str, ...]
    """Short phrases, one per rule and subject: ``e1000: field-added-unversioned foo``."""
    compat: tuple[str, ...]
    """``hw_compat_10_2 + { "e1000", "x-foo", "off" }``."""
    acknowledged: tuple[str, ...]
    """Who acknowledged what: ``migration::ack by bob: MIG001 on e1000``."""
    errors: int
    warnings: int
    fixed: tuple[str, ...] = ()
    """Rules an earlier review raised that are gone (fixed before merge)."""
    patches: tuple[Patch, ...] = ()
    via: str | None = None


@dataclass(frozen=True, slots=True)
class TierGroup:
    tier: str
    lines: tuple[DigestLine, ...]


@dataclass(frozen=True, slots=True)
class OutcomeGroup:
    outcome: Outcome
    tiers: tuple[TierGroup, ...]

    @property
    def title(self) -> str:
        return self.outcome.heading

    @property
    def count(self) -> int:
        return sum(len(t.lines) for t in self.tiers)


@dataclass(frozen=True, slots=True)
class CompatLine:
    entry: str
    """``{ "driver", "property", "value" }``."""
    change: str
    ref: str
    url: str | None
    state: str


@dataclass(frozen=True, slots=True)
class CompatArray:
    """The entries one release array (``hw_compat_10_2``) gained or lost in the period."""

    array: str
    added: tuple[CompatLine, ...]
    removed: tuple[CompatLine, ...] = ()
    """Removals are mostly old machine types being deleted: shown as a count."""

    def removed_by(self) -> tuple[tuple[str, str | None, int], ...]:
        """(ref, url, how many entries) of the changes that removed entries."""
        counts: dict[tuple[str, str | None], int] = {}
        for e in self.removed:
            counts[(e.ref, e.url)] = counts.get((e.ref, e.url), 0) + 1
        return tuple((ref, url, n) for (ref, url), n in counts.items())


@dataclass(frozen=True, slots=True)
class WeekCount:
    start: datetime
    """Where the seven-day bucket starts (it ends where the next one starts)."""
    label: str
    """``2026-W06``: the ISO week holding most of the bucket."""
    counts: tuple[tuple[str, int], ...]
    """Migration-affecting changes per tier, in `TIER_ORDER`."""

    @property
    def total(self) -> int:
        return sum(n for _tier, n in self.counts)

    def count(self, tier: str) -> int:
        return dict(self.counts).get(tier, 0)


@dataclass(frozen=True, slots=True)
class Count:
    name: str
    changes: int
    """Changes in the period."""
    findings: int = 0
    title: str = ""
    weekly: tuple[int, ...] = ()
    """Changes per bucket of `Digest.weeks` (subsystems only)."""


@dataclass(frozen=True, slots=True)
class RetiredLine:
    """A machine type or compat array a change in the period removed."""

    what: str
    ref: str
    url: str | None
    state: str


@dataclass(frozen=True, slots=True)
class Digest:
    key: str
    """The period's identity: ``2026-W06`` for a week, else ``2026-02-01..2026-02-15``."""
    title: str
    since: datetime
    until: datetime
    generated_at: datetime
    source: str
    reviewed: int
    """Changes seen in the period, migration-affecting or not."""
    groups: tuple[OutcomeGroup, ...]
    compat: tuple[CompatArray, ...]
    weeks: tuple[WeekCount, ...]
    subsystems: tuple[Count, ...]
    rules: tuple[Count, ...]
    retired: tuple[RetiredLine, ...] = ()
    """Retired under the deprecation policy: listed under their own heading."""

    @property
    def affecting(self) -> int:
        return sum(g.count for g in self.groups)

    @property
    def empty(self) -> bool:
        return self.affecting == 0 and not self.compat and not self.retired

    def group(self, outcome: Outcome) -> OutcomeGroup | None:
        return next((g for g in self.groups if g.outcome is outcome), None)

    def lines(self) -> list[DigestLine]:
        return [line for g in self.groups for t in g.tiers for line in t.lines]
