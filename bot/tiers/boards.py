"""Which machine types a C file registers, and which of them are versioned.

Read from the text, the way a maintainer would grep for it:

* versioned families: a ``DEFINE_<FAMILY>_MACHINE_IMPL``-style macro that names
  the family in ``MACHINE_VER_TYPE_NAME("virt", ...)`` (arm and m68k virt,
  pseries, s390-ccw-virtio) or in ``DEFINE_PC_VER_MACHINE(sym, "pc-q35", ...)``
  (x86), plus invocations with a version: ``DEFINE_Q35_MACHINE(10, 2)``;
* plain machines: ``DEFINE_MACHINE("musicpal", ...)`` and its per-target
  variants, ``DEFINE_PC_MACHINE(isapc, "isapc", ...)``, and ``TypeInfo``s whose
  ``.name`` is ``MACHINE_TYPE_NAME("q800")`` or a ``TYPE_*`` macro defined as
  one (abstract types excluded).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class Machine:
    name: str
    """The machine type, or for a versioned family its name without version."""
    versioned: bool = False
    latest: str | None = None
    """Newest version registered (``"11.0"``), for versioned families."""

    @property
    def display(self) -> str:
        return f"{self.name}-*" if self.versioned else self.name


_TYPE_DEFINE = re.compile(
    r"#\s*define\s+(TYPE_\w+)\s*(?:\\\s*\n\s*)?MACHINE_TYPE_NAME\(\s*\"([^\"]+)\"\s*\)"
)
_NAME_FIELD = re.compile(r"\.name\s*=\s*(?:MACHINE_TYPE_NAME\(\s*\"([^\"]+)\"\s*\)|(TYPE_\w+))")
_DEFINE_NAMED = re.compile(r"\bDEFINE_\w*MACHINE\w*\(\s*(?:\w+\s*,\s*)?\"([^\"]+)\"")
_FAMILY = re.compile(
    # MACHINE_VER_TYPE_NAME("virt", ...), DEFINE_PC_VER_MACHINE(sym, "pc-q35", ...)
    # and, before QEMU 9.1, MACHINE_TYPE_NAME("pseries-" verstr) in the macro body
    r"MACHINE_VER_TYPE_NAME\(\s*\"([^\"]+)\""
    r"|DEFINE_PC_VER_MACHINE\(\s*\w+\s*,\s*\"([^\"]+)\""
    r"|MACHINE_TYPE_NAME\(\s*\"([^\"]+)-\"\s*[#\w]"
)
_VERSION = r"(\d+\.\d+(?:\.\d+)?)"
# DEFINE_Q35_MACHINE(10, 2), DEFINE_VIRT_MACHINE(6, 2, false), ..._BUGFIX(6, 1, 1)
_VERSIONED_USE = re.compile(
    r"^[ \t]*DEFINE_\w*MACHINE\w*\(\s*(\d+)\s*,\s*(\d+)\s*(?:,\s*(\w+)\s*)?\)", re.M
)
# before 9.1: DEFINE_SPAPR_MACHINE(6_2, "6.2", false)
_VERSION_STRING_USE = re.compile(
    r"^[ \t]*DEFINE_\w*MACHINE\w*\(\s*\w+\s*,\s*\"" + _VERSION + r"\"", re.M
)
# before 9.1: DEFINE_I440FX_MACHINE(v6_2, "pc-i440fx-6.2", NULL, ...)
_VERSIONED_NAME_USE = re.compile(
    r"^[ \t]*DEFINE_\w*MACHINE\w*\(\s*\w+\s*,\s*\"([A-Za-z][\w.-]*?)-" + _VERSION + r"\"",
    re.M,
)
_MIN_NAMED_VERSIONS = 3
"""A family named with its version in each string counts as versioned from three
versions on: xenfv-3.1 and xenfv-4.2 are two machines, not a versioned family."""
# QEMU 2.0 to 2.4: ``static QEMUMachine foo_machine = { .name = "foo", ... }`` and,
# in class_init functions, ``mc->name = "pseries-2.1"``.
_QEMU_MACHINE = re.compile(r"\bQEMUMachine\s+\w+\s*=\s*\{")
_LITERAL_NAME = re.compile(r"\.name\s*=\s*\"([^\"]+)\"")
_MC_NAME = re.compile(r"\bmc->name\s*=\s*(?:\"([^\"]+)\"|(TYPE_\w+))")
_PLAIN_TYPE_DEFINE = re.compile(r"#\s*define\s+(TYPE_\w+)\s+\"([^\"]+)\"")
_NAMED_VERSION = re.compile(r"^([A-Za-z][\w.-]*?)-" + _VERSION + r"$")
_ONLY_VERSION = re.compile(r"^\d+(\.\d+)*(-\w+)?$")
"""``6.2``, or a tagged version such as pseries ``2.12-sxxm``."""
_ABSTRACT = re.compile(r"\.abstract\s*=\s*true")
_LINE_COMMENT = re.compile(r"//[^\n]*")
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.S)


def machine_type_macros(texts: Iterable[str]) -> dict[str, str]:
    """``#define TYPE_FOO_MACHINE MACHINE_TYPE_NAME("foo")`` -> {TYPE_FOO_MACHINE: foo}."""
    out: dict[str, str] = {}
    for text in texts:
        for m in _TYPE_DEFINE.finditer(text):
            out.setdefault(m.group(1), m.group(2))
    return out


