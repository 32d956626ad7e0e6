"""Compat entries held against the release whose machine types they pin.

An entry in ``hw_compat_X_Y[]`` (or ``PC_COMPAT_X_Y``) says what machine types
up to X.Y did: they must keep that behaviour. QEMU X.Y itself ran its X.Y
machine types with the property's default of that release, since no array of
X.Y existed yet. So when the release tree gives the property of that very
type a plain default, and nothing else in the tree sets the property, an entry
whose value differs from that default does not keep old machine types as they
were: it changes machine types that were already released (a guest-visible and
often a migration change for everyone running them). The right array is the
one of the last release whose machine types ran with the entry's value.

Judged only when the answer is certain: a boolean or integer property whose
default in the release is a literal, defined for the entry's own type (not a
parent or a sibling with the same property name), and set by no board code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from bot.change import History, Release
from bot.compare import facts as F
from bot.compare.compat_targets import added_entries
from bot.compare.context import FileModels
from bot.compare.properties import same_value
from bot.scanner.macros import MacroTable
from bot.scanner.model import CompatEntry
from bot.scanner.treeinfo import TreeLookups
from bot.scanner.treesearch import TreeSearch

_JUDGED_MACROS = frozenset(
    {
        "DEFINE_PROP_BOOL",
        "DEFINE_PROP_BIT",
        "DEFINE_PROP_BIT64",
        "DEFINE_PROP_UINT8",
        "DEFINE_PROP_UINT16",
        "DEFINE_PROP_UINT32",
        "DEFINE_PROP_UINT64",
        "DEFINE_PROP_INT32",
        "DEFINE_PROP_INT64",
    }
)
"""Properties whose default is the behaviour: no "auto" or sentinel to resolve at realize."""
_LITERAL = re.compile(r"^(?:true|false|-?(?:0[xX][0-9a-fA-F]+|\d+)[uUlL]*)$")
_SETTER = re.compile(
    r"\b(?:qdev_prop_set_\w+|object_property_set_\w+|object_property_parse|qdev_prop_parse)\s*\("
)
"""Code that sets a property on an instance: board code, not a machine version."""


def entries_against_releases(
    facts: Sequence[F.Fact],
    files: Sequence[FileModels],
    history: History,
    table: MacroTable,
    resolve: Callable[[str], str | None],
) -> list[F.Fact]:
    """``facts`` with each added entry held against the release of its array.

    An entry whose value is not what that release ran its machine types with
    becomes `F.CompatEntryChangesRelease`. An entry in an older array than the
    newest whose value is what that release ran, while the next release already
    had the new default, is where it belongs (the behaviour changed in a
    released version): its `F.CompatEntryAdded` says so."""
    releases: dict[tuple[int, int, int], _ReleaseTree | None] = {}

    def release(version: tuple[int, int, int]) -> _ReleaseTree | None:
        if version not in releases:
            found = history.release_at(version)
            releases[version] = _ReleaseTree(found, table) if found is not None else None
        return releases[version]

    verdicts: dict[tuple[str, int], F.Fact] = {}
    for path, e in added_entries(files):
        version = _array_version(files, path, e)
        driver = e.driver or resolve(e.driver_expr)
        if version is None or e.optional or driver is None or not _plain(e.value):
            continue
        rel = release((*version, 0))
        shipped = rel.default_of(driver, e.prop) if rel is not None else None
        if rel is None or shipped is None:
            continue
        macro, default = shipped
        if not same_value(default, e.value, macro):
            verdicts[(path, e.line)] = F.CompatEntryChangesRelease(
                path=path,
                line=e.line,
                subject=f"{driver}.{e.prop}",
                entry=e,
                driver=driver,
                release=rel.name,
                shipped=default,
            )
            continue
        major, minor = version
        for later in ((major, minor + 1, 0), (major + 1, 0, 0)):
            nxt = release(later)
            changed = nxt.default_of(driver, e.prop) if nxt is not None else None
            if nxt is not None and changed is not None:
                if not same_value(changed[1], e.value, changed[0]):
                    verdicts[(path, e.line)] = F.CompatEntryAdded(
                        path=path,
                        line=e.line,
                        subject=f"{driver}.{e.prop}",
                        entry=e,
                        newest=None,
                        array_is_new=False,
                        released_change=f"{nxt.name}, whose default is {changed[1]}",
                    )
                break
    if not verdicts:
        return list(facts)
    out: list[F.Fact] = []
    for fact in facts:
        verdict = verdicts.get((fact.path, fact.line or 0))
        if isinstance(fact, F.CompatEntryAdded) and verdict is not None:
            if isinstance(verdict, F.CompatEntryAdded):
                if fact.newest is not None and fact.entry.array != fact.newest:
                    fact = replace(fact, released_change=verdict.released_change)
                out.append(fact)
            else:
                out.append(verdict)
            continue
        out.append(fact)
    return out


def _plain(value: str) -> bool:
    v = value.strip().strip('"')
    return v.lower() in {"on", "off", "yes", "no"} or bool(_LITERAL.match(v))


def _array_version(
    files: Sequence[FileModels], path: str, e: CompatEntry
) -> tuple[int, int] | None:
    """The version the scanner read from the entry's array name (`added_entries`
    takes entries from the new model's arrays)."""
    for fm in files:
        if fm.path == path and fm.new is not None:
            for arr in fm.new.compat_arrays:
                if arr.name == e.array:
                    return arr.version
    return None


class _ReleaseTree:
    """The property defaults of one release, looked up per (type, property)."""

    def __init__(self, release: Release, table: MacroTable) -> None:
        self.name = release.name
        self._search = TreeSearch(release.tree, table)
        self._lookups = TreeLookups(release.tree, table)

    def default_of(self, driver: str, prop: str) -> tuple[str, str] | None:
        """(macro, default) of ``prop`` on type ``driver`` in the release, when it
        is certain: one literal default, on that type, and no code setting it."""
        if not self._search.searchable:
            return None
        found: set[tuple[str, str]] = set()
        for path in self._search.files_with(f'"{prop}"'):
            model = self._search.model(path)
            if model is None:
                continue
            for arr in model.compat_arrays:
                if arr.version is None and any(
                    x.prop == prop and (x.driver or self._lookups.resolve(x.driver_expr)) == driver
                    for x in arr.entries
                ):
                    return None  # set for every version of some machine: not the default
            for p in model.properties:
                if p.name != prop:
                    continue
                owners = {
                    self._lookups.resolve(t.name) or t.name for t in model.types_with_props(p.array)
                }
                if driver not in owners:
                    continue
                if p.macro not in _JUDGED_MACROS or p.default is None or p.condition:
                    return None
                if not _LITERAL.match(p.default.strip()):
                    return None  # a macro or an expression: not judged
                found.add((p.macro, p.default.strip()))
        if len(found) != 1 or self._set_by_code(prop):
            return None
        return next(iter(found))

    def _set_by_code(self, prop: str) -> bool:
        """Does code of the release set ``prop`` (board code, ``-global`` defaults)?
        Then the default alone does not say what the machine types ran with."""
        quoted = f'"{prop}"'
        for path in self._search.files_with(quoted):
            for line in (self._search.text(path) or "").splitlines():
                if quoted in line and _SETTER.search(line):
                    return True
        return False
