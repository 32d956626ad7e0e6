"""Defaults decided at realize: a property left 'unspecified' and computed later.

``DEFINE_PROP_UINT32("vectors", VirtIOPCIProxy, nvectors, DEV_NVECTORS_UNSPECIFIED)``
has no real default: realize decides it,

    if (vpci_dev->nvectors == DEV_NVECTORS_UNSPECIFIED) {
        vpci_dev->nvectors = 2;
    }

so a change to that expression changes the default for every machine type
exactly as a change to the ``DEFINE_PROP_*`` default would (MSI-X vector
counts, queue counts: guest-visible, and migrated with the device's
configuration), yet the property line does not move. This finds such
realize-time defaults on both sides of a change and reports the ones whose
value changed with no compat entry for the property in the change.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from bot.compare import facts as F
from bot.compare.context import FileModels
from bot.findings import Side
from bot.scanner.model import PropertyModel

Texts = Mapping[str, tuple[str | None, str | None]]

_DECIDED = re.compile(
    r"\bif\s*\(\s*(?P<obj>\w+)\s*(?P<arrow>->|\.)\s*(?P<member>\w+(?:\s*(?:->|\.)\s*\w+)*)"
    r"\s*==\s*(?P<sentinel>-?\w+)\s*\)\s*\{?\s*"
    r"(?P=obj)\s*(?P=arrow)\s*(?P<member2>\w+(?:\s*(?:->|\.)\s*\w+)*)\s*=\s*(?P<expr>[^;]+);",
)
_WORD = re.compile(r"[A-Za-z_]\w*")
_TOKEN = re.compile(r"[A-Za-z_]\w*|\d\w*|\S")
_MEMBER = re.compile(r"(?:->|\.)\s*([A-Za-z_]\w*)")
_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


@dataclass(frozen=True, slots=True)
class _Decided:
    member: str
    sentinel: str
    expr: str
    line: int


def realize_default_facts(
    files: Sequence[FileModels], texts: Texts, compat_props: Collection[str]
) -> list[F.Fact]:
    """``compat_props``: properties that compat entries added by the change set."""
    out: list[F.Fact] = []
    for fm in files:
        old_text, new_text = texts.get(fm.path, (None, None))
        if fm.old is None or fm.new is None or not old_text or not new_text:
            continue
        if "==" not in new_text or not fm.new.properties:
            continue
        out.extend(_changed(fm, old_text, new_text, compat_props))
    return out


def _changed(
    fm: FileModels, old_text: str, new_text: str, compat_props: Collection[str]
) -> Iterable[F.Fact]:
    assert fm.old is not None and fm.new is not None
    before = {d.member: d for d in _decided(old_text)}
    old_props = {p.name: p for p in fm.old.properties}
    for d in _decided(new_text):
        prop = _property(fm.new.properties, d)
        if prop is None or prop.name in compat_props:
            continue
        if fm.changed_new and d.line not in fm.changed_new and not _near(d, fm.changed_new):
            continue  # the text of the decision did not change
        o = before.get(d.member)
        if o is not None:
            if o.sentinel != d.sentinel or _same(o.expr, d.expr):
                continue
            if _helpers_renamed(o.expr, d.expr, old_text, new_text):
                continue
            if _knob_retired(o.expr, d.expr, fm):
                continue
            old = f"`{o.expr}` (decided at realize)"
        elif prop.name not in old_props:
            if _assigned_before(old_text, d):
                continue  # realize set the same value before, now only when unspecified
            old = "its value before the property existed"
        else:
            continue  # decided elsewhere before (a parent, the board): not known here
        yield F.RealizeDefaultChanged(
            path=fm.path,
            line=d.line,
            side=Side.NEW,
            subject=prop.name,
            prop=replace(prop, owner=_device(fm, prop, new_text)),
            old_value=old,
            new_value=f"`{d.expr}` (decided at realize)",
        )


def _device(fm: FileModels, prop: PropertyModel, text: str) -> str | None:
    """The QOM type that gets the property, when the file spells it: the type whose
    class_init sets the property array (``virtio_rng_pci_class_init`` ->
    ``"virtio-rng-pci"``, when that string is in the file)."""
    assert fm.new is not None
    for func, array in fm.new.prop_bindings:
        if array != prop.array or not func.endswith("_class_init"):
            continue
        guess = func.removesuffix("_class_init").replace("_", "-")
        if f'"{guess}"' in text:
            return guess
        types = [t.name for t in fm.new.types if t.class_init == func]
        if types:
            return types[0]
    return prop.owner


def _knob_retired(old: str, new: str, fm: FileModels) -> bool:
    """The expression only lost members whose properties the change removes
    (``|| s->buggy_eim`` with ``x-buggy-eim``): a compat knob retired with the
    machine types that set it, the value unchanged for every machine left."""
    assert fm.old is not None and fm.new is not None
    a, b = set(_WORD.findall(old)), set(_WORD.findall(new))
    kept = {p.name for p in fm.new.properties}
    retired = {
        re.split(r"->|\.", p.member)[-1]
        for p in fm.old.properties
        if p.member and p.name not in kept
    }
    gone = set(_MEMBER.findall(old)) - set(_MEMBER.findall(new))
    return not (b - a) and bool(gone) and gone <= retired


def _helpers_renamed(old: str, new: str, old_text: str, new_text: str) -> bool:
    """The expressions differ only in the names of functions they call, and each
    function renamed has the same definition under its new name (``foo_affinity()``
    renamed ``foo_build_affinity()``, the old name perhaps given to another
    function): the value computed is the same."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    if len(a) != len(b):
        return False
    pairs = {(x, y) for x, y in zip(a, b, strict=True) if x != y}
    if not pairs:
        return False
    for x, y in pairs:
        if not (_WORD.fullmatch(x) and _WORD.fullmatch(y)):
            return False
        before, after = _definition(old_text, x), _definition(new_text, y)
        if before is None or after is None or before != after:
            return False
    return True


