"""Rules turn facts into findings, by tier, with texts from the catalogue."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from bot import facts as F
from bot.catalogue import Catalogue, Rule
from bot.findings import Finding, Severity, Side, TierDecision
from bot.model import FieldModel

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
        for rule_id, values in _rules_for(fact):
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
        message=catalogue.render_message(rule, decision.tier, **values),
        fix=rule.fix_for(path),
        doc_url=rule.doc_url,
        vmsd=vmsd,
        subject=subject,
    )


def _size(f: FieldModel) -> str:
    n = f.wire_bytes()
    if n is None:
        return "an unknown size"
    return "1 byte" if n == 1 else f"{n} bytes"


def _size_text(f: FieldModel) -> str:
    """The size in bytes, or as the source spells it when it cannot be evaluated."""
    if f.wire_bytes() is None and f.size_expr:
        return f"`{f.size_expr}`"
    return _size(f)


def _rules_for(fact: F.Fact) -> Iterable[tuple[str, dict[str, object]]]:
    """The rule(s) a fact breaks, with the values of their message templates."""
    vmsd = fact.vmsd or "?"
    match fact:
        case F.FieldAdded(field=f) if not fact.in_new_vmsd_version and f.test is None:
            yield (
                "MIG001",
                {
                    "vmsd": vmsd,
                    "field": f.name,
                    "position": "at the end" if fact.at_end else "in the middle",
                    "version": (
                        fact.vmsd_version_new if fact.vmsd_version_new is not None else "not shown"
                    ),
                },
            )
        case F.FieldRemoved(field=f, replacement=None):
            yield "MIG002", {"vmsd": vmsd, "field": f.name, "size": _size(f)}
        case F.FieldRemoved(field=f, replacement=r) if r is not None:
            sent, kept = f.wire_bytes(), r.wire_bytes()
            if sent is not None and kept is not None and sent != kept:
                yield (
                    "MIG003",
                    {
                        "vmsd": vmsd,
                        "field": f.name,
                        "size": _size(f),
                        "unused_size": _size(r),
                    },
                )
        case F.FieldChanged(old=o, new=n):
            yield (
                "MIG004",
                {
                    "vmsd": vmsd,
                    "field": n.name,
                    "what": _describe_change(fact.what, o, n),
                    "old": o.macro,
                    "new": n.macro,
                },
            )
        case F.FieldsReordered():
            yield "MIG005", {"vmsd": vmsd, "fields": ", ".join(fact.names)}
        case F.FieldVersionAboveVmsd(field=f):
            yield (
                "MIG006",
                {
                    "vmsd": vmsd,
                    "field": f.name,
                    "field_version": f.version,
                    "vmsd_version": fact.vmsd_version,
                },
            )
        case F.TestComparesVersionEq(field=f):
            yield "MIG007", {"vmsd": vmsd, "field": f.name, "function": fact.function}
        case F.VersionBumped() if fact.nested_in:
            yield (
                "MIG010",
                {
                    "vmsd": vmsd,
                    "old": fact.old,
                    "new": fact.new,
                    "parents": ", ".join(fact.nested_in),
                },
            )
        case F.VersionBumped():
            yield "MIG008", {"vmsd": vmsd, "old": fact.old, "new": fact.new}
        case F.VersionLowered():
            yield "MIG028", {"vmsd": vmsd, "old": fact.old, "new": fact.new}
        case F.MinimumVersionRaised():
            current = int(fact.subject or 0)
            rule = "MIG009" if fact.new > current else "MIG030"
            yield rule, {"vmsd": vmsd, "old": fact.old, "new": fact.new}
        case F.VmsdRenamed():
            yield "MIG017", {"old_name": fact.old_name, "new_name": fact.new_name}
        case F.EndOfListMissing():
            yield "MIG026", {"vmsd": vmsd}
        case F.UnmigratableAdded():
            yield "MIG018", {"vmsd": vmsd}
        case F.SubsectionAdded(needed=None):
            yield "MIG011", {"vmsd": vmsd, "subsection": fact.subject}
        case F.SubsectionAdded(gate=None, needed=needed):
            yield "MIG012", {"vmsd": vmsd, "subsection": fact.subject, "needed": needed}
        case F.SubsectionRemoved():
            yield "MIG015", {"vmsd": vmsd, "subsection": fact.sub_name}
        case F.SubsectionNameInvalid(problem="prefix"):
            yield "MIG013", {"vmsd": vmsd, "subsection": fact.sub_name}
        case F.SubsectionNameInvalid(problem="duplicate"):
            yield "MIG014", {"vmsd": vmsd, "subsection": fact.sub_name}
        case F.NeededRemoved():
            yield "MIG016", {"vmsd": vmsd, "subsection": fact.subject, "function": fact.function}
        case F.SecondRegistration():
            yield "MIG024", {"vmsd": vmsd, "others": ", ".join(fact.others)}
        case F.CompatEntryAdded(entry=e) if fact.newest is not None and e.array != fact.newest:
            yield (
                "MIG019",
                {
                    "driver": e.driver or e.driver_expr,
                    "property": e.prop,
                    "value": e.value,
                    "array": e.array,
                    "newest": fact.newest,
                },
            )
        case F.CompatEntryRemoved(entry=e, array_removed=False):
            yield (
                "MIG020",
                {"driver": e.driver or e.driver_expr, "property": e.prop, "array": e.array},
            )
        case F.CompatEntryValueChanged(old=o, new=e):
            yield (
                "MIG037",
                {
                    "driver": e.driver or e.driver_expr,
                    "property": e.prop,
                    "array": e.array,
                    "old": o.value,
                    "new": e.value,
                },
            )
        case F.CompatEntryMoved(entry=e, narrowed=True):
            yield (
                "MIG021",
                {
                    "driver": e.driver or e.driver_expr,
                    "property": e.prop,
                    "old_array": fact.old_array,
                    "new_array": fact.new_array,
                },
            )
        case F.PropertyAdded(prop=p, compat=()) if _turns_on(p.default) and p.name.startswith("x-"):
            # "x-" properties exist to pin old behaviour for old machine types: one
            # that defaults on with no compat entry is the entry forgotten. A
            # user-facing knob defaulting on usually exposes existing behaviour.
            yield "MIG023", {"property": p.name, "device": p.owner or "?", "default": p.default}
        case F.PropertyDefaultChanged(old=o, new=n, compat=()) if _literal(o.default) or _literal(
            n.default
        ):
            # Between two named constants the change is usually a rename
            # (LOST_TICK_DELAY -> LOST_TICK_POLICY_DELAY): not judged.
            yield (
                "MIG022",
                {"property": n.name, "device": n.owner or "?", "old": o.default, "new": n.default},
            )
        case F.CompatDoneRight(prop=p, entry=e):
            yield (
                "MIG027",
                {
                    "property": p.name,
                    "device": p.owner or "?",
                    "entry": f'{{ "{e.driver or e.driver_expr}", "{e.prop}", "{e.value}" }}',
                    "array": e.array,
                    "gate": fact.gate,
                },
            )
        case F.CompatArrayNotApplied():
            yield "MIG031", {"function": fact.function, "array": fact.array}
        case F.FieldStructMismatch(field=f):
            yield (
                "MIG032",
                {
                    "vmsd": vmsd,
                    "field": f.name,
                    "state": fact.state,
                    "expected": fact.expected,
                },
            )
        case F.CompatEntryWrongDriver(entry=e):
            yield (
                "MIG029",
                {
                    "driver": e.driver or e.driver_expr,
                    "property": e.prop,
                    "device": ", ".join(fact.types),
                },
            )
        case F.RustTwinOneSided():
            yield "MIG025", {"path": fact.path, "twin": fact.twin}
        case F.TwinDiffers():
            yield "MIG038", {"vmsd": fact.vmsd, "twin": fact.twin, "difference": fact.difference}
        case _:
            return


def _literal(value: str | None) -> bool:
    if value is None:
        return False
    return value in ("true", "false") or value[:1].isdigit() or value.startswith(('"', "-"))


def _turns_on(default: str | None) -> bool:
    return default in ("true", "ON_OFF_AUTO_ON")


def _describe_change(what: str, o: FieldModel, n: FieldModel) -> str:
    if what == "size":
        return f"size from {_size_text(o)} to {_size_text(n)}"
    if what == "type":
        return f"type from {o.info or o.macro} to {n.info or n.macro}"
    if what == "count":
        return f"element count from {o.count or 1} to {n.count or 1}"
    if what == "nested":
        return f"nested description from {o.vmsd} to {n.vmsd}"
    if what == "gate":
        return (
            f"stream versions from {o.version or 0} to {n.version or 0}: "
            "streams that hold it are no longer read with it, or the other way round"
        )
    return f"layout ({o.macro} to {n.macro})"
