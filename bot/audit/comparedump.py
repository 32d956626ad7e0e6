"""Compare two ``-dump-vmstate`` JSON dumps: would migration from SRC to DST load?

A reimplementation (nothing of it is imported or run) of every check of QEMU's
scripts/vmstate-static-checker.py, walked in the same order and with the same
allowances (fields and sections renamed in QEMU's history, fields moved into a
struct without changing the wire, ``VMSTATE_UNUSED`` padding matched by size):
section missing, version and minimum-version errors, description missing or
renamed, entry missing, field name/order mismatch, fewer fields, unused-size
and size mismatches, missing subsection. Two checks it lacks are added: fields
the destination expects after the last one the source sends (no version or
test gating them), and subsections only the destination has (backward breaks
whenever they are sent).

`compare_dumps` returns `DumpIssue` values; `issues_to_report` makes them
findings of the rule catalogue; `upstream_lines` prints them as the upstream
checker would, for side-by-side use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.catalogue import Catalogue, load_catalogue
from bot.findings import Finding, Report, Side, Tier

# Fields and sections renamed in QEMU's history without changing the wire
# (the allowances of scripts/vmstate-static-checker.py, as data).
CHANGED_FIELD_NAMES: Mapping[str, tuple[str, ...]] = {
    "acpi-ghes": ("ghes_addr_le", "hw_error_le"),
    "apic": ("timer", "timer_expiry"),
    "e1000": ("dev", "parent_obj"),
    "ehci": ("dev", "pcidev"),
    "I440FX": ("dev", "parent_obj"),
    "ich9_ahci": ("card", "parent_obj"),
    "ich9-ahci": ("ahci", "ich9_ahci"),
    "ioh3420": ("PCIDevice", "PCIEDevice"),
    "ioh-3240-express-root-port": (
        "port.br.dev",
        "parent_obj.parent_obj.parent_obj",
        "port.br.dev.exp.aer_log",
        "parent_obj.parent_obj.parent_obj.exp.aer_log",
    ),
    "cirrus_vga": ("hw_cursor_x", "vga.hw_cursor_x", "hw_cursor_y", "vga.hw_cursor_y"),
    "lsiscsi": ("dev", "parent_obj"),
    "mch": ("d", "parent_obj"),
    "pci_bridge": ("bridge.dev", "parent_obj", "bridge.dev.shpc", "shpc"),
    "pcnet": ("pci_dev", "parent_obj"),
    "PIIX3": ("pci_irq_levels", "pci_irq_levels_vmstate"),
    "piix4_pm": (
        "dev",
        "parent_obj",
        "pci0_status",
        "acpi_pci_hotplug.acpi_pcihp_pci_status[0x0]",
        "pm1a.sts",
        "ar.pm1.evt.sts",
        "pm1a.en",
        "ar.pm1.evt.en",
        "pm1_cnt.cnt",
        "ar.pm1.cnt.cnt",
        "tmr.timer",
        "ar.tmr.timer",
        "tmr.overflow_time",
        "ar.tmr.overflow_time",
        "gpe",
        "ar.gpe",
    ),
    "rtl8139": ("dev", "parent_obj"),
    "qxl": ("num_surfaces", "ssd.num_surfaces"),
    "usb-ccid": ("abProtocolDataStructure", "abProtocolDataStructure.data"),
    "usb-host": ("dev", "parent_obj"),
    "usb-mouse": ("usb-ptr-queue", "HIDPointerEventQueue"),
    "usb-tablet": ("usb-ptr-queue", "HIDPointerEventQueue"),
    "vmware_vga": ("card", "parent_obj"),
    "vmware_vga_internal": ("depth", "new_depth"),
    "xhci": ("pci_dev", "parent_obj"),
    "x3130-upstream": ("PCIDevice", "PCIEDevice"),
    "xio3130-express-downstream-port": (
        "port.br.dev",
        "parent_obj.parent_obj.parent_obj",
        "port.br.dev.exp.aer_log",
        "parent_obj.parent_obj.parent_obj.exp.aer_log",
    ),
    "xio3130-downstream": ("PCIDevice", "PCIEDevice"),
    "xio3130-express-upstream-port": (
        "br.dev",
        "parent_obj.parent_obj",
        "br.dev.exp.aer_log",
        "parent_obj.parent_obj.exp.aer_log",
    ),
    "spapr_pci": (
        "dma_liobn[0]",
        "mig_liobn",
        "mem_win_addr",
        "mig_mem_win_addr",
        "mem_win_size",
        "mig_mem_win_size",
        "io_win_addr",
        "mig_io_win_addr",
        "io_win_size",
        "mig_io_win_size",
    ),
    "hpet": ("num_timers", "num_timers_save"),
}
CHANGED_SECTION_NAMES: Mapping[str, str] = {"ICH9 LPC": "ICH9-LPC", "e1000-82540em": "e1000"}

MACHINE = "vmschkmachine"


@dataclass(frozen=True, slots=True)
class DumpIssue:
    """One difference between the dumps, as the upstream checker would see it."""

    kind: str
    section: str
    description: str | None = None
    field: str | None = None
    src: Any = None
    dst: Any = None
    what: str | None = None
    """Extra context: the entry name, or how a field mismatch reads (``added``...)."""
    size: int | None = None
    """Bytes of the source field concerned, when the dump says."""
    upstream: bool = True
    """Also reported by scripts/vmstate-static-checker.py."""


Dumps = Mapping[str, Any]


def compare_dumps(src: Dumps, dst: Dumps) -> list[DumpIssue]:
    """What breaks migrating from the QEMU that wrote ``src`` to the one of ``dst``."""
    walk = _Walk()
    for sec, s in src.items():
        dest_sec = sec
        if dest_sec not in dst:
            dest_sec = _changed_section(sec)
            if dest_sec not in dst:
                walk.add("section-missing", sec)
                continue
        d = dst[dest_sec]
        if sec == MACHINE:
            if s.get("Name") != d.get("Name"):
                walk.add("machine-mismatch", sec, src=s.get("Name"), dst=d.get("Name"))
            continue
        walk.version(s, d, sec, None)
        for entry in s:
            if entry not in d:
                walk.add("section-entry-missing", sec, what=entry)
                continue
            if entry == "Description":
                walk.descriptions(s[entry], d[entry], sec)
    return walk.issues


def _changed_section(sec: str) -> str:
    for old, new in CHANGED_SECTION_NAMES.items():
        if old == sec:
            return new
        if new == sec:
            return old
    return ""


def fields_match(name: str, s_field: str, d_field: str) -> bool:
    if s_field == d_field:
        return True
    known = CHANGED_FIELD_NAMES.get(name, ())
    return s_field in known and d_field in known


def _size(item: Mapping[str, Any]) -> int | None:
    size = item.get("size")
    if not isinstance(size, int):
        return None
    num = item.get("num", 1)
    return size * num if isinstance(num, int) else None


def _in_substruct(item: Mapping[str, Any], name: str) -> bool:
    """The upstream allowance: ``name`` is the first field of ``item``'s struct."""
    desc = item.get("Description")
    if not isinstance(desc, Mapping):
        return False
    fields = desc.get("Fields")
    if not fields:
        return False
    return fields_match(str(desc.get("name")), str(fields[0].get("field")), name)


