"""Machine types retired under QEMU's deprecation policy, and the compat arrays
that go with them, as a change removes them.

Correct changes, but each one ends migration from (and to) a QEMU running the
retired machine types, which a maintainer wants to see in the week's digest.
Read from the removed lines of the hunks; a definition the same change adds
back (a move) is not a retirement.
"""

from __future__ import annotations

import re

from bot.change import Change

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
_ARRAY = re.compile(r"\bGlobalProperty\s+(?P<name>(?:hw|pc)_compat_\d+_\d+(?:_\d+)?)\s*\[\s*\]")


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
