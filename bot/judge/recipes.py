"""Fix recipes filled with the real names, and line fixes where one is certain.

The catalogue's recipes are written on a placeholder device (``FooState``,
``vmstate_foo``, field ``bar``, ``hw_compat_X_Y``). For a finding on a real
VMSD the recipe is rewritten with the device's state type, its VMSD, the field
or property, the subsection name and the newest ``hw_compat`` array of the base
revision, so the author can paste it. A placeholder is replaced only when its
real name was found; a recipe whose state type or VMSD cannot be found stays as
the catalogue wrote it.

Where the fix of one line is certain (a subsection name without its parent's
prefix), the finding carries the replacement line: the forge shows it as a
suggestion, SARIF as a ``fix``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.change import Change
from bot.findings import Finding, LineFix, Report, Side
from bot.judge.registry import PREFIX_FIXES

_ARRAY = re.compile(r"\bGlobalProperty\s+hw_compat_(\d+)_(\d+)\s*\[\s*\]")
_DECL = re.compile(r"\bVMStateDescription\s+(\w+)\s*=")
_NAME = re.compile(r'\.name\s*=\s*"([^"]*)"')
_STATE = re.compile(r"\bVMSTATE_\w+\(\s*[\w.\[\]]+\s*,\s*([A-Z]\w*)")
_TYPEINFO = re.compile(r"\bTypeInfo\s+\w+\s*=\s*\{[^}]*?\.name\s*=\s*(TYPE_\w+)", re.S)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_COMPAT_MACHINE = "hw/core/machine.c"


_VERSION = re.compile(r"^\s*\.version_id\s*=\s*(\d+)\s*,")
_SCALAR = r"\b(VMSTATE_[A-Z0-9_]+?)(?:_V)?\(\s*{field}\s*,\s*\w+\s*(?:,\s*(\d+)\s*)?\)"
"""A field of two arguments (plus a version for ``_V``): ``VMSTATE_UINT8(fcr, S)``."""


@dataclass(frozen=True, slots=True)
class Names:
    state: str
    vmsd_ident: str
    vmsd_name: str
    subject: str | None
    qom_type: str | None
    newest_compat: str | None
    version: int | None = None
    """The VMSD's ``.version_id`` after the change, when it is a number."""
    field_macro: str | None = None
    """The subject field's scalar ``VMSTATE_*`` macro (without ``_V``)."""
    field_version: int | None = None
    """The subject field's ``_V`` version, when it has one."""

    @property
    def next_version(self) -> int | None:
        """The version the recipe asks for: the field's, or one above the VMSD's."""
        if self.version is None:
            return None
        if self.field_version is not None and self.field_version > self.version:
            return self.field_version
        return self.version + 1


def newest_compat(read: Callable[[str], str | None]) -> str | None:
    """The newest ``hw_compat_X_Y`` array of a tree (hw/core/machine.c)."""
    text = read(_COMPAT_MACHINE)
    if not text:
        return None
    versions = [(int(a), int(b)) for a, b in _ARRAY.findall(text)]
    if not versions:
        return None
    major, minor = max(versions)
    return f"hw_compat_{major}_{minor}"


def names_for(finding: Finding, text: str, newest: str | None) -> Names | None:
    """The real names behind a recipe's placeholders, from the file's new text."""
    if finding.vmsd is None:
        return None
    lines = text.splitlines()
    at = next(
        (i for i, ln in enumerate(lines) if f'"{finding.vmsd}"' in ln and _NAME.search(ln)), None
    )
    if at is None:
        return None
    decl = next((i for i in range(at, max(-1, at - 6), -1) if _DECL.search(lines[i])), None)
    if decl is None:
        return None
    found = _DECL.search(lines[decl])
    assert found is not None
    state = None
    version = None
    body = []
    for line in lines[decl : decl + 120]:
        body.append(line)
        match = _STATE.search(line)
        if match and state is None:
            state = match.group(1)
        numbered = _VERSION.match(line)
        if numbered and version is None:
            version = int(numbered.group(1))
        if line.startswith("};"):
            break
    if state is None:
        return None
    types = set(_TYPEINFO.findall(text))
    subject = finding.subject if finding.subject and _IDENT.fullmatch(finding.subject) else None
    macro = field_version = None
    if subject:
        field = re.compile(_SCALAR.format(field=re.escape(subject)))
        hit = next((m for line in body if (m := field.search(line))), None)
        if hit:
            macro = hit.group(1)
            field_version = int(hit.group(2)) if hit.group(2) else None
    return Names(
        state=state,
        vmsd_ident=found.group(1),
        vmsd_name=finding.vmsd,
        subject=subject,
        qom_type=types.pop() if len(types) == 1 else None,
        newest_compat=newest,
        version=version,
        field_macro=macro,
        field_version=field_version,
    )