class _Walk:
    def __init__(self) -> None:
        self.issues: list[DumpIssue] = []

    def add(self, kind: str, section: str, **kw: Any) -> None:
        self.issues.append(DumpIssue(kind, section, **kw))

    def version(
        self,
        s: Mapping[str, Any],
        d: Mapping[str, Any],
        sec: str,
        desc: str | None,
        field: str | None = None,
    ) -> None:
        sv, dv = s.get("version_id"), d.get("version_id")
        if isinstance(sv, int) and isinstance(dv, int) and sv > dv:
            self.add("version", sec, description=desc, field=field, src=sv, dst=dv)
        dmin = d.get("minimum_version_id")
        # Upstream counts the minimum only within a description; the section level
        # repeats the description's values in every real dump.
        if desc is not None and isinstance(sv, int) and isinstance(dmin, int) and sv < dmin:
            smin = s.get("minimum_version_id")
            # The message says from which minimum it was raised: the source's own,
            # or, when a hand-edited dump has it above, the version it sends.
            old = smin if isinstance(smin, int) and smin < dmin else sv
            self.add("minimum-version", sec, description=desc, src=sv, dst=dmin, what=str(old))

    def descriptions(self, s: Mapping[str, Any], d: Mapping[str, Any], sec: str) -> None:
        name = str(s.get("name"))
        self.version(s, d, sec, name)
        if not fields_match(sec, name, str(d.get("name"))):
            self.add("description-mismatch", sec, description=name, src=name, dst=d.get("name"))
            return
        for entry in s:
            if entry not in d:
                self.add(
                    "description-entry-missing",
                    sec,
                    description=name,
                    what=entry,
                    src=s[entry],
                )
                continue
            if entry == "Fields":
                self.fields(s[entry], d[entry], name, sec, s.get("version_id"))
            elif entry == "Subsections":
                self.subsections(s[entry], d[entry], name, sec)
        # What only the destination has (the upstream walk looks at the source only).
        if "Subsections" in d and "Subsections" not in s:
            self.subsections([], d["Subsections"], name, sec)
        if "Fields" in d and "Fields" not in s:
            self._extra_fields(d["Fields"], (), name, sec, s.get("version_id"))

    def subsections(
        self,
        src: Sequence[Mapping[str, Any]],
        dst: Sequence[Mapping[str, Any]],
        desc: str,
        sec: str,
    ) -> None:
        for s in src:
            found = [d for d in dst if d.get("name") == s.get("name")]
            for d in found:
                self.descriptions(s, d, sec)
            if not found:
                self.add("subsection-missing", sec, description=desc, field=str(s.get("name")))
        names = {s.get("name") for s in src}
        for d in dst:
            if d.get("name") not in names:
                self.add(
                    "subsection-added",
                    sec,
                    description=desc,
                    field=str(d.get("name")),
                    upstream=False,
                )

    def fields(
        self,
        src: Sequence[Mapping[str, Any]],
        dst: Sequence[Mapping[str, Any]],
        desc: str,
        sec: str,
        stream_version: object,
    ) -> None:
        """The upstream walk: lists as stacks of (items, position) to enter and leave
        substructs; ``unused`` counts the bytes a ``VMSTATE_UNUSED`` still covers."""
        s_stack: list[tuple[Sequence[Mapping[str, Any]], int]] = []
        d_stack: list[tuple[Sequence[Mapping[str, Any]], int]] = []
        s_list, s_pos = src, 0
        d_list, d_pos = dst, 0
        advance_src = advance_dst = True
        unused = 0
        s_item: Mapping[str, Any] = {}
        d_item: Mapping[str, Any] = {}
        while True:
            if advance_src:
                if s_pos >= len(s_list):
                    if not s_stack:
                        self._extra_fields(d_list[d_pos:], d_stack, desc, sec, stream_version)
                        return
                    s_list, s_pos = s_stack.pop()
                    continue
                s_item, s_pos = s_list[s_pos], s_pos + 1
            elif unused == 0:
                advance_src = True  # entering or leaving a substruct skips one advance
            if advance_dst:
                if d_pos >= len(d_list):
                    if not d_stack:
                        self.add(
                            "fields-exhausted",
                            sec,
                            description=desc,
                            field=str(s_item.get("field")),
                            size=_size(s_item),
                        )
                        return
                    d_list, d_pos = d_stack.pop()
                    advance_src = False
                    continue
                d_item, d_pos = d_list[d_pos], d_pos + 1
            elif unused == 0:
                advance_dst = True
            if unused != 0:
                # Upstream steps over the padding by each item's "size", without "num".
                item = s_item if not advance_dst else d_item
                size = item.get("size")
                if not isinstance(size, int):
                    return  # a size the dump does not know: nothing more can be matched
                unused -= size
                if unused == 0:
                    if not advance_dst:
                        advance_dst = True
                    else:
                        advance_src = True
                    continue
                if unused < 0:
                    self.add("unused-size", sec, description=desc, field=str(item.get("field")))
                    return
                continue
            s_name, d_name = str(s_item.get("field")), str(d_item.get("field"))
            if not fields_match(desc, s_name, d_name):
                if _in_substruct(d_item, s_name):
                    d_stack.append((d_list, d_pos))
                    d_list, d_pos = d_item["Description"]["Fields"], 0
                    advance_src = False
                    continue
                if _in_substruct(s_item, d_name):
                    s_stack.append((s_list, s_pos))
                    s_list, s_pos = s_item["Description"]["Fields"], 0
                    advance_dst = False
                    continue
                if "unused" in (s_name, d_name):
                    s_size, d_size = _size(s_item), _size(d_item)
                    if s_size is None or d_size is None:
                        return
                    if s_size == d_size:
                        continue
                    if d_name == "unused":
                        advance_dst = False
                        unused = d_size - s_size
                        continue
                    advance_src = False
                    unused = s_size - d_size
                    continue
                how = _mismatch(s_list[s_pos:], d_list[d_pos:], s_item, d_item, stream_version)
                self.add(
                    "field-mismatch",
                    sec,
                    description=desc,
                    field=s_name,
                    src=s_name,
                    dst=d_name,
                    size=_size(s_item),
                    what=how,
                )
                if how != "renamed":
                    return  # upstream skips the rest of the list; a rename is safe to pass
            self.version(s_item, d_item, sec, desc, s_name)
            if "Description" not in s_item:
                ss, ds = s_item.get("size"), d_item.get("size")
                if isinstance(ss, int) and isinstance(ds, int) and ss != ds:
                    self.add("size", sec, description=desc, field=s_name, src=ss, dst=ds)
            if "Description" in s_item:
                if "Description" not in d_item:
                    self.add("field-missing-description", sec, description=desc, field=s_name)
                else:
                    self.descriptions(s_item["Description"], d_item["Description"], sec)

    def _extra_fields(
        self,
        rest: Sequence[Mapping[str, Any]],
        stack: Sequence[tuple[Sequence[Mapping[str, Any]], int]],
        desc: str,
        sec: str,
        stream_version: object,
    ) -> None:
        """Fields the destination loads after everything the source sent."""
        if stack:
            return  # the source ended inside a destination substruct: already odd
        for item in rest:
            if not _sent_in(item, stream_version):
                continue
            self.add(
                "field-added",
                sec,
                description=desc,
                field=str(item.get("field")),
                src=stream_version,
                upstream=False,
            )
            return


