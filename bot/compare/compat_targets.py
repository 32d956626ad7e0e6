"""What an added compat entry hits in the head tree: a type, a property, a value.

Only entries the change adds are looked at, and the tree is searched only
then, so a change that does not touch a compat array costs nothing here.
Each check is quiet when the tree cannot tell: a name built at run time, a
property added by a helper, a value spelt through a macro.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from bot.compare import facts as F
from bot.compare.context import FileModels
from bot.scanner.model import CompatEntry
from bot.scanner.treesearch import TreeSearch

_PLAIN_VALUE = re.compile(r"^[A-Za-z0-9_.+-]+$")
_MACRO = re.compile(r"^[A-Z][A-Z0-9_]*$")
_TYPE_NAME = re.compile(r"^[A-Za-z0-9_.+-]+$")

_BOOL = frozenset({"on", "yes", "true", "y", "off", "no", "false", "n"})
"""What qapi_bool_parse accepts (qapi/qapi-util.c)."""
_ON_OFF_AUTO = frozenset({"on", "off", "auto"})

_INT_RANGE = {
    "UINT8": (0, 2**8 - 1),
    "UINT16": (0, 2**16 - 1),
    "UINT32": (0, 2**32 - 1),
    "UINT64": (0, 2**64 - 1),
    "INT8": (-(2**7), 2**7 - 1),
    "INT16": (-(2**15), 2**15 - 1),
    "INT32": (-(2**31), 2**31 - 1),
    "INT64": (-(2**63), 2**63 - 1),
}
_SIZE = re.compile(r"^\d+(\.\d+)?\s*[bBkKmMgGtTpPeE]?$")


def _kind(macro: str) -> str | None:
    """What a defining macro makes of a string value; None when not known."""
    if macro.startswith("object_"):
        suffix = macro.rsplit("_add_", 1)[-1]
        return {"bool": "bool", "str": "any", "enum": None}.get(suffix)
    suffix = macro.removeprefix("DEFINE_PROP_")
    if suffix in ("BOOL", "BIT", "BIT64"):
        return "bool"
    if suffix == "ON_OFF_AUTO":
        return "on-off-auto"
    if suffix in _INT_RANGE:
        return suffix
    if suffix in ("SIZE", "SIZE32"):
        return "size"
    if suffix == "STRING":
        return "any"
    return None


_EXPECTED = {
    "bool": "on, off, true, false, yes or no",
    "on-off-auto": "on, off or auto",
    "size": "a size (a number with an optional k/M/G suffix)",
}


def _parses(kind: str, value: str) -> bool:
    if kind == "any":
        return True
    if kind == "bool":
        return value in _BOOL
    if kind == "on-off-auto":
        return value in _ON_OFF_AUTO
    if kind == "size":
        return bool(_SIZE.match(value))
    lo, hi = _INT_RANGE[kind]
    if value.startswith("-") and lo == 0:
        return True  # strtoull takes "-1" as the largest value: not judged
    try:
        # strtoull's base 0: "0x10", "010" (octal), "16"
        n = int(value, 8) if re.fullmatch(r"[+-]?0[0-7]+", value) else int(value, 0)
    except ValueError:
        return False
    return lo <= n <= hi


def _expected(kind: str) -> str:
    if kind in _EXPECTED:
        return _EXPECTED[kind]
    lo, hi = _INT_RANGE[kind]
    return f"an integer from {lo} to {hi}"


def added_entries(files: Sequence[FileModels]) -> list[tuple[str, CompatEntry]]:
    """(path, entry) of every entry the change adds to a versioned compat array."""
    out = []
    for fm in files:
        if fm.new is None:
            continue
        old = {
            (e.key, e.array, e.value)
            for a in (fm.old.compat_arrays if fm.old else ())
            for e in a.entries
        }
        for arr in fm.new.compat_arrays:
            for e in arr.entries:
                if (e.key, e.array, e.value) not in old:
                    out.append((fm.path, e))
    return out


def needles(files: Sequence[FileModels], resolve: Callable[[str], str | None]) -> list[str]:
    """What `target_facts` will search the tree for: drivers and properties, quoted."""
    out = []
    for _path, e in added_entries(files):
        driver = e.driver or resolve(e.driver_expr)
        if driver:
            out.append(f'"{driver}"')
        out.append(f'"{e.prop}"')
    return out


def target_facts(
    files: Sequence[FileModels],
    search: TreeSearch,
    resolve: Callable[[str], str | None],
) -> Iterable[F.Fact]:
    """Added entries whose driver names no type, or whose value does not parse."""
    yield from _duplicates(files)
    added = added_entries(files)
    if not added or not search.searchable:
        return
    for path, e in added:
        if e.optional:
            continue
        driver = e.driver or resolve(e.driver_expr)
        if driver is None or not _TYPE_NAME.match(driver):
            continue
        if not _type_exists(search, driver):
            yield F.CompatEntryNoSuchType(
                path=path,
                line=e.line,
                subject=f"{driver}.{e.prop}",
                entry=e,
                driver=driver,
                near=_near(search, e, driver),
            )
            continue
        bad = _value_problem(search, e)
        if bad is not None:
            macro, kind = bad
            yield F.CompatValueInvalid(
                path=path,
                line=e.line,
                subject=f"{driver}.{e.prop}",
                entry=e,
                macro=macro,
                expected=_expected(kind),
            )


def _type_exists(search: TreeSearch, driver: str) -> bool:
    """Is ``driver`` a type name the tree can register?

    Spelled whole as a literal; or, for names put together at run time
    (``"EPYC" "-" TYPE_X86_CPU``, ``ACCEL_CLASS_NAME("kvm")``), both sides of
    some hyphen are literals of the tree.
    """
    if search.literal_spelled(driver):
        return True
    for k, ch in enumerate(driver):
        if ch != "-" or k == 0:
            continue
        head, tail = driver[:k], driver[k + 1 :]
        if not tail:
            continue
        tail_ok = search.literal_spelled(tail) or search.literal_spelled("-" + tail)
        if tail_ok and (search.literal_spelled(head) or search.literal_spelled(head + "-")):
            return True
    return False


def _near(search: TreeSearch, e: CompatEntry, driver: str) -> str | None:
    """The name meant, for the common slip of a concatenated name without its hyphen."""
    parts = re.findall(r'"([^"]*)"', e.driver_expr)
    if e.driver is None and parts and not parts[-1].startswith("-"):
        cut = len(driver) - len(parts[-1])
        candidate = driver[:cut] + "-" + driver[cut:]
        if search.literal_spelled(candidate) or _type_exists(search, candidate):
            return candidate
    return None


def _value_problem(search: TreeSearch, e: CompatEntry) -> tuple[str, str] | None:
    """(macro, kind) when every definition of the property rejects the value."""
    value = e.value
    if not _PLAIN_VALUE.match(value) or _MACRO.match(value):
        return None  # spelt through a macro or an expression: not judged
    definitions = search.definitions(e.prop)
    if not definitions:
        return None
    kinds = [(macro, _kind(macro)) for _path, macro, _line in definitions]
    if any(kind is None for _macro, kind in kinds):
        return None
    if any(_parses(kind, value) for _macro, kind in kinds if kind is not None):
        return None
    macro, kind = kinds[0]
    assert kind is not None
    return macro, kind


def _duplicates(files: Sequence[FileModels]) -> Iterable[F.Fact]:
    """An added entry with the driver and property of another entry of its array.

    The second one changes nothing (or contradicts the first): the type it was
    meant for (a ``-transitional`` variant, another USB HID device) gets nothing.
    """
    for fm in files:
        if fm.new is None:
            continue
        old_keys = {
            (e.key, a.name): n
            for a in (fm.old.compat_arrays if fm.old else ())
            for e in a.entries
            for n in [sum(1 for x in a.entries if x.key == e.key)]
        }
        for arr in fm.new.compat_arrays:
            seen: dict[tuple[str, str], CompatEntry] = {}
            for e in arr.entries:
                first = seen.get(e.key)
                if first is None:
                    seen[e.key] = e
                    continue
                count = sum(1 for x in arr.entries if x.key == e.key)
                if old_keys.get((e.key, arr.name), 0) >= count:
                    continue  # the array already held them: not this change's doing
                yield F.CompatEntryDuplicated(
                    path=fm.path,
                    line=e.line,
                    subject=f"dup.{e.key[0]}.{e.prop}",
                    entry=e,
                    other_line=first.line,
                    sibling=_sibling_name(e.key[0], [x.key[0] for x in arr.entries]),
                )


def _sibling_name(driver: str, drivers: Sequence[str]) -> str | None:
    """The variant a duplicated entry was most likely meant for."""
    for a, b in (("-non-transitional", "-transitional"), ("-transitional", "-non-transitional")):
        if driver.endswith(a):
            candidate = driver[: -len(a)] + b
            if candidate not in drivers:
                return candidate
    return None
