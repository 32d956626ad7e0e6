"""Cross-file lookups over a scanned tree: names, QOM types, VMSD registrations.

Pure: built from `FileModel`s and the header string defines. What a single
file cannot say (the type a ``dc->vmsd`` belongs to, a nested VMSD declared in
another file, the parent of a QOM type) is answered here, or left as None
when the source does not say it unambiguously.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from bot.scanner.model import FileModel, TypeModel, VmsdModel

_UNRESOLVED = re.compile(r"[\s\"()#]")
"""What an unresolved expression kept as text has and a QOM name never has."""
_PIECE = re.compile(r'"(?P<lit>(?:\\.|[^"\\])*)"|(?P<ident>[A-Za-z_]\w*)|(?P<other>\S)')


@dataclass(frozen=True, slots=True)
class Located:
    """A VMSD and the file it was read from."""

    path: str
    vmsd: VmsdModel
    model: FileModel


@dataclass(frozen=True, slots=True)
class TypeEntry:
    """A QOM type with its name resolved, and the file of its ``TypeInfo``."""

    name: str
    parent: str | None
    path: str
    info: TypeModel
    model: FileModel


@dataclass(frozen=True, slots=True)
class ClassVmsd:
    """What a class stores in ``dc->vmsd``, and where that is written."""

    ident: str
    model: FileModel
    """The file of the function that stores it: the VMSD is looked up from there."""
    function: str


@dataclass(slots=True)
class TreeIndex:
    """Built once per scan with `build`; then read only."""

    models: tuple[FileModel, ...]
    strings: Mapping[str, str]
    _by_path: dict[str, FileModel] = field(default_factory=dict)
    _global_vmsds: dict[str, list[Located]] = field(default_factory=dict)
    _types: dict[str, list[TypeEntry]] = field(default_factory=dict)
    _children: dict[str, list[str]] = field(default_factory=dict)
    _vmsd_setters: dict[str, list[tuple[FileModel, str]]] = field(default_factory=dict)

    @classmethod
    def build(cls, models: Iterable[FileModel], strings: Mapping[str, str]) -> TreeIndex:
        index = cls(tuple(models), strings)
        for m in index.models:
            index._by_path[m.path] = m
            for v in m.vmsds:
                index._global_vmsds.setdefault(v.ident, []).append(Located(m.path, v, m))
            for r in m.registrations:
                if r.kind == "dc->vmsd" and r.function:
                    index._vmsd_setters.setdefault(r.function, []).append((m, r.vmsd))
            for t in m.types:
                name = index.resolve(t.name, m)
                if name is None:
                    continue
                parent = index.resolve(t.parent, m) if t.parent else None
                index._types.setdefault(name, []).append(TypeEntry(name, parent, m.path, t, m))
        for name, entries in index._types.items():
            for parent in {e.parent for e in entries if e.parent}:
                index._children.setdefault(parent, []).append(name)
        return index

    # --- names -------------------------------------------------------------------

    def resolve(self, expr: str | None, model: FileModel | None = None) -> str | None:
        """A ``TYPE_*`` name (or a literal already resolved) as its string."""
        if expr is None:
            return None
        if model is not None:
            local = dict(model.string_defines).get(expr)
            if local is not None:
                return local
        if expr in self.strings:
            return self.strings[expr]
        if '"' in expr:
            return self._concatenation(expr, model)
        if _UNRESOLVED.search(expr) or expr.startswith("TYPE_"):
            return None  # a macro or an expression nobody defines as a plain string
        return expr

    def _concatenation(self, expr: str, model: FileModel | None) -> str | None:
        """``TYPE_SPAPR_XIVE "/eas"``: literals and names of strings, joined; a
        header's name template called on a literal (``M68K_CPU_TYPE_NAME("m68000")``)
        is one of them."""
        pieces = list(_PIECE.finditer(expr))
        parts: list[str] = []
        k = 0
        while k < len(pieces):
            m = pieces[k]
            k += 1
            if m.group("lit") is not None:
                parts.append(m.group("lit"))
                continue
            name = m.group("ident")
            value = None
            if name is not None and _is_call(pieces, k):
                template = self.strings.get(f"{name}()")
                arg = pieces[k + 1].group("lit")
                value = template.replace("\0", arg) if template is not None else None
                k += 3
            elif name is not None:
                local = dict(model.string_defines).get(name) if model is not None else None
                value = local if local is not None else self.strings.get(name)
            if value is None:
                return None
            parts.append(value)
        return "".join(parts)

    def name_of(self, loc: Located) -> str | None:
        """The section (or subsection) name of a VMSD, when the source says it."""
        v = loc.vmsd
        if v.name is not None:
            return v.name
        return self.resolve(v.name_expr, loc.model) if v.name_expr else None

    # --- VMSDs -------------------------------------------------------------------

    def vmsds(self) -> Iterator[Located]:
        for m in self.models:
            for v in m.vmsds:
                yield Located(m.path, v, m)

    def model(self, path: str) -> FileModel | None:
        return self._by_path.get(path)

    def find_vmsd(self, ident: str, near: FileModel) -> Located | None:
        """The VMSD ``ident`` as seen from ``near``: its own file first, else the
        one definition elsewhere (an ``extern`` one); None when ambiguous."""
        local = near.vmsd(ident)
        if local is not None:
            return Located(near.path, local, near)
        found = self._global_vmsds.get(ident, [])
        return found[0] if len(found) == 1 else None

    def subsections(self, loc: Located) -> list[Located]:
        out = []
        for ident in loc.vmsd.subsections:
            sub = self.find_vmsd(ident, loc.model)
            if sub is not None:
                out.append(sub)
        return out

    # --- QOM types -----------------------------------------------------------------

    def types(self) -> Iterator[TypeEntry]:
        for entries in self._types.values():
            yield from entries

    def type(self, name: str) -> TypeEntry | None:
        """The type ``name`` when exactly one ``TypeInfo`` defines it."""
        entries = self._types.get(name, [])
        return entries[0] if len(entries) == 1 else None

    def type_names(self) -> frozenset[str]:
        return frozenset(self._types)

    def ancestors(self, name: str) -> list[TypeEntry]:
        """The type and its parents, nearest first, as far as the tree says."""
        out: list[TypeEntry] = []
        seen: set[str] = set()
        current: str | None = name
        while current is not None and current not in seen:
            seen.add(current)
            entry = self.type(current)
            if entry is None:
                break
            out.append(entry)
            current = entry.parent
        return out

    def lineage(self, name: str) -> list[str]:
        """Names from ``name`` up, including a last parent with no ``TypeInfo`` here."""
        chain = self.ancestors(name)
        names = [e.name for e in chain]
        if chain and chain[-1].parent and chain[-1].parent not in names:
            names.append(chain[-1].parent)
        return names or [name]

    def descendants(self, name: str) -> list[str]:
        out: list[str] = []
        todo = list(self._children.get(name, []))
        while todo:
            child = todo.pop()
            if child in out or child == name:
                continue
            out.append(child)
            todo.extend(self._children.get(child, []))
        return sorted(out)

    def has_children(self, name: str) -> bool:
        return bool(self._children.get(name))

    def own_vmsd(self, entry: TypeEntry) -> ClassVmsd | None:
        """The VMSD the type's own ``class_init`` stores in ``dc->vmsd``, itself
        or through a helper it calls (``sdhci_common_class_init``)."""
        init = entry.info.class_init
        if init is None:
            return None
        for r in entry.model.registrations:
            if r.kind == "dc->vmsd" and r.function == init:
                return ClassVmsd(r.vmsd, entry.model, init)
        fn = entry.model.function(init)
        if fn is None:
            return None
        for callee in sorted(fn.identifiers):
            setters = self._vmsd_setters.get(callee, [])
            if len(setters) == 1 and callee != init:
                model, ident = setters[0]
                return ClassVmsd(ident, model, callee)
        return None

    def class_vmsd(self, name: str) -> tuple[TypeEntry, ClassVmsd] | None:
        """``dc->vmsd`` of ``name``, inherited from the nearest parent that sets it."""
        for entry in self.ancestors(name):
            found = self.own_vmsd(entry)
            if found is not None:
                return entry, found
        return None

    def instance_struct(self, name: str) -> str | None:
        """The instance struct, inherited like ``instance_size`` is."""
        for entry in self.ancestors(name):
            if entry.info.instance:
                return entry.info.instance
        return None


def _is_call(pieces: list[re.Match[str]], k: int) -> bool:
    """``( "literal" )`` starts at ``pieces[k]``."""
    return (
        k + 2 < len(pieces)
        and pieces[k].group("other") == "("
        and pieces[k + 1].group("lit") is not None
        and pieces[k + 2].group("other") == ")"
    )