def _definition(text: str, name: str) -> str | None:
    """Parameters and body of the function ``name`` defined in ``text``, spaces dropped."""
    clean = _COMMENT.sub(" ", text)
    for m in re.finditer(rf"^\w[\w\s\*]*\b{re.escape(name)}\s*(\([^;{{]*?\))\s*\{{", clean, re.M):
        depth, k = 0, m.end() - 1
        while k < len(clean):
            depth += {"{": 1, "}": -1}.get(clean[k], 0)
            if depth == 0:
                return re.sub(r"\s+", "", m.group(1) + clean[m.end() - 1 : k + 1])
            k += 1
    return None


def _assigned_before(text: str, d: _Decided) -> bool:
    leaf = re.split(r"->|\.", d.member)[-1].strip()
    clean = _COMMENT.sub(" ", text)
    pattern = rf"(?:->|\.)\s*{re.escape(leaf)}\s*=(?!=)\s*([^;]+);"
    return any(_same(m.group(1), d.expr) for m in re.finditer(pattern, clean))


def _near(d: _Decided, changed: Collection[int]) -> bool:
    """The assignment spans a few lines after the ``if``."""
    return any(d.line <= n <= d.line + 4 for n in changed)


def _property(props: Sequence[PropertyModel], d: _Decided) -> PropertyModel | None:
    leaf = re.split(r"->|\.", d.member)[-1].strip()
    for p in props:
        if p.member is None or p.default is None:
            continue
        if re.split(r"->|\.", p.member)[-1].strip() == leaf and p.default == d.sentinel:
            return p
    return None


def _decided(text: str) -> Iterable[_Decided]:
    clean = _COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    for m in _DECIDED.finditer(clean):
        member = re.sub(r"\s+", "", m.group("member"))
        if member != re.sub(r"\s+", "", m.group("member2")):
            continue
        expr = " ".join(m.group("expr").split())
        line = clean.count("\n", 0, m.start()) + 1
        yield _Decided(member, m.group("sentinel"), expr, line)


def _same(a: str, b: str) -> bool:
    return re.sub(r"\s+", "", a) == re.sub(r"\s+", "", b)
