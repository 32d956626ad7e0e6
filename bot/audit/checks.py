"""Latent problems of a whole tree: pure checks over the scanned models.

Each check yields `Problem`s: a fact about the tree, the same kinds of fact a
change yields (`bot.compare.facts`), so one registry says which rule each
breaks (`bot.judge.registry`). They say what is wrong whatever the tier; whether and
how loudly it is reported is decided with the tier (`bot.audit.judge`).

Every check is written to be quiet when unsure: a name that does not resolve,
a type whose parent is not in the tree, a VMSD declared twice, are skipped,
never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from bot.audit.index import Located, TreeIndex, TypeEntry
from bot.audit.walk import TextFacts
from bot.compare import facts as F
from bot.findings import Tier
from bot.judge.registry import meanings
from bot.scanner.model import CompatArray, CompatEntry, FieldModel, FileModel


@dataclass(frozen=True, slots=True)
class Problem:
    """A fact about the tree that breaks a rule (see `bot.judge.registry`); no tier yet."""

    fact: F.Fact
    tiers: frozenset[Tier] | None = None
    """Report only for files of these tiers (None: every tier)."""
    versioned_only: bool = False
    """Report only for files a versioned machine type can contain."""
    certain: bool = True
    """False for rules that can only suspect (MIG034): never above notice."""


def _label(index: TreeIndex, loc: Located) -> str:
    return index.name_of(loc) or loc.vmsd.name_expr or loc.vmsd.ident


# --- VMSD consistency (MIG006, MIG026) -------------------------------------------


def field_versions(index: TreeIndex) -> Iterator[Problem]:
    """MIG006: a ``_V(n)`` field (or a wrapper macro fixing n) above its VMSD's version.

    The section is sent at the VMSD's ``version_id`` and a field is sent only
    when its version is at most that: such a field is never migrated.
    """
    for loc in index.vmsds():
        v = loc.vmsd
        if v.unmigratable or v.version_id is None:
            continue
        for f in v.fields:
            if f.version is not None and f.version > v.version_id and f.test is None:
                yield Problem(
                    F.FieldVersionAboveVmsd(
                        path=loc.path,
                        line=f.line,
                        vmsd=_label(index, loc),
                        subject=f.name,
                        field=f,
                        vmsd_version=v.version_id,
                    )
                )


def end_of_list(index: TreeIndex) -> Iterator[Problem]:
    """MIG026: a field list (inline or a named array found in the file) without
    ``VMSTATE_END_OF_LIST()``."""
    for loc in index.vmsds():
        v = loc.vmsd
        if v.fields and not v.has_end_of_list and all(f.understood for f in v.fields):
            yield Problem(
                F.EndOfListMissing(path=loc.path, line=v.fields[-1].line, vmsd=_label(index, loc))
            )


# --- subsections (MIG011, MIG013, MIG014) ----------------------------------------


def _name_invalid(sub: Located, parent: str, name: str, problem: str) -> F.Fact:
    return F.SubsectionNameInvalid(
        path=sub.path,
        line=sub.vmsd.line,
        vmsd=parent,
        subject=name,
        parent_name=parent,
        sub_name=name,
        problem=problem,
    )


def subsection_names(index: TreeIndex) -> Iterator[Problem]:
    """MIG013 (name not prefixed by the parent's) and MIG014 (sibling duplicates)."""
    for loc in index.vmsds():
        if not loc.vmsd.subsections:
            continue
        parent = index.name_of(loc)
        if parent is None:
            continue
        seen: set[str] = set()
        for sub in index.subsections(loc):
            name = index.name_of(sub)
            if name is None:
                continue
            if not name.startswith(parent):
                yield Problem(_name_invalid(sub, parent, name, "prefix"))
            if name in seen:
                yield Problem(_name_invalid(sub, parent, name, "duplicate"))
            seen.add(name)


@dataclass(frozen=True, slots=True)
class Baseline:
    """Section names a release once had: which subsections are new since."""

    release: str
    """``5.1``: the oldest release whose machine types are still registered."""
    names: frozenset[str]
    """Every VMSD ``.name`` literal of that release's tree."""


def subsections_always_sent(index: TreeIndex, baseline: Baseline | None) -> Iterator[Problem]:
    """MIG011 for subsections with no ``.needed`` added since ``baseline``.

    A subsection without ``.needed`` is sent in every migration. That is harmless
    when every QEMU still able to run the oldest registered machine type knows it;
    it breaks backward migration when it appeared later, on a device that
    already existed then. Both are decided against the baseline release: the
    parent's name was there, the subsection's was not. Without a baseline
    nothing is reported.
    """
    if baseline is None:
        return
    for loc in index.vmsds():
        parent = index.name_of(loc)
        if parent is None or parent not in baseline.names:
            continue
        for sub in index.subsections(loc):
            name = index.name_of(sub)
            if sub.vmsd.needed is not None or name is None or name in baseline.names:
                continue
            yield Problem(
                F.SubsectionAdded(
                    path=sub.path,
                    line=sub.vmsd.line,
                    vmsd=parent,
                    subject=name,
                    sub=sub.vmsd,
                    needed=None,
                    gate=None,
                    new_parent=False,
                ),
                tiers=frozenset({Tier.BIDIRECTIONAL}),
            )


# --- fields in the wrong struct (MIG032) -------------------------------------------


def _struct(name: str) -> str:
    return name.removeprefix("struct ").strip()


def struct_mismatch(index: TreeIndex) -> Iterator[Problem]:
    """MIG032: a field whose offset is taken in a struct the VMSD is not applied to.

    Decidable when the VMSD is some type's ``dc->vmsd``: the opaque is then that
    type's instance. Structs of its QOM parents are fine (a parent is the first
    member, so its offsets are the same), as are those of subclasses (a VMSD set on
    an abstract parent is applied to the subclass instances).
    """
    users: dict[tuple[str, str], list[TypeEntry]] = {}
    for entry in index.types():
        found = index.own_vmsd(entry)
        if found is not None:
            users.setdefault((found.model.path, found.ident), []).append(entry)
    for (path, ident), entries in sorted(users.items()):
        model = index.model(path)
        loc = index.find_vmsd(ident, model) if model is not None else None
        if loc is None:
            continue
        # Each user must accept the struct: the VMSD is applied to its instance.
        wrong: dict[str, list[FieldModel]] = {}
        wrong_for: dict[str, list[TypeEntry]] = {}
        for entry in entries:
            allowed = _accepted_structs(index, entry.name)
            if not allowed:
                continue  # no instance struct known: nothing to decide
            for f in loc.vmsd.wire_fields:
                if f.state is None or _struct(f.state) in allowed:
                    continue
                state = _struct(f.state)
                if f not in wrong.setdefault(state, []):
                    wrong[state].append(f)
                if entry not in wrong_for.setdefault(state, []):
                    wrong_for[state].append(entry)
        for state, fields in wrong.items():
            users_of = wrong_for[state]
            expected = sorted({s for e in users_of if (s := index.instance_struct(e.name))})
            # One finding per wrong struct: a whole VMSD applied to the wrong
            # object is one mistake, however many fields it has.
            more = f" (and {len(fields) - 1} more fields)" if len(fields) > 1 else ""
            yield Problem(
                F.FieldStructMismatch(
                    path=loc.path,
                    line=fields[0].line,
                    vmsd=_label(index, loc),
                    subject=state,
                    field=replace(fields[0], name=fields[0].name + more),
                    state=state,
                    # The catalogue's wording is about the other fields; say where
                    # the expectation comes from when it is the type, not them.
                    expected=f"{' or '.join(_struct(x) for x in expected)} (it is the "
                    f"dc->vmsd of {', '.join(sorted(e.name for e in users_of))})",
                )
            )


def _accepted_structs(index: TreeIndex, name: str) -> set[str]:
    """Structs whose offsets are right in an instance of ``name``: its own and its
    parents' (a parent is the first member), and its subclasses' (a VMSD set on an
    abstract parent is applied to subclass instances). Empty when none is known."""
    if index.instance_struct(name) is None:
        return set()
    out: set[str] = set()
    for sub in [name, *index.descendants(name)]:
        out.update(_struct(e.info.instance) for e in index.ancestors(sub) if e.info.instance)
    return out


# --- compat entries (MIG033) --------------------------------------------------------

LiteralHits = Mapping[str, Sequence[tuple[str, int]]]
"""Where each string appears as a C string literal, compat arrays left out."""

_CPU_MODEL = re.compile(r"^(?P<model>.+)-(?P<base>[a-z0-9_]+-cpu)$")


def compat_entries(models: Iterable[FileModel]) -> Iterator[tuple[str, CompatArray, CompatEntry]]:
    for m in models:
        for arr in m.compat_arrays:
            for e in arr.entries:
                yield m.path, arr, e


def entry_driver(index: TreeIndex, e: CompatEntry) -> str | None:
    return e.driver or index.resolve(e.driver_expr)


def entry_property(index: TreeIndex, e: CompatEntry) -> str | None:
    return index.strings.get(e.prop) or index.resolve(e.prop)


def compat_strings(index: TreeIndex) -> set[str]:
    """Every string `unknown_compat_properties` looks up in `LiteralHits`."""
    out: set[str] = set()
    for _, _, e in compat_entries(index.models):
        driver, prop = entry_driver(index, e), entry_property(index, e)
        if prop:
            out.add(prop)
        if driver:
            out.add(driver)
            m = _CPU_MODEL.match(driver)
            if m:
                out.update((m.group("model"), m.group("base")))
    return out


def unknown_compat_properties(
    index: TreeIndex, literals: LiteralHits, oldest: tuple[int, int] | None = None
) -> Iterator[Problem]:
    """MIG033: a compat entry that can match nothing the tree defines.

    Arrays older than ``oldest`` (the oldest machine version still registered)
    only serve machine types QEMU no longer registers: they are dead code that
    goes with those machines, and are not looked at.

    Decided from spelling alone, which is certain: the property name, or the
    driver's type name, is a string nowhere in the tree's C, headers or Rust but
    in compat arrays. Whether a spelled property belongs to the driver's type is
    not decided: properties are also added by helpers of other files
    (``ich9_pm_add_properties``), which a scan of ``TypeInfo``s cannot follow.
    """
    for path, arr, e in compat_entries(index.models):
        if e.optional:
            continue  # applied only where the property exists, by design
        if oldest is not None and arr.version is not None and arr.version < oldest:
            continue
        driver, prop = entry_driver(index, e), entry_property(index, e)
        if driver is None or prop is None:
            continue
        if not literals.get(prop):
            reason = f"no code of the tree defines a property '{prop}'"
        elif not _type_spelled(index, literals, driver):
            reason = f"no code of the tree defines a type '{driver}'"
        else:
            continue
        yield Problem(
            F.CompatEntryUnmatched(
                path=path,
                line=e.line,
                subject=f"{driver}.{prop}",
                entry=replace(e, array=arr.name, prop=prop),
                driver=driver,
                reason=reason,
            )
        )


def _type_spelled(index: TreeIndex, literals: LiteralHits, driver: str) -> bool:
    if driver in index.type_names() or literals.get(driver):
        return True
    # CPU model types are registered from a table: "EPYC" + "-" + "x86_64-cpu".
    m = _CPU_MODEL.match(driver)
    return bool(m and literals.get(m.group("model")))


# --- devices that migrate nothing (MIG034) --------------------------------------------

STATEFUL_BASES = ("pci-device", "usb-device")
"""Every device under these has state a VMSD must carry (PCI config space and
BARs, the USB address and configuration), and is user-creatable by default."""

ISA_BASE = "isa-device"
"""User-creatable by default; stateful only if it resets something."""

STATE_ELSEWHERE = ("virtio-pci", "virtio-device", "vhost-user-base", "scsi-device", "ccw-device")
"""Bases whose devices migrate through another object's VMSD (a virtio proxy
saves with its virtio device, a SCSI device through its bus)."""

_NOT_FOR_PRODUCTION = re.compile(r"test|debug|^edu$")
"""Test and debug devices: nobody expects them to migrate."""


def devices_without_vmsd(index: TreeIndex, facts: Mapping[str, TextFacts]) -> Iterator[Problem]:
    """MIG034: a user-creatable device class with state, no ``dc->vmsd``, no blocker.

    Only leaf types (no subclass in the tree) under a PCI or USB base, or an ISA
    base when the class installs a reset handler; none of their parents sets
    ``dc->vmsd``; and the files of the types between the device and its base
    neither add a migration blocker (nor include migration/blocker.h), register
    state by hand, mark a VMSD unmigratable, nor set ``user_creatable = false``
    in the class. Test, debug and Xen devices are left out. The judge reports it
    only for files that versioned machine types can contain.
    """
    for entry in sorted(index.types(), key=lambda e: (e.path, e.info.line)):
        if index.has_children(entry.name) or index.type(entry.name) is None:
            continue
        if _NOT_FOR_PRODUCTION.search(entry.name) or entry.path.startswith("hw/xen/"):
            continue
        lineage = index.lineage(entry.name)
        base = next((b for b in (*STATEFUL_BASES, ISA_BASE) if b in lineage), None)
        if base is None or any(b in lineage for b in STATE_ELSEWHERE):
            continue
        chain = index.ancestors(entry.name)
        if any(index.own_vmsd(e) for e in chain):
            continue
        own = [e for e in chain if lineage.index(e.name) < lineage.index(base)]
        if not own or not any(e.info.instance for e in own):
            continue  # no state struct of its own
        if any(_opts_out(e, facts.get(e.path)) for e in own):
            continue
        if base == ISA_BASE and not any(_resets(e, facts.get(e.path)) for e in own):
            continue
        yield Problem(
            F.DeviceNotMigrated(
                path=entry.path,
                line=entry.info.line,
                subject=entry.name,
                device=entry.name,
                base=base,
            ),
            versioned_only=True,
            certain=False,
        )


def _in_class_init(entry: TypeEntry, lines: Iterable[int]) -> bool:
    init = entry.model.function(entry.info.class_init or "")
    return init is not None and any(init.line <= ln <= init.end_line for ln in lines)


def _opts_out(entry: TypeEntry, facts: TextFacts | None) -> bool:
    if facts is None or entry.info.class_init is None:
        return True  # cannot tell: say nothing
    if facts.blocker_lines or facts.savevm_lines or facts.includes_blocker_h:
        return True
    if any(v.unmigratable for v in entry.model.vmsds):
        return True
    return _in_class_init(entry, facts.not_user_creatable_lines)


def _resets(entry: TypeEntry, facts: TextFacts | None) -> bool:
    return facts is not None and _in_class_init(entry, facts.reset_lines)


# --- all of them ----------------------------------------------------------------------


def run_checks(
    index: TreeIndex,
    facts: Mapping[str, TextFacts],
    literals: LiteralHits,
    baseline: Baseline | None,
    oldest: tuple[int, int] | None = None,
) -> list[Problem]:
    """Every check, in catalogue order; one problem per (rule, path, VMSD, subject).

    ``oldest`` is the oldest machine version still registered, when known.
    """
    checks: Sequence[Callable[[], Iterable[Problem]]] = (
        lambda: field_versions(index),
        lambda: subsections_always_sent(index, baseline),
        lambda: subsection_names(index),
        lambda: end_of_list(index),
        lambda: struct_mismatch(index),
        lambda: unknown_compat_properties(index, literals, oldest),
        lambda: devices_without_vmsd(index, facts),
    )
    out: list[Problem] = []
    seen: set[tuple[tuple[str, ...], str, str | None, str | None]] = set()
    for check in checks:
        for p in check():
            # The same problem read twice (a VMSD under two #if branches) is one.
            rules = tuple(m.rule_id for m in meanings(p.fact))
            key = (rules, p.fact.path, p.fact.vmsd, p.fact.subject)
            if key not in seen:
                seen.add(key)
                out.append(p)
    return out