def fill(recipe: str, n: Names) -> str:
    """The recipe with each placeholder whose real name is known replaced."""
    base = n.vmsd_ident.removeprefix("vmstate_")
    swaps: list[tuple[str, str]] = [(r"\bFooState\b", n.state)]
    if n.newest_compat:
        swaps.append((r"\bhw_compat_X_Y\b", n.newest_compat))
    if n.subject and n.field_macro:
        # The catalogue's field is a VMSTATE_UINT32 named bar: send what the real one is.
        swaps += [
            (r"\bVMSTATE_UINT32_V\(bar\b", f"{n.field_macro}_V(bar"),
            (r"\bVMSTATE_UINT32\(bar\b", f"{n.field_macro}(bar"),
        ]
    target = n.next_version
    if target is not None and n.version is not None:
        swaps += [
            (r"\(say from 2 to 3\)", f"(from {n.version} to {target})"),
            (r"(?<=\.version_id = )3,(\s*)/\* was 2 \*/", f"{target},\\1/* was {n.version} */"),
            (r"(_V\(bar, \w+, )3\)", f"\\g<1>{target})"),
        ]
    if n.subject:
        sub = n.subject
        swaps += [
            (r"\bvmstate_foo_bar\b", f"{n.vmsd_ident}_{sub}"),
            (r"\bfoo_bar_needed\b", f"{base}_{sub}_needed"),
            (r'"foo/bar"', f'"{n.vmsd_name}/{sub}"'),
            (r'"x-migrate-bar"', f'"x-migrate-{sub.replace("_", "-")}"'),
            (r"\bmigrate_bar\b", f"migrate_{sub}"),
            (r"(?<=\()bar(?=,)", sub),
            (r"(?<=->)bar\b", sub),
        ]
    swaps += [
        (r"\bvmstate_foo\b", n.vmsd_ident),
        (r"\bvmstate_foo_(?=\w)", f"{n.vmsd_ident}_"),
        (r"\bfoo_(?=\w)", f"{base}_"),
        (r'"foo/(?=\w)', f'"{n.vmsd_name}/'),
        (r'(?<=\.name = )"foo"', f'"{n.vmsd_name}"'),
    ]
    if n.qom_type:
        swaps.append((r'(?<=\{ )"foo"(?=,)', n.qom_type))
    for pattern, real in swaps:
        recipe = re.sub(pattern, lambda m, r=real: m.expand(r), recipe)  # type: ignore[misc]
    return recipe


def prefix_fix(finding: Finding, text: str) -> LineFix | None:
    """A subsection name missing its parent's prefix: ``.name = "poison"`` becomes
    ``.name = "foo/poison"``, on its own line."""
    if finding.rule_id not in PREFIX_FIXES or finding.side is not Side.NEW or finding.line is None:
        return None
    if finding.vmsd is None or finding.subject is None:
        return None
    lines = text.splitlines()
    wanted = f'"{finding.subject}"'
    for number in range(finding.line, min(len(lines), finding.line + 6) + 1):
        old = lines[number - 1]
        if _NAME.search(old) and wanted in old and old.count('"') == 2:
            new = old.replace(wanted, f'"{finding.vmsd}/{finding.subject}"', 1)
            return LineFix(number, old, new)
    return None


def specialise(change: Change, report: Report) -> Report:
    """Every finding's recipe filled in, and its certain line fix attached."""
    if not report.findings:
        return report
    texts = {fc.path: fc.new_text for fc in change.files if fc.new_text is not None}
    head = change.head_tree
    base_tree = change.base_tree

    def read(path: str) -> str | None:
        if path in texts:
            return texts[path]
        return head.read(path) if head is not None else None

    newest = newest_compat(base_tree.read) if base_tree is not None else None
    out = []
    for finding in report.findings:
        text = read(finding.path) if finding.side is not Side.OLD else None
        if text is None:
            out.append(finding)
            continue
        names = names_for(finding, text, newest)
        if names is not None:
            finding = replace(finding, fix=fill(finding.fix, names))
        fix = prefix_fix(finding, text)
        if fix is not None:
            finding = replace(finding, line_fix=fix)
        out.append(finding)
    return replace(report, findings=tuple(out))
