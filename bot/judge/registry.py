"""What each fact means: the rule(s) it breaks and the values of their messages.

The one place that says which rule a fact is about. `bot.judge.rules` (for a
change), the audit (for a whole tree) and the dump comparison all ask here,
so a rule's meaning is written once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from bot.compare import facts as F
from bot.compare.dumps import DumpIssue, item_size
from bot.scanner.model import CompatEntry, FieldModel

PREFIX_FIXES = frozenset({"MIG013"})
"""Rules whose fix is certain on one line: the subsection's name gets its parent's prefix."""


class Meaning(NamedTuple):
    """A rule broken, the values of its message template, and (when the fact
    does not say) what the finding is about."""

    rule_id: str
    values: dict[str, object]
    subject: str | None = None


def meanings(fact: F.Fact | DumpIssue) -> list[Meaning]:
    """The rule(s) a fact breaks, with the values of their message templates."""
    if isinstance(fact, DumpIssue):
        return _dump_meanings(fact)
    return [Meaning(rule_id, values) for rule_id, values in _fact_meanings(fact)]


def _fact_meanings(fact: F.Fact) -> Iterable[tuple[str, dict[str, object]]]:
    vmsd = fact.vmsd or "an unnamed VMSD"
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
        case F.CompatEntryAdded(entry=e) if fact.released_change and fact.newest:
            yield (
                "MIG039",
                {
                    "driver": e.driver or e.driver_expr,
                    "property": e.prop,
                    "value": e.value,
                    "array": e.array,
                    "newest": fact.newest,
                    "released_change": fact.released_change,
                },
            )
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
            yield (
                "MIG023",
                {"property": p.name, "device": p.owner or "its device", "default": p.default},
            )
        case F.PropertyDefaultChanged(old=o, new=n, compat=()) if _literal(o.default) or _literal(
            n.default
        ):
            # Between two named constants the change is usually a rename
            # (LOST_TICK_DELAY -> LOST_TICK_POLICY_DELAY): not judged.
            yield (
                "MIG022",
                {
                    "property": n.name,
                    "device": n.owner or "its device",
                    "old": o.default,
                    "new": n.default,
                },
            )
        case F.RealizeDefaultChanged(prop=p):
            yield (
                "MIG022",
                {
                    "property": p.name,
                    "device": p.owner or "its device",
                    "old": fact.old_value,
                    "new": fact.new_value,
                },
            )
        case F.CompatDoneRight(prop=p, entry=e):
            yield (
                "MIG027",
                {
                    "property": p.name,
                    "device": p.owner or "its device",
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
        case F.CompatEntryUnmatched(entry=e):
            yield (
                "MIG033",
                {
                    "driver": fact.driver,
                    "property": e.prop,
                    "value": e.value,
                    "array": e.array,
                    "reason": fact.reason,
                },
            )
        case F.DeviceNotMigrated():
            yield "MIG034", {"device": fact.device, "base": fact.base}
        case F.GateRetired(inner=inner):
            yield (
                "MIG040",
                {
                    "vmsd": vmsd,
                    "field": inner.field.name,
                    "test": inner.field.test,
                    "flags": ", ".join(fact.flags),
                },
            )
        case F.Unreleased(inner=inner):
            for rule_id, values in _fact_meanings(inner):
                yield (
                    "MIG038",
                    {
                        "what": Meaning(rule_id, values),
                        "vmsd": vmsd,
                        "release": fact.release,
                        "why_fine": (
                            f"after it '{vmsd}' is sent exactly as {fact.release} sent it, so "
                            "this undoes a change of the current development cycle"
                            if fact.restored
                            else f"'{vmsd}' never sent this in a release (the last one is "
                            f"{fact.release}), so no released QEMU sends or expects it"
                        ),
                    },
                )
        case F.TwinDiffers():
            yield "MIG041", {"vmsd": vmsd, "twin": fact.twin, "difference": fact.difference}
        case F.RustTwinOneSided():
            yield "MIG025", {"path": fact.path, "twin": fact.twin}
        case F.WireSizeChangedFromDistance():
            yield (
                "MIG042",
                {
                    "cause": fact.cause,
                    "vmsd": vmsd,
                    "field": fact.field,
                    "file": f"{fact.field_path}:{fact.field_line}",
                    "old": fact.old_bytes,
                    "new": fact.new_bytes,
                },
            )
        case F.StateNotMigrated():
            yield (
                "MIG044" if fact.how == "write" else "MIG043",
                {
                    "member": fact.subject,
                    "vmsd": vmsd,
                    "writer": fact.writer,
                    "where": f"{fact.writer_path}:{fact.writer_line}",
                    "how": _WRITTEN_BY.get(fact.how, fact.how),
                },
            )
        case _:
            yield from _tree_meanings(fact)


def _entry_text(e: CompatEntry, driver: str | None = None) -> str:
    return f'{{ "{driver or e.driver or e.driver_expr}", "{e.prop}", "{e.value}" }}'


def _tree_meanings(fact: F.Fact) -> Iterable[tuple[str, dict[str, object]]]:
    """Facts found with the head tree: compat targets, machine wiring, sections."""
    match fact:
        case F.CompatEntryNoSuchType(entry=e):
            near = f" (did you mean '{fact.near}'?)" if fact.near else ""
            yield (
                "MIG045",
                {
                    "entry": _entry_text(e, fact.driver),
                    "array": e.array,
                    "driver": fact.driver,
                    "near": near,
                },
            )
        case F.CompatEntryChangesRelease(entry=e):
            yield (
                "MIG059",
                {
                    "entry": _entry_text(e, fact.driver),
                    "array": e.array,
                    "release": fact.release,
                    "shipped": fact.shipped,
                },
            )
        case F.CompatValueInvalid(entry=e):
            yield (
                "MIG046",
                {
                    "entry": _entry_text(e),
                    "property": e.prop,
                    "macro": fact.macro,
                    "expected": fact.expected,
                },
            )
        case F.CompatEntryDuplicated(entry=e):
            sibling = f"; '{fact.sibling}' has no entry, was it meant?" if fact.sibling else ""
            yield (
                "MIG047",
                {
                    "entry": _entry_text(e),
                    "array": e.array,
                    "other_line": fact.other_line,
                    "sibling": sibling,
                },
            )
        case F.MachineOptionsWrongArray():
            yield (
                "MIG048",
                {"function": fact.function, "array": fact.array, "expected": fact.expected},
            )
        case F.MachineOptionsChainBroken():
            how = (
                f"calls {', '.join(f + '()' for f in fact.calls)} instead"
                if fact.calls
                else "chains to no other version"
            )
            yield (
                "MIG049",
                {"what": f"{fact.function}()", "expected": f"{fact.expected}()", "how": how},
            )
        case F.CompatMacroNotChained():
            how = f"includes {', '.join(fact.found)} instead" if fact.found else "includes none"
            yield "MIG049", {"what": fact.macro, "expected": fact.expected, "how": how}
        case F.SectionAddedToExistingDevice():
            yield (
                "MIG050",
                {"device": fact.device, "vmsd": fact.vmsd or "an unnamed VMSD", "how": fact.how},
            )
        case F.FlagInOlderVersion():
            yield (
                "MIG062",
                {
                    "function": fact.function,
                    "member": fact.member,
                    "version": fact.version,
                    "newest": fact.newest,
                },
            )
        case F.GlobalSetInClassOptions():
            yield "MIG061", {"variable": fact.variable, "function": fact.function}
        case F.RemapNotRedoneOnLoad():
            yield (
                "MIG064",
                {
                    "switch": fact.switch,
                    "operation": fact.operation,
                    "writer": fact.writer,
                    "member": fact.member,
                    "vmsd": fact.vmsd or "its VMSD",
                },
            )
        case F.KvmCallInMigrationHook():
            yield (
                "MIG063",
                {
                    "hook": fact.hook,
                    "callee": fact.callee,
                    "vmsd": fact.vmsd or "its SaveVMHandlers",
                    "via": " -> ".join((*fact.via, fact.callee)),
                },
            )
        case F.RegistrationDropped():
            yield (
                "MIG060",
                {
                    "vmsd": fact.vmsd or fact.ident,
                    "ident": fact.ident,
                    "how": fact.how,
                    "function": fact.function or "its file",
                },
            )
        case F.VmsdNameTaken():
            yield "MIG051", {"name": fact.name, "other": fact.other}
        case F.VersionNotConstant():
            yield (
                "MIG052",
                {"vmsd": fact.vmsd or "an unnamed VMSD", "which": fact.which, "expr": fact.expr},
            )
        case F.SubsectionsUnterminated():
            yield "MIG053", {"vmsd": fact.vmsd or "an unnamed VMSD"}
        case F.MachineCompatDropped():
            yield "MIG054", {"what": _compat_dropped(fact), "machine": fact.machine}
        case F.NeededForcedByBoard():
            where = f"{fact.function}()" if fact.function else "board code"
            yield (
                "MIG055",
                {
                    "where": where,
                    "call": fact.call,
                    "property": fact.prop,
                    "subsection": fact.subsection,
                    "device": fact.device_path,
                },
            )
        case F.StreamChanged():
            yield (
                "MIG056",
                {
                    "function": f"{fact.function}()",
                    "stream": f"'{fact.vmsd}'" if fact.vmsd else "it",
                    "what": fact.what,
                    "version": (
                        f"the section still at version {fact.version}"
                        if fact.version is not None
                        else "nothing on the wire to tell the old stream from the new one"
                    ),
                },
            )
        case F.CoreStreamElementAdded():
            yield (
                "MIG056",
                {
                    "function": f"{fact.function}()",
                    "stream": "the migration stream",
                    "what": f"`{fact.element}` is sent unless {fact.flag} is set",
                    "version": (
                        f"and the old machine types of {', '.join(fact.families)} never set "
                        "it: they send it to QEMUs that do not know it"
                    ),
                },
            )
        case F.StreamOutOfSync():
            yield (
                "MIG057",
                {
                    "stream": f"'{fact.vmsd}'" if fact.vmsd else "their stream",
                    "save": f"{fact.save}()",
                    "load": f"{fact.load}()",
                    "what": fact.what,
                },
            )
        case F.StreamVersionBumped():
            yield (
                "MIG058",
                {"vmsd": fact.vmsd or "the section", "old": fact.old, "new": fact.new},
            )
        case _:
            return


def _compat_dropped(fact: F.MachineCompatDropped) -> str:
    set_ = f"`{fact.flag} = {fact.value}`"
    if fact.how == "inverted":
        return f"{fact.function}() now sets `{fact.flag} = {fact.new_value}` instead of {set_}"
    if fact.how == "removed":
        return f"{fact.function}() no longer sets {set_}"
    who = ", ".join(f"{f}()" for f in fact.setters[:3])
    more = f" and {len(fact.setters) - 3} more" if len(fact.setters) > 3 else ""
    if fact.how == "ungated":
        return (
            f"{fact.function}() no longer reads '{fact.flag.split('->')[-1]}', "
            f"while {who}{more} still set {set_}"
        )
    return (
        f"the last code reading '{fact.flag.split('->')[-1]}' is removed, "
        f"while {who}{more} still set {set_}"
    )


_WRITTEN_BY = {
    "tcg-register": "a TCG register (tcg_global_mem_new on its offset)",
    "tcg-store": "a TCG store to its offset",
    "helper": "an instruction helper",
    "mmio-write": "the MemoryRegionOps .write handler",
    "register-table": "a write callback of the CPU's register table",
    "write": "a register write function",
}


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
        return (
            f"nested description from {o.vmsd or 'none (a plain field)'} "
            f"to {n.vmsd or 'none (a plain field)'}"
        )
    if what == "gate":
        return (
            f"stream versions from {o.version or 0} to {n.version or 0}: "
            "streams that hold it are no longer read with it, or the other way round"
        )
    return f"layout ({o.macro} to {n.macro})"


# --- dump issues --------------------------------------------------------------------------


def _bytes(n: object) -> str:
    return f"{n} bytes" if isinstance(n, int) else "an unknown size"


_Rows = list[Meaning]


def _one(rule_id: str, subject: str | None, **values: object) -> _Rows:
    return [Meaning(rule_id, values, subject)]


def _dump_meanings(i: DumpIssue) -> _Rows:
    """(rule, message values, subject) for one issue; empty for harmless ones."""
    where = i.description or i.section
    match i.kind:
        case "section-missing":
            why = (
                "the destination has no section of that name (device removed or renamed, "
                "not built, or no longer setting a VMSD)"
            )
            return _one("MIG035", None, section=i.section, reason=why)
        case "section-entry-missing":
            return _one("MIG035", i.what, section=i.section, reason=f"it has no {i.what} there")
        case "version" if i.field is not None:
            what = f"version from _V({i.src}) to _V({i.dst})"
            return _one(
                "MIG004", i.field, vmsd=where, field=i.field, what=what, old=i.src, new=i.dst
            )
        case "version":
            return _one("MIG028", None, vmsd=where, old=i.src, new=i.dst)
        case "minimum-version":
            return _one("MIG009", None, vmsd=where, old=i.what, new=i.dst)
        case "description-mismatch":
            what = f"nested description from '{i.src}' to '{i.dst}'"
            return _one(
                "MIG004", str(i.src), vmsd=i.section, field=i.src, what=what, old=i.src, new=i.dst
            )
        case "description-entry-missing" if i.what == "Subsections":
            subs = i.src if isinstance(i.src, list) else []
            out: _Rows = []
            for sub in subs:
                out += _one("MIG015", str(sub.get("name")), vmsd=where, subsection=sub.get("name"))
            return out
        case "description-entry-missing" if i.what == "Fields":
            fields = i.src if isinstance(i.src, list) else []
            names = ", ".join(str(f.get("field")) for f in fields[:3])
            names += ", ..." if len(fields) > 3 else ""
            sizes = [item_size(f) for f in fields]
            total = None if None in sizes else sum(x for x in sizes if x is not None)
            return _one("MIG002", "Fields", vmsd=where, field=names, size=_bytes(total))
        case "description-entry-missing":
            why = f"description '{where}' has no {i.what} there"
            return _one("MIG035", f"{where}/{i.what}", section=i.section, reason=why)
        case "field-mismatch":
            return _mismatch_values(i, where)
        case "fields-exhausted":
            return _one("MIG002", i.field, vmsd=where, field=i.field, size=_bytes(i.size))
        case "unused-size":
            return _one(
                "MIG003", i.field, vmsd=where, field=i.field, size="other sizes", unused_size="n"
            )
        case "field-missing-description":
            what = "from a nested VMSD to a plain field"
            return _one(
                "MIG004", i.field, vmsd=where, field=i.field, what=what, old="struct", new="scalar"
            )
        case "size":
            old, new = _bytes(i.src), _bytes(i.dst)
            what = f"size from {old} to {new}"
            return _one("MIG004", i.field, vmsd=where, field=i.field, what=what, old=old, new=new)
        case "subsection-missing":
            return _one("MIG015", i.field, vmsd=where, subsection=i.field)
        case "subsection-added":
            return _one("MIG036", i.field, vmsd=where, subsection=i.field)
        case "field-added":
            return _one(
                "MIG001", i.field, vmsd=where, field=i.field, position="at the end", version=i.src
            )
    return []


def _mismatch_values(i: DumpIssue, where: str) -> _Rows:
    s, d = str(i.src), str(i.dst)
    match i.what:
        case "removed":
            return _one("MIG002", s, vmsd=where, field=s, size=_bytes(i.size))
        case "added":
            return _one(
                "MIG001",
                d,
                vmsd=where,
                field=d,
                position="in the middle",
                version="not in the dump",
            )
        case "added-gated" | "renamed":
            return []  # versioning (a _V or _TEST field in the middle), or a mere rename
        case "reordered":
            return _one("MIG005", f"{s},{d}", vmsd=where, fields=f"{s}, {d}")
    what = f"name from '{s}' to '{d}' (harmless only if the field was merely renamed)"
    return _one("MIG004", s, vmsd=where, field=s, what=what, old=s, new=d)
