"""Rules turn facts into findings, by tier, with texts from the catalogue."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from bot.compare import facts as F
from bot.findings import Finding, Severity, Side, TierDecision
from bot.judge.catalogue import Catalogue, Rule
from bot.judge.registry import Meaning, meanings

TierOf = Callable[[str], TierDecision]


_GROUP_ABOVE = 3
"""More unversioned fields than this added to one VMSD make one finding, not one each."""


def _grouped(facts: Sequence[F.Fact]) -> list[F.Fact]:
    """One finding for a VMSD that gains many unversioned fields at once (a rewrite)."""
    groups: dict[tuple[str, str | None], list[F.FieldAdded]] = {}
    for fact in facts:
        if isinstance(fact, F.FieldAdded) and not fact.in_new_vmsd_version and not fact.field.test:
            groups.setdefault((fact.path, fact.vmsd), []).append(fact)
    big = {key: group for key, group in groups.items() if len(group) > _GROUP_ABOVE}
    if not big:
        return list(facts)
    out: list[F.Fact] = []
    for fact in facts:
        key = (fact.path, fact.vmsd)
        if isinstance(fact, F.FieldAdded) and key in big and fact in big[key]:
            group = big.pop(key, None)
            if group is None:
                continue
            names = [g.field.name for g in group]
            shown = names[:3]
            label = ", ".join(shown) + f" and {len(names) - len(shown)} more fields"
            out.append(
                replace(
                    group[0],
                    subject="fields",
                    field=replace(group[0].field, name=label),
                    at_end=all(g.at_end for g in group),
                )
            )
        elif not (
            isinstance(fact, F.FieldAdded)
            and any(fact in g for g in groups.values() if len(g) > _GROUP_ABOVE)
        ):
            out.append(fact)
    return out


def judge(facts: Sequence[F.Fact], tier_of: TierOf, catalogue: Catalogue) -> list[Finding]:
    out: list[Finding] = []
    seen: set[str] = set()
    for fact in _grouped(facts):
        for rule_id, values, _ in meanings(fact):
            finding = make_finding(
                catalogue,
                catalogue.get(rule_id),
                tier_of(fact.path),
                values,
                path=fact.path,
                line=fact.line,
                side=fact.side,
                vmsd=fact.vmsd,
                subject=fact.subject,
            )
            if finding.fingerprint in seen:
                continue
            seen.add(finding.fingerprint)
            out.append(finding)
    out.sort(key=lambda f: (f.path, f.line or 0, -f.severity.rank, f.rule_id))
    return out


def _rendered(catalogue: Catalogue, values: Mapping[str, object]) -> dict[str, object]:
    """Values that are themselves meanings (another rule's, quoted) as that rule's text."""
    return {
        key: catalogue.render_message(value.rule_id, None, **value.values)
        if isinstance(value, Meaning)
        else value
        for key, value in values.items()
    }


def make_finding(
    catalogue: Catalogue,
    rule: Rule,
    decision: TierDecision,
    values: Mapping[str, object],
    *,
    path: str,
    line: int | None,
    side: Side,
    vmsd: str | None,
    subject: str | None,
    severity: Severity | None = None,
) -> Finding:
    """A finding of ``rule`` at the decided tier, its text from the catalogue.

    ``severity`` overrides the catalogue's for that tier (the audit lowers
    suspicions to notices).
    """
    return Finding(
        rule_id=rule.id,
        slug=rule.slug,
        title=rule.title,
        severity=severity or rule.severity(decision.tier),
        tier=decision.tier,
        tier_reason=decision.reason,
        path=path,
        line=line,
        side=side,
        message=catalogue.render_message(rule, decision.tier, **_rendered(catalogue, values)),
        fix=rule.fix_for(path),
        doc_url=rule.doc_url,
        vmsd=vmsd,
        subject=subject,
    )
