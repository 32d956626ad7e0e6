"""Facts about qdev properties: added, and defaults changed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot.compare import facts as F
from bot.compare.context import FileModels
from bot.scanner.model import (
    CompatEntry,
    FileModel,
    PropertyModel,
)

_ON = {"true", "1", "ON_OFF_AUTO_ON", "on"}


def props_by_name(models: Iterable[FileModel | None]) -> dict[str, PropertyModel]:
    return {p.name: p for m in models if m is not None for p in m.properties}


def property_facts(
    fm: FileModels, compat_added: Mapping[str, list[CompatEntry]]
) -> Iterable[F.Fact]:
    if fm.new is None or fm.old is None:
        return
    old = {(p.array, p.name, p.condition): p for p in fm.old.properties}
    old_arrays = {p.array for p in fm.old.properties}
    for p in fm.new.properties:
        before = old.get((p.array, p.name, p.condition))
        compat = tuple(compat_added.get(p.name, ()))
        if before is None:
            if p.array in old_arrays:
                yield F.PropertyAdded(
                    path=fm.path, line=p.line, subject=p.name, prop=p, compat=compat
                )
        elif before.default != p.default and before.member == p.member:
            yield F.PropertyDefaultChanged(
                path=fm.path, line=p.line, subject=p.name, old=before, new=p, compat=compat
            )
