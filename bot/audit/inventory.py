"""How much migration state a tree has, and where: the audit's inventory.

Pure counts over the scanned models: VMSDs, the sections among them, fields,
subsections and compat entries, per directory and per tier; compat entries per
release; versioned machine types per family.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from bot.audit.index import TreeIndex
from bot.findings import Tier, TierDecision


@dataclass(frozen=True, slots=True)
class Counts:
    files: int = 0
    vmsds: int = 0
    fields: int = 0
    subsections: int = 0
    compat_entries: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.files + other.files,
            self.vmsds + other.vmsds,
            self.fields + other.fields,
            self.subsections + other.subsections,
            self.compat_entries + other.compat_entries,
        )

    def to_dict(self) -> dict[str, int]:
        return {
            "files": self.files,
            "vmsds": self.vmsds,
            "fields": self.fields,
            "subsections": self.subsections,
            "compat_entries": self.compat_entries,
        }


@dataclass(frozen=True, slots=True)
class CompatRelease:
    release: str
    """``10.1``: machine types up to this version apply the array."""
    array: str
    family: str
    entries: int


@dataclass(frozen=True, slots=True)
class MachineFamily:
    family: str
    path: str
    versions: int
    oldest: str
    latest: str


@dataclass(frozen=True, slots=True)
class RustTwin:
    """A Rust device's section held against the C one of the same name."""

    name: str
    rust_path: str
    c_path: str | None
    agrees: bool | None
    """None when there is no C twin or a field could not be read."""
    differences: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Inventory:
    total: Counts
    sections: int
    """VMSDs registered as a top-level section (``dc->vmsd``, ``vmstate_register``)."""
    fields_not_understood: int
    properties: int
    types: int
    not_understood: int
    compat_by_release: tuple[CompatRelease, ...] = ()
    machines: tuple[MachineFamily, ...] = ()
    by_directory: tuple[tuple[str, Counts], ...] = ()
    by_tier: tuple[tuple[str, Counts], ...] = field(default=())
    rust_twins: tuple[RustTwin, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape (``inventory`` of the audit report, docs/audit.md)."""
        return {
            **self.total.to_dict(),
            "sections": self.sections,
            "fields_not_understood": self.fields_not_understood,
            "properties": self.properties,
            "types": self.types,
            "not_understood": self.not_understood,
            "compat_by_release": [
                {"release": c.release, "array": c.array, "family": c.family, "entries": c.entries}
                for c in self.compat_by_release
            ],
            "machines": [
                {
                    "family": m.family,
                    "path": m.path,
                    "versions": m.versions,
                    "oldest": m.oldest,
                    "latest": m.latest,
                }
                for m in self.machines
            ],
            "by_directory": [{"directory": d, **c.to_dict()} for d, c in self.by_directory],
            "by_tier": [{"tier": t, **c.to_dict()} for t, c in self.by_tier],
            "rust_twins": [
                {
                    "name": t.name,
                    "rust": t.rust_path,
                    "c": t.c_path,
                    "agrees": t.agrees,
                    "differences": list(t.differences),
                }
                for t in self.rust_twins
            ],
        }


def directory_of(path: str) -> str:
    """``hw/net/e1000.c`` -> ``hw/net``; ``migration/savevm.c`` -> ``migration``."""
    parts = path.split("/")
    if len(parts) <= 2:
        return parts[0] if len(parts) == 2 else "."
    return "/".join(parts[:2])


def _version(v: tuple[int, ...]) -> str:
    return ".".join(str(x) for x in v)


def take_inventory(index: TreeIndex, tier_of: Callable[[str], TierDecision]) -> Inventory:
    per_file: dict[str, Counts] = {}
    sections = 0
    not_understood_fields = 0
    for m in index.models:
        subs = {s for v in m.vmsds for s in v.subsections}
        registered = {r.vmsd for r in m.registrations}
        fields = sum(len(v.wire_fields) for v in m.vmsds)
        not_understood_fields += sum(1 for v in m.vmsds for f in v.fields if not f.understood)
        sections += sum(1 for v in m.vmsds if v.ident in registered)
        entries = sum(len(a.entries) for a in m.compat_arrays)
        counts = Counts(
            files=1,
            vmsds=len(m.vmsds),
            fields=fields,
            subsections=sum(1 for v in m.vmsds if v.ident in subs),
            compat_entries=entries,
        )
        if counts != Counts(files=1):
            per_file[m.path] = counts
    total = _sum(per_file.values())
    by_dir: dict[str, Counts] = {}
    by_tier: dict[str, Counts] = {}
    for path, c in per_file.items():
        d = directory_of(path)
        by_dir[d] = by_dir.get(d, Counts()) + c
        t = tier_of(path).tier.value
        by_tier[t] = by_tier.get(t, Counts()) + c
    tier_order = [t.value for t in Tier]
    return Inventory(
        total=replace(total, files=len(per_file)),
        sections=sections,
        fields_not_understood=not_understood_fields,
        properties=sum(len(m.properties) for m in index.models),
        types=len(index.type_names()),
        not_understood=sum(len(m.unknowns) for m in index.models),
        compat_by_release=_compat_releases(index),
        machines=_machines(index),
        by_directory=tuple(sorted(by_dir.items(), key=lambda kv: (-kv[1].vmsds, kv[0]))),
        by_tier=tuple(sorted(by_tier.items(), key=lambda kv: tier_order.index(kv[0]))),
    )


def _sum(counts: Iterable[Counts]) -> Counts:
    total = Counts()
    for c in counts:
        total = total + c
    return total


def _compat_releases(index: TreeIndex) -> tuple[CompatRelease, ...]:
    out: list[CompatRelease] = []
    for m in index.models:
        for a in m.compat_arrays:
            if a.version is None:
                continue
            out.append(CompatRelease(_version(a.version), a.name, a.family, len(a.entries)))
    out.sort(key=lambda c: (tuple(-int(x) for x in c.release.split(".")), c.family, c.array))
    return tuple(out)


def _machines(index: TreeIndex) -> tuple[MachineFamily, ...]:
    by: dict[tuple[str, str], list[tuple[int, ...]]] = {}
    for m in index.models:
        for mv in m.machines:
            by.setdefault((mv.family, m.path), []).append(mv.version)
    return tuple(
        MachineFamily(family, path, len(set(vs)), _version(min(vs)), _version(max(vs)))
        for (family, path), vs in sorted(by.items())
    )
