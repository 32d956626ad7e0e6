"""Facts about subsections: added, removed, renamed, and what gates them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from bot.compare import facts as F
from bot.compare.context import Context, FileModels
from bot.compare.properties import props_by_name
from bot.scanner.model import (
    FileModel,
    FunctionSummary,
    PropertyModel,
    VmsdModel,
)


def subsection_facts(
    fm: FileModels,
    o: VmsdModel,
    v: VmsdModel,
    name: str,
    ctx: Context,
    props: Mapping[str, PropertyModel],
) -> Iterable[F.Fact]:
    assert fm.old is not None and fm.new is not None
    old_names = {ctx.name_of(s, fm.old, old=True): s for s in _subs(o, fm.old)}
    new_subs = _subs(v, fm.new)
    new_names = {ctx.name_of(s, fm.new): s for s in new_subs}
    for sname, sub in new_names.items():
        if sname in old_names or sub.ident in {s.ident for s in old_names.values()}:
            continue
        gate = _gate(sub.needed, fm.new, props)
        fn = fm.new.function(sub.needed) if sub.needed else None
        if gate is None and fn is not None:
            gate = _new_feature(fn, fm.new, ctx)
        always = fn is not None and fn.returns_constant in ("true", "1")
        yield F.SubsectionAdded(
            path=fm.path,
            line=sub.line,
            vmsd=name,
            subject=sname,
            sub=sub,
            needed=None if always else sub.needed,
            gate=gate,
            new_parent=False,
        )
    new_idents = {s.ident for s in new_subs}
    for sname, sub in old_names.items():
        if sname not in new_names and sub.ident not in new_idents:
            if fm.old is not None and _gated_by_retired_feature(sub, fm.old, ctx):
                continue
            yield F.SubsectionRemoved(
                path=fm.path,
                line=v.subsections_line or v.line,
                vmsd=name,
                subject=sname,
                sub_name=sname,
            )
    # A subsection list naming a VMSD from another file cannot be checked here.


def _subs(v: VmsdModel, model: FileModel) -> list[VmsdModel]:
    return [s for s in (model.vmsd(i) for i in v.subsections) if s is not None]


def _gate(needed: str | None, model: FileModel, props: Mapping[str, PropertyModel]) -> str | None:
    """The property-backed member a ``.needed``/test function reads, if any."""
    if needed is None:
        return None
    fn = model.function(needed)
    if fn is None:
        return None
    members = {leaf(p.member) for p in props.values() if p.member} | {
        leaf(p.member) for p in model.properties if p.member
    }
    hit = sorted(fn.members & members)
    if hit:
        return hit[0]
    return _gate_through_calls(fn, model, members)


_FEATURE = re.compile(r"FEATURE|^ext_|^has_|_EXT_|^CPUID_")


def _new_feature(fn: FunctionSummary, model: FileModel, ctx: Context) -> str | None:
    """A CPU feature the ``.needed`` tests that the base tree does not know: every CPU
    model of a released machine type lacks it, so the subsection is sent only where
    the new feature is enabled. A feature that existed before gates nothing new."""
    for name in _features_read(fn, model):
        if not ctx.mentioned_old(name):
            return f"the new CPU feature {name}"
    return None


def _gated_by_retired_feature(sub: VmsdModel, model: FileModel, ctx: Context) -> bool:
    """The removed subsection was sent only for CPUs with a feature that nothing in
    the tree after the change spells any more (the CPU models that had it went
    first, or go with it): no machine type can send or expect it, so removing it
    is cleanup, as for a ``_TEST`` field retired with its flag."""
    fn = model.function(sub.needed) if sub.needed else None
    if fn is None:
        return False
    features = _features_read(fn, model)
    return bool(features) and not any(ctx.mentioned(n) for n in features)


def _features_read(fn: FunctionSummary, model: FileModel) -> list[str]:
    """CPU features a ``.needed`` reads, itself or through the file's functions it calls."""
    names = {leaf(n) for n in fn.identifiers | fn.members}
    for callee in fn.identifiers:
        other = model.function(callee)
        if other is not None and other is not fn:
            names |= {leaf(n) for n in other.identifiers | other.members}
    return sorted(n for n in names if _FEATURE.search(n))


def leaf(member: str) -> str:
    """``qdev.migrate_pr`` -> ``migrate_pr``: what a function reads as ``s->qdev.migrate_pr``."""
    return re.split(r"\.|->", member)[-1].strip()


def instance_struct(model: FileModel, ident: str) -> str | None:
    inits = {r.function for r in model.registrations if r.vmsd == ident and r.kind == "dc->vmsd"}
    found = {t.instance for t in model.types if t.class_init in inits and t.instance}
    return found.pop() if len(found) == 1 else None


def reads_runtime_state(needed: str, model: FileModel) -> bool:
    """True when a ``.needed`` reads device state rather than configuration.

    A test of a property or of a machine-class flag (a global, no member read)
    is configuration: dropping it once the old machine types are gone is cleanup.
    """
    fn = model.function(needed)
    if fn is None or not fn.members:
        return False
    return _gate(needed, model, props_by_name([model])) is None


def _gate_through_calls(fn: FunctionSummary, model: FileModel, members: set[str]) -> str | None:
    for callee in fn.identifiers:
        other = model.function(callee)
        if other is not None and other is not fn:
            hit = sorted(other.members & members)
            if hit:
                return hit[0]
    return None
