"""Judging a file from its hunks alone (a patch checked without a repository).

Only what the hunks show can be judged: fields added, removed or changed
inside a visible part of a field list, version lines, compat entries under a
visible array header, property defaults, and whole VMSDs the patch adds. The
report says plainly that the rest was not seen.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from bot.change import FileChange, Hunk, HunkLine
from bot.compare import facts as F
from bot.compare.vmsds import field_facts
from bot.findings import NotUnderstood, Side
from bot.scanner.fields import interpret
from bot.scanner.lexer import LexError, tokenize
from bot.scanner.macros import MacroTable
from bot.scanner.model import FieldModel, PropertyModel, VmsdModel
from bot.scanner.scan import scan

_FIELD_START = re.compile(r"^\s*VMSTATE_\w+\s*\(")
_VERSION = re.compile(r"^\s*\.(?P<key>version_id|minimum_version_id)\s*=\s*(?P<v>\d+)\s*,?\s*$")
_NAME = re.compile(r'^\s*\.name\s*=\s*"(?P<n>[^"]+)"')
_VMSD_HEAD = re.compile(r"VMStateDescription\s+(?P<id>\w+)")
_ARRAY_HEAD = re.compile(r"GlobalProperty\s+(?P<a>\w+_compat_\d+_\d+)\s*\[")
_ENTRY = re.compile(r'^\s*\{\s*(?P<d>"[^"]*"|\w+)\s*,\s*(?P<p>"[^"]*")\s*,\s*(?P<v>"[^"]*")\s*[,}]')


def hunk_facts(fc: FileChange, table: MacroTable) -> tuple[list[F.Fact], list[NotUnderstood]]:
    facts: list[F.Fact] = []
    unknown: list[NotUnderstood] = []
    added_vmsds: dict[str, VmsdModel] = {}
    for h in fc.hunks:
        new_frag = _fragment(h.lines, " +")
        try:
            model = scan(_text(new_frag), fc.path, table)
        except (LexError, ValueError, IndexError):
            model = None
        if model is not None:
            added_lines = h.added_lines()
            for v in model.vmsds:
                # Whole in the hunk is not new: only a declaration the patch adds is.
                if v.line in added_lines:
                    added_vmsds[v.ident] = v
    for h in fc.hunks:
        got, why = _hunk(fc.path, h, table, added_vmsds)
        facts.extend(got)
        unknown.extend(NotUnderstood(fc.path, ln, w) for ln, w in why)
    return facts, unknown


def _fragment(lines: Sequence[HunkLine], kinds: str) -> list[tuple[int, str]]:
    out = []
    for ln in lines:
        if ln.kind in kinds:
            num = ln.new_line if "+" in kinds else ln.old_line
            out.append((num or 0, ln.text))
    return out


def _text(frag: Sequence[tuple[int, str]]) -> str:
    """Fragment text with its real line numbers (blank lines pad the gaps)."""
    out: list[str] = []
    for num, text in frag:
        while len(out) < num - 1:
            out.append("")
        out.append(text.rstrip("\n"))
    return "\n".join(out) + "\n"


def _fields(
    frag: Sequence[tuple[int, str]], table: MacroTable
) -> tuple[list[FieldModel], list[tuple[int, str]]]:
    fields: list[FieldModel] = []
    why: list[tuple[int, str]] = []
    k = 0
    while k < len(frag):
        num, text = frag[k]
        if not _FIELD_START.match(text):
            k += 1
            continue
        buf = text
        j = k
        while buf.count("(") > buf.count(")") and j + 1 < len(frag):
            j += 1
            buf += "\n" + frag[j][1]
        k = j + 1
        item = buf.strip().rstrip(",")
        try:
            toks = tokenize("\n" * (num - 1) + item, "hunk.c")
        except LexError:
            why.append((num, "field not lexed"))
            continue
        got, reason = interpret(toks, table, None)
        if reason:
            why.append((num, reason))
        fields.extend(got)
    return fields, why


def _hunk(
    path: str, h: Hunk, table: MacroTable, added_vmsds: dict[str, VmsdModel]
) -> tuple[list[F.Fact], list[tuple[int, str]]]:
    old_frag = _fragment(h.lines, " -")
    new_frag = _fragment(h.lines, " +")
    out: list[F.Fact] = []
    old_fields, why_o = _fields(old_frag, table)
    new_fields, why_n = _fields(new_frag, table)
    name = _vmsd_name(h)
    versions_old = _versions(old_frag)
    versions_new = _versions(new_frag)
    in_new_vmsd = any(
        v.line <= (ln.new_line or 0) <= v.end_line
        for v in added_vmsds.values()
        for ln in h.lines
        if ln.kind == "+"
    )
    shape_of = [(f.name, f.wire_key()) for f in old_fields]
    if shape_of != [(f.name, f.wire_key()) for f in new_fields] and not in_new_vmsd:
        seen_version = "version_id" in versions_old or "version_id" in versions_new
        ov = versions_old.get("version_id", versions_new.get("version_id", 0))
        nv = versions_new.get("version_id", ov)
        om = versions_new.get("minimum_version_id", 0)
        o = VmsdModel(ident=name, line=0, end_line=0, version_id=ov, fields=tuple(old_fields))
        n = VmsdModel(
            ident=name,
            line=0,
            end_line=0,
            version_id=nv,
            minimum_version_id=om,
            fields=tuple(new_fields),
        )
        # Old streams are known to be refused only when the hunk shows both numbers.
        got = field_facts(path, o, n, name, seen_version and om > ov)
        out.extend(got if seen_version else (_unknown_version(f) for f in got))
    for key in ("version_id", "minimum_version_id"):
        a, b = versions_old.get(key), versions_new.get(key)
        if a is not None and b is not None and b > a:
            if key == "version_id":
                out.append(
                    F.VersionBumped(
                        path=path,
                        line=_line_of(h, key),
                        vmsd=name,
                        old=a,
                        new=b,
                        nested_in=(),
                        is_subsection=False,
                        added_versioned_fields=(),
                    )
                )
            else:
                current = versions_old.get("version_id", versions_new.get("version_id", b))
                out.append(
                    F.MinimumVersionRaised(
                        path=path,
                        line=_line_of(h, key),
                        vmsd=name,
                        old=a,
                        new=b,
                        subject=str(current),
                    )
                )
    out.extend(_compat(path, h))
    out.extend(_property_defaults(path, h, table))
    for v in added_vmsds.values():
        if v.needed is None and any(
            f"&{v.ident}" in ln.text.replace(" ", "") for ln in h.lines if ln.kind == "+"
        ):
            out.append(
                F.SubsectionAdded(
                    path=path,
                    line=v.line,
                    vmsd=name,
                    subject=v.name or v.ident,
                    sub=v,
                    needed=None,
                    gate=None,
                    new_parent=False,
                )
            )
    return out, why_o + why_n


def _unknown_version(fact: F.Fact) -> F.Fact:
    """The VMSD version was not in the hunk: say so rather than print a guess."""
    if isinstance(fact, F.FieldAdded):
        return replace(fact, vmsd_version_new=None)
    return fact


def _props(lines: Sequence[HunkLine], kind: str, table: MacroTable) -> list[PropertyModel]:
    """Properties of the ``kind`` lines, read by the scanner as a property array."""
    picked = [ln for ln in lines if ln.kind == kind and "DEFINE_PROP" in ln.text]
    if not picked:
        return []
    body = "\n".join(ln.text.rstrip("\n") for ln in picked)
    try:
        model = scan(f"static const Property hunk[] = {{\n{body}\n}};\n", "hunk.c", table)
    except (LexError, ValueError, IndexError):
        return []
    numbers = [(ln.new_line if kind == "+" else ln.old_line) or 0 for ln in picked]
    return [replace(p, line=numbers[min(p.line - 2, len(numbers) - 1)]) for p in model.properties]


def _property_defaults(path: str, h: Hunk, table: MacroTable) -> list[F.Fact]:
    """A DEFINE_PROP line whose default changed, both values visible."""
    before = {p.name: p for p in _props(h.lines, "-", table)}
    out: list[F.Fact] = []
    for p in _props(h.lines, "+", table):
        o = before.get(p.name)
        if o is not None and o.member == p.member and o.default != p.default:
            out.append(
                F.PropertyDefaultChanged(
                    path=path, line=p.line, subject=p.name, old=o, new=p, compat=()
                )
            )
    return out


def _vmsd_name(h: Hunk) -> str:
    for ln in h.lines:
        m = _NAME.match(ln.text)
        if m:
            return m.group("n")
    for ln in h.lines:
        m = _VMSD_HEAD.search(ln.text)
        if m:
            return m.group("id")
    m = _VMSD_HEAD.search(h.section)
    return m.group("id") if m else "the VMSD of this hunk"


def _versions(frag: Sequence[tuple[int, str]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for _num, text in frag:
        m = _VERSION.match(text)
        if m:
            out[m.group("key")] = int(m.group("v"))
    return out


def _line_of(h: Hunk, key: str) -> int | None:
    for ln in h.lines:
        if ln.kind == "+" and key in ln.text:
            return ln.new_line
    return None


_ARRAY_NAME = re.compile(r"(?P<family>[a-z0-9]+)_compat_(?P<major>\d+)_(?P<minor>\d+)$")


def _visible_newest(h: Hunk) -> dict[str, tuple[tuple[int, int], str]]:
    """Per family, the newest compat array whose header the hunk shows."""
    newest: dict[str, tuple[tuple[int, int], str]] = {}
    for text in [h.section, *(ln.text for ln in h.lines if ln.kind != "-")]:
        for head in _ARRAY_HEAD.finditer(text):
            m = _ARRAY_NAME.match(head.group("a"))
            if m is None:
                continue
            version = (int(m.group("major")), int(m.group("minor")))
            family = m.group("family")
            if family not in newest or newest[family][0] < version:
                newest[family] = (version, head.group("a"))
    return newest


def _newer_visible(array: str, visible: dict[str, tuple[tuple[int, int], str]]) -> str | None:
    """A newer array of the same family the hunk shows; None when none is seen."""
    m = _ARRAY_NAME.match(array)
    if m is None or m.group("family") not in visible:
        return None
    version, name = visible[m.group("family")]
    return name if version > (int(m.group("major")), int(m.group("minor"))) else None


def _compat(path: str, h: Hunk) -> list[F.Fact]:
    array = None
    m = _ARRAY_HEAD.search(h.section)
    if m:
        array = m.group("a")
    visible = _visible_newest(h)
    out: list[F.Fact] = []
    for ln in h.lines:
        head = _ARRAY_HEAD.search(ln.text)
        if head:
            array = head.group("a")
            continue
        e = _ENTRY.match(ln.text)
        if not e or array is None or ln.kind == " ":
            continue
        from bot.scanner.model import CompatEntry

        drv = e.group("d").strip('"')
        entry = CompatEntry(
            array=array,
            driver_expr=e.group("d"),
            driver=drv if e.group("d").startswith('"') else None,
            prop=e.group("p").strip('"'),
            value=e.group("v").strip('"'),
            line=(ln.new_line or ln.old_line or 0),
        )
        subject = f"{entry.driver or entry.driver_expr}.{entry.prop}"
        if ln.kind == "+":
            out.append(
                F.CompatEntryAdded(
                    path=path,
                    line=ln.new_line,
                    subject=subject,
                    entry=entry,
                    newest=_newer_visible(array, visible),
                    array_is_new=False,
                )
            )
        else:
            out.append(
                F.CompatEntryRemoved(
                    path=path,
                    line=ln.old_line,
                    side=Side.OLD,
                    subject=subject,
                    entry=entry,
                    array_removed=False,
                )
            )
    return out
