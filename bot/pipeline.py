"""The pipeline: a `Change` in, a `Report` out.

scanner -> compare -> tiers -> judge. Pure: no network, no database, no clock.
Every door (CLI, service, digest) calls `review`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.change import Change
from bot.findings import Report, Tier, TierDecision


@dataclass(frozen=True, slots=True)
class AppliedLabel:
    """A label on the merge request, and who applied it (when the forge says)."""

    name: str
    by: str | None = None
    by_is_maintainer: bool | None = None
    """None when unknown (the CLI): the label is taken at face value."""


TierResolver = Callable[[str], TierDecision]
"""Decides the tier of a source path (path rules, or Kconfig once computed)."""


@dataclass(frozen=True, slots=True)
class ReviewOptions:
    tier: Tier | None = None
    """Force one tier for every file (``--tier``)."""
    labels: Sequence[AppliedLabel] = field(default=())
    tier_resolver: TierResolver | None = None


def review(change: Change, options: ReviewOptions | None = None) -> Report:
    """Judge a change. Implemented in the analyzer; see bot.analyzer."""
    from bot.analyzer import analyze
    from bot.recipes import specialise
    from bot.suppress import suppress_in_change

    report = analyze(change, options or ReviewOptions())
    return specialise(change, suppress_in_change(change, report))
