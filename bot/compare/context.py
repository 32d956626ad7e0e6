"""What compare works on: the old and new model of each file, and the tree lookups."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.scanner.model import (
    FileModel,
    VmsdModel,
)

NameResolver = Callable[[str], str | None]


@dataclass(frozen=True, slots=True)
class FileModels:
    """Old and new model of one file, and the lines the change touched."""

    path: str
    old: FileModel | None
    new: FileModel | None
    old_path: str | None = None
    changed_old: frozenset[int] = frozenset()
    changed_new: frozenset[int] = frozenset()


@dataclass(slots=True)
class Context:
    """What compare may look up beyond the touched files."""

    resolve: NameResolver = lambda _name: None
    resolve_old: NameResolver = lambda _name: None
    """Resolution in the base tree, for names read from the old side."""
    vmsds_named: Callable[[str], Sequence[str]] = lambda _expr: ()
    """Paths of tree files with a VMSD whose ``.name`` is the macro ``expr``."""
    nested_users: Callable[[str], Sequence[str]] = lambda _ident: ()
    """VMSD section names that embed the VMSD ``ident`` with VMSTATE_STRUCT*, tree-wide."""
    mentioned: Callable[[str], bool] = lambda _ident: True
    """Whether the head tree still spells an identifier anywhere (True when unknown)."""
    mentioned_old: Callable[[str], bool] = lambda _ident: True
    """The same in the base tree: False means the identifier is new."""
    twins: Sequence[tuple[str, str]] = ()
    aliased_by: Callable[[str], Sequence[str]] = lambda _driver: ()
    """QOM type names whose properties the type spelt ``driver`` (``TYPE_FOO_PCI`` or
    ``"foo-pci"``) carries as aliases (a virtio proxy and its device)."""
    changed_paths: frozenset[str] = frozenset()
    rust_vmstate_paths: frozenset[str] = frozenset()
    """Rust files whose diff touches migration state."""
    _cache: dict[str, str | None] = field(default_factory=dict)

    def name_of(self, v: VmsdModel, model: FileModel, *, old: bool = False) -> str:
        """The section name, resolved in the tree of the side ``model`` comes from."""
        if v.name is not None:
            return v.name
        expr = v.name_expr or v.ident
        key = ("old:" if old else "new:") + expr
        if key not in self._cache:
            local = dict(model.string_defines)
            resolve = self.resolve_old if old else self.resolve
            self._cache[key] = local.get(expr) or resolve(expr)
        return self._cache[key] or expr
