"""A memory-region switch the guest's writes drive, which loading never redoes.

Some devices map, unmap or move memory regions when the guest writes a
register: an IOMMU switches a device between its translated and its bypass
address space, a controller moves a window to the base address just
programmed. The registers are migrated; the regions are not, they are the
destination's own objects and stay as realize and reset left them. Unless a
``post_load`` (or a ``pre_load``, a VMStateInfo ``get``, a load function, a
run-state handler) runs the same switch from the loaded registers, the
destination resumes with the registers saying one thing and the memory map
another: DMA through the wrong address space, a window at its reset address
(90519b90539b virtio-iommu bypass, fixed by d355566bd958; 558e0024a4 intel-iommu,
fixed by 552a1e01a4).

What is judged, in each touched C file with a VMSD that migrates fields:

* a *switch*: a function of the file calling ``memory_region_set_enabled``,
  ``memory_region_set_alias_offset`` or ``memory_region_set_address``, which
  reads (itself or through the functions of the file it calls, other switches
  aside) a member the file's VMSDs migrate;
* reached from a *guest write path*: a function of the file named for a
  register or configuration write (``*_write*``, ``*set_config*``);
* not reached from anything that runs on load;
* and the change makes the write path reach it (a new switch, a new call).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.compare import facts as F
from bot.compare.context import FileModels
from bot.compare.kvmhooks import hooks_of, is_kvm_only
from bot.scanner.model import FileModel

SWITCHES = frozenset(
    {"memory_region_set_enabled", "memory_region_set_alias_offset", "memory_region_set_address"}
)
"""Memory API calls that change where or whether a region is mapped."""
_WRITER = re.compile(r"(?:^|_)write(?:_|l|w|b|q|$)|set_config")
"""Functions named for a guest register or configuration write."""
_LOADING = re.compile(r"post_load|pre_load|_load$|_load_state")
_GETTERS = re.compile(r"\bVMStateInfo\s+\w+\s*=\s*\{[^;]*?\.get\s*=\s*(\w+)", re.S)
_RUNSTATE = re.compile(r"\bqemu_add_vm_change_state_handler\w*\s*\(\s*(\w+)")
_DEPTH = 5


def remap_facts(fm: FileModels, texts: tuple[str | None, str | None]) -> Iterable[F.Fact]:
    old_text, new_text = texts
    new = fm.new
    if new is None or new_text is None or not fm.path.endswith(".c") or is_kvm_only(fm.path):
        return
    if not any(SWITCHES & f.identifiers for f in new.functions):
        return
    migrated = _migrated_members(new)
    if not migrated:
        return
    pairs = _write_pairs(new, new_text, migrated)
    if not pairs:
        return
    old_pairs: set[tuple[str, str]] = set()
    if fm.old is not None and old_text is not None:
        old_pairs = set(_write_pairs(fm.old, old_text, _migrated_members(fm.old)))
    funcs = {f.name: f for f in new.functions}
    lines = new_text.splitlines()
    reported: set[str] = set()
    for (writer, switch), member in sorted(pairs.items()):
        if (writer, switch) in old_pairs or switch in reported:
            continue
        reported.add(switch)
        fn = funcs[switch]
        op, line = _first_switch(lines, fn.line, fn.end_line)
        yield F.RemapNotRedoneOnLoad(
            path=fm.path,
            line=line,
            vmsd=_vmsd_name(new),
            subject=switch,
            switch=switch,
            operation=op,
            writer=writer,
            member=member,
        )


def _vmsd_name(model: FileModel) -> str | None:
    with_fields = [v for v in model.vmsds if v.fields]
    registered = {r.vmsd for r in model.registrations}
    loading = [v for v in with_fields if any(h == "post_load" for h, _ in v.hooks)]
    hooked = [v for v in with_fields if v.ident in registered] or loading or with_fields
    return (hooked[0].name or hooked[0].ident) if hooked else None


def _migrated_members(model: FileModel) -> frozenset[str]:
    """Last components of the members the file's VMSD fields migrate (``config.bypass``
    gives ``bypass``)."""
    out: set[str] = set()
    for v in model.vmsds:
        for f in v.wire_fields:
            names = re.findall(r"[A-Za-z_]\w*", re.sub(r"\[[^\]]*\]", "", f.member or ""))
            if names:
                out.add(names[-1])
    return frozenset(m for m in out if m)


def _write_pairs(
    model: FileModel, text: str, migrated: frozenset[str]
) -> dict[tuple[str, str], str]:
    """(writer, switch) -> a migrated member the switch reads, for every switch a write
    path reaches and nothing on load does."""
    funcs = {f.name: f for f in model.functions}
    calls = {n: {c for c in f.identifiers if c in funcs and c != n} for n, f in funcs.items()}

    def reach(starts: Iterable[str]) -> dict[str, int]:
        seen: dict[str, int] = {}
        todo = [(s, 0) for s in starts if s in funcs]
        while todo:
            name, depth = todo.pop()
            if name in seen and seen[name] <= depth:
                continue
            seen[name] = depth
            if depth < _DEPTH:
                todo += [(c, depth + 1) for c in calls[name]]
        return seen

    loading = set(hooks_of(model, text))
    loading |= {n for n in funcs if _LOADING.search(n)}
    loading |= set(_GETTERS.findall(text)) | set(_RUNSTATE.findall(text))
    on_load = reach(loading)
    lines = text.splitlines()
    redone = set().union(*(_regions(lines, funcs[n].line, funcs[n].end_line) for n in on_load))
    out: dict[tuple[str, str], str] = {}
    for switch, f in funcs.items():
        if not (SWITCHES & f.identifiers) or switch in on_load:
            continue
        if _regions(lines, f.line, f.end_line) <= redone:
            continue  # loading switches the same regions itself
        # What it reads itself or through helpers; another switch it calls is judged on
        # its own (``update_gcr_base`` moving its window and calling ``update_cpc_base``).
        below = [n for n in reach([switch]) if n == switch or not (SWITCHES & funcs[n].identifiers)]
        read = set().union(*(funcs[n].members for n in below)) & migrated
        if not read:
            continue
        for writer in funcs:
            if writer in on_load or not _WRITER.search(writer):
                continue
            if writer == switch or switch in reach([writer]):
                out[(writer, switch)] = sorted(read)[0]
    return out


_SWITCH_CALL = re.compile(r"\b(?:" + "|".join(sorted(SWITCHES)) + r")\s*\(\s*(?P<region>[^,]+),")


def _regions(lines: list[str], first: int, last: int) -> set[str]:
    """The regions a function switches, by their last member name (``&s->iommu_mr``,
    ``MEMORY_REGION(&sdev->iommu_mr)``: ``iommu_mr``)."""
    text = "\n".join(lines[first - 1 : last])
    out = set()
    for m in _SWITCH_CALL.finditer(text):
        names = re.findall(r"[A-Za-z_]\w*", re.sub(r"\[[^\]]*\]", "", m.group("region")))
        names = [n for n in names if n not in ("MEMORY_REGION", "OBJECT")]
        if names:
            out.add(names[-1])
    return out


def _first_switch(lines: list[str], first: int, last: int) -> tuple[str, int]:
    for number in range(first, min(last, len(lines)) + 1):
        for op in sorted(SWITCHES):
            if re.search(rf"\b{op}\s*\(", lines[number - 1]):
                return op, number
    return "memory_region_set_enabled", first
