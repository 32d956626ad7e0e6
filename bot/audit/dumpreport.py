"""Dump differences as a report: findings of the catalogue, placed on the destination dump."""

from __future__ import annotations

from collections.abc import Sequence

from bot.compare.dumps import DumpIssue
from bot.findings import Finding, Report, Side, Tier
from bot.judge.catalogue import Catalogue, load_catalogue
from bot.judge.registry import meanings


def issues_to_report(
    issues: Sequence[DumpIssue],
    *,
    src_name: str,
    dst_name: str,
    tier: Tier = Tier.BIDIRECTIONAL,
    catalogue: Catalogue | None = None,
) -> Report:
    """Findings of the catalogue, placed on the destination dump (no source lines)."""
    catalogue = catalogue or load_catalogue()
    reason = f"tier {tier.value}: set for the comparison (dumps carry no source paths)"
    findings: list[Finding] = []
    seen: set[str] = set()
    for i in issues:
        for rule_id, values, subject in meanings(i):
            rule = catalogue.get(rule_id)
            finding = Finding(
                rule_id=rule.id,
                slug=rule.slug,
                title=rule.title,
                severity=rule.severity(tier),
                tier=tier,
                tier_reason=reason,
                path=dst_name,
                line=None,
                side=Side.FILE,
                message=f"{i.section}: " + catalogue.render_message(rule, tier, **values),
                fix=rule.fix,
                doc_url=rule.doc_url,
                vmsd=i.section,
                subject=f"{i.description or ''}/{subject or ''}",
            )
            if finding.fingerprint not in seen:
                seen.add(finding.fingerprint)
                findings.append(finding)
    notes = [
        f'machine types differ: "{i.src}" in {src_name}, "{i.dst}" in {dst_name}'
        for i in issues
        if i.kind == "machine-mismatch"
    ]
    upstream = sum(1 for i in issues if i.upstream and i.kind != "machine-mismatch")
    notes.append(
        f"{upstream} of the differences are ones scripts/vmstate-static-checker.py reports; "
        f"{sum(1 for i in issues if not i.upstream)} come from checks it lacks"
    )
    return Report(
        change_title=f"vmstate dumps: {src_name} -> {dst_name}",
        base=src_name,
        head=dst_name,
        findings=tuple(findings),
        files_scanned=2,
        notes=tuple(notes),
    )