def _sent_in(item: Mapping[str, Any], stream_version: object) -> bool:
    """Whether the destination loads ``item`` from a stream of that version."""
    if item.get("field_exists"):
        return False  # a _TEST field: the test decides, not the layout
    version = item.get("version_id", 0)
    if isinstance(version, int) and isinstance(stream_version, int):
        return version <= stream_version
    return True


def _mismatch(
    s_rest: Sequence[Mapping[str, Any]],
    d_rest: Sequence[Mapping[str, Any]],
    s_item: Mapping[str, Any],
    d_item: Mapping[str, Any],
    stream_version: object,
) -> str:
    """How a name mismatch reads, looking ahead: ``removed``, ``added``,
    ``added-gated``, ``reordered``, ``renamed`` or ``replaced``."""
    s_later = {str(x.get("field")) for x in s_rest}
    d_later = {str(x.get("field")) for x in d_rest}
    s_name, d_name = str(s_item.get("field")), str(d_item.get("field"))
    if s_name in d_later and d_name in s_later:
        return "reordered"
    if d_name in s_later:
        return "removed"
    if s_name in d_later:
        return "added" if _sent_in(d_item, stream_version) else "added-gated"
    same_size = _size(s_item) is not None and _size(s_item) == _size(d_item)
    if same_size and s_name.split("[")[0] == d_name.split("[")[0]:
        # `regs[1]` vs `regs[REG_UPPER]`: an index spelled differently (QEMU's
        # stringify expands macros, a dump from source cannot).
        return "renamed"
    return "replaced"