def _strip_comments(text: str) -> str:
    return _LINE_COMMENT.sub("", _BLOCK_COMMENT.sub("", text))


def _in_define(text: str, pos: int) -> bool:
    """Is ``pos`` inside a ``#define`` (a macro body, possibly continued with ``\\``)?"""
    start = text.rfind("\n", 0, pos) + 1
    while True:
        if text[start:pos].lstrip().startswith("#"):
            return True
        if start < 2 or text[start - 2] != "\\":
            return False
        start = text.rfind("\n", 0, start - 1) + 1


_BLOCK_REACH = 4000
"""How far to look for an initializer's braces: a TypeInfo is small, and the
bound keeps a hostile file with thousands of ``.name =`` linear, not quadratic."""


def _enclosing_block(text: str, pos: int) -> str:
    """The ``{ ... }`` initializer around ``pos`` (brace matching, good enough for C)."""
    depth = 0
    i = pos
    while i > max(0, pos - _BLOCK_REACH):
        i -= 1
        c = text[i]
        if c == "}":
            depth += 1
        elif c == "{":
            if depth == 0:
                break
            depth -= 1
    depth = 0
    j = pos
    while j < min(len(text), pos + _BLOCK_REACH):
        c = text[j]
        if c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                break
            depth -= 1
        j += 1
    return text[i : j + 1]


def _version_key(v: str) -> tuple[int, ...]:
    return tuple(int(x) if x.isdigit() else 0 for x in v.split("."))


def scan_machines(
    text: str, type_macros: Mapping[str, str], known_families: Iterable[str] = ()
) -> tuple[Machine, ...]:
    """The machine types a C file registers (empty for a device file).

    ``known_families`` (rules/tiers.toml) are versioned from their first
    versioned name on (``pseries-2.1`` in QEMU 2.1); other families need three.
    """
    text = _strip_comments(text)
    known = set(known_families)
    out: set[Machine] = set()
    versions = [
        ".".join(g for g in m.groups() if g and g.isdigit())
        for m in _VERSIONED_USE.finditer(text)
        if not _in_define(text, m.start())
    ]
    versions += [
        m.group(1) for m in _VERSION_STRING_USE.finditer(text) if not _in_define(text, m.start())
    ]
    families = {next(g for g in groups if g) for groups in _FAMILY.findall(text)}
    if versions and families:
        latest = max(versions, key=_version_key)
        out |= {Machine(f, versioned=True, latest=latest) for f in families}
    named: dict[str, set[str]] = {}
    for m in _VERSIONED_NAME_USE.finditer(text):
        if not _in_define(text, m.start()):
            named.setdefault(m.group(1), set()).add(m.group(2))
    literal = _old_machine_names(text, type_macros)
    # .name = MACHINE_TYPE_NAME("pseries-2.1") (QEMU 2.5 to 2.7): versions too
    typed = [
        m.group(1)
        for m in _NAME_FIELD.finditer(text)
        if m.group(1) and not _in_define(text, m.start())
    ]
    for name in [*literal, *typed]:
        v = _NAMED_VERSION.match(name)
        if v:
            named.setdefault(v.group(1), set()).add(v.group(2))
    for family, vs in named.items():
        if len(vs) >= _MIN_NAMED_VERSIONS or family in known:
            families.add(family)
            out.add(Machine(family, versioned=True, latest=max(vs, key=_version_key)))

    def is_version_of_family(name: str) -> bool:
        if _ONLY_VERSION.match(name):  # "6.2" in DEFINE_SPAPR_MACHINE(6_2, "6.2", false)
            return True
        return any(
            name.startswith(f + "-") and _ONLY_VERSION.match(name[len(f) + 1 :]) for f in families
        )

    for name in literal:
        if not is_version_of_family(name) and name not in families:
            out.add(Machine(name))
    for m in _DEFINE_NAMED.finditer(text):
        if not _in_define(text, m.start()) and not is_version_of_family(m.group(1)):
            out.add(Machine(m.group(1)))
    for m in _NAME_FIELD.finditer(text):
        if _in_define(text, m.start()):
            continue
        name = m.group(1) or type_macros.get(m.group(2) or "")
        if name is None or name in families or is_version_of_family(name):
            continue
        if _ABSTRACT.search(_enclosing_block(text, m.start())):
            continue
        out.add(Machine(name))
    return tuple(sorted(out))


def _old_machine_names(text: str, type_macros: Mapping[str, str]) -> list[str]:
    """Machine names given the pre-2.5 ways: a ``QEMUMachine`` initializer's
    ``.name``, or ``mc->name =`` in a class_init function."""
    out: list[str] = []
    # before MACHINE_TYPE_NAME: #define TYPE_VIRT_MACHINE "virt"
    local = dict(_PLAIN_TYPE_DEFINE.findall(text))
    for m in _QEMU_MACHINE.finditer(text):
        if _in_define(text, m.start()):
            continue
        block = _enclosing_block(text, m.end())
        n = _LITERAL_NAME.search(block)
        if n:
            out.append(n.group(1))
    for m in _MC_NAME.finditer(text):
        if _in_define(text, m.start()):
            continue
        macro = m.group(2) or ""
        name = m.group(1) or type_macros.get(macro) or local.get(macro)
        if name is not None:
            out.append(name)
    return out
