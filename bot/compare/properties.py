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
_TRUE = frozenset({"true", "on", "yes", "1"})
_FALSE = frozenset({"false", "off", "no", "0"})
_ALL_ONES = {
    "8": frozenset({"-1", "UINT8_MAX", "0xff", "0xFF", "255"}),
    "16": frozenset({"-1", "UINT16_MAX", "0xffff", "0xFFFF", "65535"}),
    "32": frozenset({"-1", "UINT32_MAX", "0xffffffff", "0xFFFFFFFF", "4294967295", "~0u", "~0U"}),
    "64": frozenset(
        {"-1", "UINT64_MAX", "0xffffffffffffffff", "0xFFFFFFFFFFFFFFFF", "~0ull", "~0ULL"}
    ),
}


def same_value(a: str | None, b: str | None, macro: str = "") -> bool:
    """Whether two spellings of a value mean the same for a property of ``macro``
    (``DEFINE_PROP_UINT32``): ``on``/``true``, ``-1``/``UINT32_MAX``, ``0x10``/``16``."""
    if a == b:
        return True
    if a is None or b is None:
        return False
    x, y = a.strip().strip('"'), b.strip().strip('"')
    if x == y:
        return True
    if {x.lower(), y.lower()} <= _TRUE or {x.lower(), y.lower()} <= _FALSE:
        # DEFINE_PROP_BIT and _BIT64 are booleans too: one bit of a flags word.
        return any(kind in macro for kind in ("BOOL", "ON_OFF", "_BIT")) or not macro
    width = next((w for w in ("64", "32", "16", "8") if f"UINT{w}" in macro), None)
    if width is not None and {x, y} <= _ALL_ONES[width]:
        return True
    return _int(x) is not None and _int(x) == _int(y)


def _int(text: str) -> int | None:
    try:
        return int(text.rstrip("uUlL"), 0)
    except ValueError:
        return None


def props_by_name(models: Iterable[FileModel | None]) -> dict[str, PropertyModel]:
    return {p.name: p for m in models if m is not None for p in m.properties}


def property_facts(
    fm: FileModels, compat_added: Mapping[str, list[CompatEntry]]
) -> Iterable[F.Fact]:
    if fm.new is None or fm.old is None:
        return
    old = {(p.array, p.name, p.condition): p for p in fm.old.properties}
    old_arrays = {p.array for p in fm.old.properties}
    unmigratable = unmigratable_arrays(fm.new)
    for p in fm.new.properties:
        if p.array in unmigratable:
            continue  # no stream to keep: the device refuses to migrate at all
        before = old.get((p.array, p.name, p.condition))
        compat = tuple(compat_added.get(p.name, ()))
        if before is None:
            if p.array in old_arrays:
                yield F.PropertyAdded(
                    path=fm.path, line=p.line, subject=p.name, prop=p, compat=compat
                )
        elif (
            before.member == p.member
            and not same_value(before.default, p.default, p.macro)
            and not _unset_marker(before, p)
        ):
            yield F.PropertyDefaultChanged(
                path=fm.path, line=p.line, subject=p.name, old=before, new=p, compat=compat
            )


def _unset_marker(old: PropertyModel, new: PropertyModel) -> bool:
    """A default moved to a value the old type could not hold, with the type
    widened for it: ``DEFINE_PROP_UINT32(..., 1)`` to ``DEFINE_PROP_INT32(..., -1)``,
    ``DEFINE_PROP_BOOL`` to ``DEFINE_PROP_ON_OFF_AUTO(..., ON_OFF_AUTO_AUTO)``.

    No user could have set it before: it marks "not set", so the code can tell an
    explicit value from the default, and it means what the old default meant
    unless the code says otherwise (the code's change is judged as code)."""
    if old.macro == new.macro or new.default is None:
        return False
    value = new.default.strip()
    if "UINT" in old.macro and "UINT" not in new.macro and value.startswith("-"):
        return True
    return (
        ("BOOL" in old.macro or "BIT" in old.macro)
        and "ON_OFF_AUTO" in new.macro
        and value == "ON_OFF_AUTO_AUTO"
    )


def unmigratable_arrays(model: FileModel) -> frozenset[str]:
    """Property arrays installed only by class_inits whose ``dc->vmsd`` is
    ``.unmigratable = 1``: a VM with such a device cannot migrate, so its defaults
    change no migration stream."""
    blocked = {
        r.function
        for r in model.registrations
        if r.kind == "dc->vmsd" and (v := model.vmsd(r.vmsd)) is not None and v.unmigratable
    }
    if not blocked:
        return frozenset()
    inits: dict[str, set[str]] = {}
    for fn, array in model.prop_bindings:
        inits.setdefault(array, set()).add(fn)
    return frozenset(a for a, fns in inits.items() if fns <= blocked)