# --- the upstream checker's wording -----------------------------------------------------


def upstream_lines(issues: Iterable[DumpIssue]) -> list[str]:
    """The issues the upstream checker reports, worded as it prints them."""
    out = []
    for i in issues:
        if not i.upstream:
            continue
        sec, desc = i.section, i.description
        match i.kind:
            case "machine-mismatch":
                out.append(f'Warning: checking incompatible machine types: "{i.src}", "{i.dst}"')
            case "section-missing":
                out.append(f'Section "{sec}" does not exist in dest')
            case "section-entry-missing":
                out.append(f'Section "{sec}": Entry "{i.what}" missing')
            case "version" if desc is None:
                out.append(f'Section "{sec}" version error: {i.src} > {i.dst}')
            case "version":
                out.append(
                    f'Section "{sec}" Description "{desc}": version error: {i.src} > {i.dst}'
                )
            case "minimum-version":
                out.append(
                    f'Section "{sec}" Description "{desc}": '
                    f"minimum version error: {i.src} < {i.dst}"
                )
            case "description-mismatch":
                out.append(
                    f'Section "{sec}": Description "{i.src}" missing, '
                    f'got "{i.dst}" instead; skipping'
                )
            case "description-entry-missing":
                out.append(f'Section "{sec}" Description "{desc}": Entry "{i.what}" missing')
            case "field-mismatch":
                out.append(
                    f'Section "{sec}", Description "{desc}": expected field "{i.src}", '
                    f'got "{i.dst}"; skipping rest'
                )
            case "fields-exhausted":
                out.append(
                    f'Section "{sec}", Description "{desc}": expected field "{i.field}", '
                    "while dest has no further fields"
                )
            case "unused-size":
                out.append(
                    f'Section "{sec}", Description "{desc}": unused size mismatch near "{i.field}"'
                )
            case "field-missing-description":
                out.append(
                    f'Section "{sec}", Description "{desc}", Field "{i.field}": missing description'
                )
            case "size":
                out.append(
                    f'Section "{sec}" Description "{desc}" Field "{i.field}" '
                    f"size mismatch: {i.src} , {i.dst}"
                )
            case "subsection-missing":
                out.append(
                    f'Section "{sec}", Description "{desc}": Subsection "{i.field}" not found'
                )
    return out


# --- findings ----------------------------------------------------------------------------


def _bytes(n: object) -> str:
    return f"{n} bytes" if isinstance(n, int) else "an unknown size"


_Rows = list[tuple[str, dict[str, object], str | None]]


def _one(rule_id: str, subject: str | None, **values: object) -> _Rows:
    return [(rule_id, values, subject)]


def _finding_values(i: DumpIssue) -> _Rows:
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
            sizes = [_size(f) for f in fields]
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
        for rule_id, values, subject in _finding_values(i):
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
