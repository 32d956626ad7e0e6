"""Machine types retired under QEMU's deprecation policy, and the compat arrays
and properties that go with them, as a change removes them.

Correct changes, but each one ends migration from (and to) a QEMU running the
retired machine types, which a maintainer wants to see in the week's digest.
Read from the removed lines of the hunks; a definition the same change adds
back (a move) is not a retirement.
"""

from __future__ import annotations

import re

from bot.change import Change
from bot.sources.gitrepo import GitRepo

_MACHINE = re.compile(
    r"^\s*DEFINE_(?P<family>[A-Z0-9_]+?)_MACHINE(?:_AS_LATEST|_TAGGED)?\s*\(\s*"
    r"(?P<major>\d+)\s*,\s*(?P<minor>\d+)(?:\s*,\s*(?P<micro>\d+))?"
)
_FAMILIES = {
    "i440fx": "pc-i440fx",
    "q35": "pc-q35",
    "ccw": "s390-ccw-virtio",
    "spapr": "pseries",
}
"""QEMU's machine-type names where the macro's family word differs from them."""
_ARRAY = re.compile(r"\bGlobalProperty\s+(?P<name>\w+_compat_\d+_\d+(?:_\d+)?)\s*\[\s*\]")
_PROPERTY = re.compile(r'^\s*DEFINE_PROP_\w+\s*\(\s*"(?P<name>[^"]+)"')


def retirements(change: Change) -> tuple[str, ...]:
    """``pc-i440fx 2.4 machine type removed``, ``hw_compat_2_4[] removed``."""
    removed: dict[str, str] = {}
    added: set[str] = set()
    for fc in change.files:
        for hunk in fc.hunks:
            for line in hunk.lines:
                for key, text in _declared(line.text):
                    if line.kind == "-":
                        removed.setdefault(key, text)
                    elif line.kind == "+":
                        added.add(key)
    return tuple(text for key, text in sorted(removed.items()) if key not in added)


def retired_properties(change: Change, repo: GitRepo, base: str) -> tuple[str, ...]:
    """Properties the change removes that compat entries once set and none sets
    any more: they went with the machine types those entries served.

    QEMU usually drops the machine type, its compat array and the property in
    separate commits, so this reads the history of the files that hold compat
    arrays, not only the hunks. A property no compat entry ever set is a device
    change, which the checks judge."""
    candidates = _removed_properties(change)
    if not candidates:
        return ()
    holders = repo.grep(base, "GlobalProperty", "hw")
    out = []
    for name, path in sorted(candidates.items()):
        needle = f'"{name}"'
        still_set = any(needle in (repo.read_path(base, h) or "") for h in holders)
        if still_set:
            continue  # removing it while machine types set it is a break, judged elsewhere
        ever_set = repo.run(
            ["log", "-n", "1", "--format=%H", "-S", needle, base, "--", *holders]
        ).strip()
        if ever_set:
            out.append(f"property {name} ({path}) removed with the machine types that set it")
    return tuple(out)


def _removed_properties(change: Change) -> dict[str, str]:
    """Properties a change removes and does not define again: name -> file."""
    removed: dict[str, str] = {}
    added: set[str] = set()
    for fc in change.files:
        for hunk in fc.hunks:
            for line in hunk.lines:
                prop = _PROPERTY.match(line.text)
                if prop and line.kind == "-":
                    removed.setdefault(prop.group("name"), fc.path)
                elif prop and line.kind == "+":
                    added.add(prop.group("name"))
    return {name: path for name, path in removed.items() if name not in added}


def _declared(text: str) -> list[tuple[str, str]]:
    out = []
    machine = _MACHINE.match(text)
    if machine:
        family = machine.group("family").lower().replace("_", "-")
        version = ".".join(v for v in machine.group("major", "minor", "micro") if v)
        name = f"{_FAMILIES.get(family, family)}-{version}"
        out.append((f"1:{name}", f"machine type {name} removed"))
    array = _ARRAY.search(text)
    if array:
        name = array.group("name")
        out.append((f"2:{name}", f"{name}[] removed with the machine types it served"))
    return out
