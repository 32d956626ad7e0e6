"""Problems of the tree to findings: the tier of each file, texts from the catalogue."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from bot.audit.checks import Problem
from bot.findings import Finding, Severity, Side, TierDecision
from bot.judge.catalogue import Catalogue
from bot.judge.registry import meanings
from bot.judge.rules import make_finding

TierOf = Callable[[str], TierDecision]


def on_versioned_machine(decision: TierDecision) -> bool:
    """Whether the decision names a versioned machine family (``pc-q35-*``)."""
    return any(m.endswith("-*") for m in decision.machines)


def judge_problems(
    problems: Iterable[Problem], tier_of: TierOf, catalogue: Catalogue
) -> list[Finding]:
    out: list[Finding] = []
    for p in problems:
        decision = tier_of(p.fact.path)
        if p.tiers is not None and decision.tier not in p.tiers:
            continue
        if p.versioned_only and not on_versioned_machine(decision):
            continue
        fact = p.fact
        for rule_id, values, _ in meanings(fact):
            rule = catalogue.get(rule_id)
            severity = rule.severity(decision.tier)
            if not p.certain and severity.at_least(Severity.WARNING):
                severity = Severity.NOTICE  # a suspicion is never more than a notice
            out.append(
                make_finding(
                    catalogue,
                    rule,
                    decision,
                    values,
                    path=fact.path,
                    line=fact.line,
                    side=Side.NEW,
                    vmsd=fact.vmsd,
                    subject=fact.subject,
                    severity=severity,
                )
            )
    out.sort(key=lambda f: (f.path, f.line or 0, -f.severity.rank, f.rule_id))
    return out
