"""How machine code applies the compat arrays: options chains and array wiring.

A versioned machine family keeps one options function per version
(``virt_machine_10_1_options``, ``pc_i440fx_2_12_machine_options``,
``ccw_machine_9_2_class_options``...). Version X.Y must chain to the next
newer version of the same family and then apply the arrays of X.Y, and only
those (``hw_compat_X_Y``, ``pc_compat_X_Y``; ``HW_COMPAT_X_Y`` and
``PC_COMPAT_X_Y`` before QEMU 4.0). Before 4.0, family compat macros
(``#define SPAPR_COMPAT_2_12 HW_COMPAT_2_12 ...``) had to include the generic
macro of the same version.

Every check here compares the base and the head of a file and reports only
what the change breaks: a tree that was already inconsistent is not this
change's doing, and a "hw: add compat machines" commit that keeps the
pattern stays silent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from bot.compare import facts as F
from bot.compare.context import FileModels
from bot.scanner.model import FileModel, FunctionSummary

OPTIONS_FUNCTION = re.compile(
    r"^(?P<pre>[a-z][a-z0-9]*(?:_[a-z][a-z0-9]*)*)"
    r"_(?P<major>\d+)_(?P<minor>\d+)(?:_(?P<micro>\d+))?"
    r"_(?P<post>(?:[a-z][a-z0-9]*_)*options)$"
)
"""An options function of one machine version (``_4_0_1_`` for a bugfix one);
``pre`` and ``post`` name its family."""

VERSIONED_FAMILIES = re.compile(r"^(pc_i440fx|pc_q35|virt|spapr|ccw)(_|$)")
"""Prefixes of the versioned families' options (x86, arm and m68k virt, pseries, s390x).
Other versioned-looking names (xenfv 3.1 and 4.2) are separate machines, not a chain."""

_ARRAY = re.compile(
    r"^(?P<fam>[a-z][a-z0-9]*|[A-Z][A-Z0-9]*)_(?:compat|COMPAT)_"
    r"(?P<major>\d+)_(?P<minor>\d+)(?:_len)?$"
)
"""A versioned compat array (``hw_compat_10_1``, its ``_len``) or macro (``PC_COMPAT_2_12``)."""

_DEFINE = re.compile(
    r"^[ \t]*#[ \t]*define[ \t]+"
    r"(?P<name>(?P<fam>[A-Z][A-Z0-9]*)_COMPAT_(?P<major>\d+)_(?P<minor>\d+))\b"
    r"(?P<body>(?:[^\n]*\\\n)*[^\n]*)",
    re.M,
)
_BODY_REF = re.compile(r"\b(?P<fam>[A-Z][A-Z0-9]*)_COMPAT_(?P<major>\d+)_(?P<minor>\d+)\b")

Version = tuple[int, ...]
ReadSibling = Callable[[str, bool], FileModel | None]
"""(path, new side) -> the model of another machine file of the tree, or None."""

SIBLINGS = {"hw/i386/pc_piix.c": "hw/i386/pc_q35.c", "hw/i386/pc_q35.c": "hw/i386/pc_piix.c"}
"""Machine files whose versions apply the same family arrays (pc_compat_X_Y)."""

_MIG031_NAMES = re.compile(r"_machine_(?P<major>\d+)_(?P<minor>\d+)_(?:class_)?options$")
"""Options functions whose missing hw_compat array MIG031 already reports."""


@dataclass(frozen=True, slots=True)
class _Options:
    fn: FunctionSummary
    family: tuple[str, str]
    version: Version


@dataclass(frozen=True, slots=True)
class _Problem:
    key: tuple[str, str, str]
    """(kind, function or macro, array or callee): identity across base and head."""
    fact: F.Fact


def _options(model: FileModel) -> dict[tuple[str, str], list[_Options]]:
    groups: dict[tuple[str, str], list[_Options]] = {}
    for fn in model.functions:
        m = OPTIONS_FUNCTION.match(fn.name)
        if m is None or not VERSIONED_FAMILIES.match(m.group("pre")):
            continue
        family = (m.group("pre"), m.group("post"))
        version = tuple(int(m.group(g)) for g in ("major", "minor", "micro") if m.group(g))
        groups.setdefault(family, []).append(_Options(fn, family, version))
    for group in groups.values():
        group.sort(key=lambda o: o.version)
    return groups


def _name(o: _Options, version: Version) -> str:
    return f"{o.family[0]}_{'_'.join(str(n) for n in version)}_{o.family[1]}"


def _arrays(fn: FunctionSummary) -> dict[str, tuple[str, Version]]:
    """Versioned arrays a function applies: identifier -> (family, version)."""
    out: dict[str, tuple[str, Version]] = {}
    for ident in fn.identifiers:
        m = _ARRAY.match(ident)
        if m is not None:
            out[ident] = (m.group("fam").lower(), (int(m.group("major")), int(m.group("minor"))))
    return out


def _problems(path: str, model: FileModel, sibling: FileModel | None) -> list[_Problem]:
    out: list[_Problem] = []
    groups = _options(model)
    for group in groups.values():
        if len(group) < 2:
            continue
        applied_families = {fam for o in group for fam, _ in _arrays(o.fn).values()}
        for k, o in enumerate(group[:-1]):
            newer = _name(o, group[k + 1].version)
            arrays = _arrays(o.fn)
            # Before QEMU 4.0 the family macros chained the properties
            # (PC_COMPAT_1_6 held PC_COMPAT_1_7), not always the functions; and
            # instance options of families that apply no array may be empty.
            macro_era = any(i.isupper() for i in arrays)
            empty = not applied_families and not o.fn.identifiers
            # Chaining: version X.Y starts from the next newer version's options.
            if newer not in o.fn.identifiers and not macro_era and not empty:
                calls = sorted(g.fn.name for g in group if g.fn.name in o.fn.identifiers)
                out.append(
                    _Problem(
                        ("chain", o.fn.name, newer),
                        F.MachineOptionsChainBroken(
                            path=path,
                            line=o.fn.line,
                            subject=o.fn.name,
                            function=o.fn.name,
                            expected=newer,
                            calls=tuple(calls),
                        ),
                    )
                )
            # The arrays applied are those of the function's own version.
            for ident, (_fam, version) in sorted(arrays.items()):
                if version == o.version[:2]:
                    continue
                m = _ARRAY.match(ident)
                assert m is not None
                own = (
                    ident[: m.start("major")]
                    + f"{o.version[0]}_{o.version[1]}"
                    + ident[m.end("minor") :]
                )
                out.append(
                    _Problem(
                        ("array", o.fn.name, ident),
                        F.MachineOptionsWrongArray(
                            path=path,
                            line=o.fn.line,
                            subject=f"{o.fn.name}.{ident}",
                            function=o.fn.name,
                            array=ident,
                            expected=own,
                        ),
                    )
                )
            # A family array that the sibling machine file applies at this version.
            if sibling is None or not applied_families:
                continue
            twin = _same_version(sibling, o)
            if twin is None:
                continue
            for ident, (fam, version) in sorted(_arrays(twin).items()):
                if ident.endswith("_len") or version != o.version[:2] or ident in o.fn.identifiers:
                    continue
                if fam == "hw" and _MIG031_NAMES.search(o.fn.name):
                    continue  # MIG031 reports a missing hw_compat array itself
                out.append(
                    _Problem(
                        ("missing", o.fn.name, ident),
                        F.CompatArrayNotApplied(
                            path=path,
                            line=o.fn.line,
                            subject=o.fn.name,
                            function=o.fn.name,
                            array=ident,
                        ),
                    )
                )
    return out


def _same_version(sibling: FileModel, o: _Options) -> FunctionSummary | None:
    """The sibling family's options function of the same version, if it chains
    like this one does (``pc_q35_machine_X_Y_options`` for ``pc_i440fx_...``)."""
    for group in _options(sibling).values():
        if len(group) < 2 or group[0].family[1] != o.family[1]:
            continue
        for other in group:
            if other.version == o.version:
                return other.fn
    return None


def _macro_problems(path: str, text: str | None) -> list[_Problem]:
    """Before QEMU 4.0: a family macro that does not include the generic one."""
    if not text or "_COMPAT_" not in text:
        return []
    out: list[_Problem] = []
    defines = list(_DEFINE.finditer(text))

    def version_of(d: re.Match[str]) -> Version:
        return (int(d.group("major")), int(d.group("minor")))

    chained = [
        (d.group("fam"), version_of(d))
        for d in defines
        if d.group("fam") != "HW" and "HW_COMPAT_" in d.group("body")
    ]
    for d in defines:
        fam = d.group("fam")
        version = version_of(d)
        if fam == "HW" or not any(f == fam and v < version for f, v in chained):
            continue  # not a family macro of the era that includes HW_COMPAT
        if not d.group("body").replace("\\", "").strip():
            continue  # an empty placeholder for the latest version: applied by nothing yet
        refs = [
            (r.group("fam"), (int(r.group("major")), int(r.group("minor"))))
            for r in _BODY_REF.finditer(d.group("body"))
        ]
        hw = [v for f, v in refs if f == "HW"]
        same = [v for f, v in refs if f == fam]
        if same or hw == [version]:
            continue  # chained to a newer family macro (the old form), or right
        expected = f"HW_COMPAT_{version[0]}_{version[1]}"
        line = text.count("\n", 0, d.start()) + 1
        out.append(
            _Problem(
                ("macro", d.group("name"), expected),
                F.CompatMacroNotChained(
                    path=path,
                    line=line,
                    subject=d.group("name"),
                    macro=d.group("name"),
                    expected=expected,
                    found=tuple(f"HW_COMPAT_{v[0]}_{v[1]}" for v in hw),
                ),
            )
        )
    return out


def wiring_facts(
    fm: FileModels,
    texts: tuple[str | None, str | None],
    read_sibling: ReadSibling,
) -> Iterable[F.Fact]:
    """Wiring problems the change brings into one file (none it inherited)."""
    old_text, new_text = texts
    if fm.new is None:
        return
    has_options = any(OPTIONS_FUNCTION.match(fn.name) for fn in fm.new.functions)
    new_p: list[_Problem] = []
    old_p: list[_Problem] = []
    if has_options:
        sib_path = SIBLINGS.get(fm.path)
        new_sib = read_sibling(sib_path, True) if sib_path else None
        old_sib = read_sibling(sib_path, False) if sib_path else None
        new_p += _problems(fm.path, fm.new, new_sib)
        if fm.old is not None:
            old_p += _problems(fm.path, fm.old, old_sib)
    new_p += _macro_problems(fm.path, new_text)
    old_p += _macro_problems(fm.path, old_text)
    before = {p.key for p in old_p}
    for p in new_p:
        if p.key not in before:
            yield p.fact


def sibling_reader(
    files: Sequence[FileModels],
    read_new: Callable[[str], FileModel | None],
    read_old: Callable[[str], FileModel | None],
) -> ReadSibling:
    """Models of a sibling machine file: from the change when it is touched, else the trees."""
    by_path = {fm.path: fm for fm in files}

    def read(path: str, new: bool) -> FileModel | None:
        fm = by_path.get(path)
        if fm is not None:
            return fm.new if new else fm.old
        return read_new(path) if new else read_old(path)

    return read
