"""Machine-type compat written in C: class flags of versioned machine types.

Besides compat properties, versioned machine types keep old behaviour with
class flags set in their options functions (``pcmc->legacy_foo = true`` in
``pc_i440fx_2_6_machine_options``, ``smc->pre_4_1_migration = true`` in
``spapr_machine_4_0_class_options``); version X.Y sets the flag and every
older version inherits it through the options chain (`bot.compare.wiring`).
Code elsewhere reads the flag and keeps the old guest ABI, configuration or
stream. A change breaks those machine types when it

* removes such an assignment from the options of a version that is still
  there, or flips its value (that version and every older one now behave
  like the newest), or
* removes the last code that reads a flag the options functions still set,
  or makes a function that stays stop reading it (every machine type that
  sets it loses the behaviour it kept).

What stays silent: the newest version of a family (its options are not
compat), descriptions and aliases, a flag replaced in the same change (a new
assignment or call in that function, a compat entry added for that version),
a flag retired with every function that sets and reads it, and members that
boards outside the family assign too (``mc->max_cpus``: a setting, not a flag).

The same holds for subsections (`forced_gate_facts`): a `.needed` that reads
a property keeps old machine types quiet only while the compat entry (or the
default) decides the property; board code that sets it to true on a line of
its own, unconditionally, wins over the compat entry for every version.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.compare import facts as F
from bot.compare.compat_targets import added_entries
from bot.compare.context import FileModels
from bot.compare.wiring import OPTIONS_FUNCTION, VERSIONED_FAMILIES
from bot.findings import Side
from bot.scanner.model import FileModel
from bot.scanner.treesearch import TreeSearch

Texts = Mapping[str, tuple[str | None, str | None]]

_ASSIGN = re.compile(
    r"\b(?P<recv>[A-Za-z_]\w*)\s*->\s*(?P<member>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)"
    r"\s*=(?!=)\s*(?P<value>[^;]*?)\s*;"
)
"""``recv->member = value;`` (one statement)."""

COSMETIC = frozenset(
    {"desc", "alias", "is_default", "deprecation_reason", "hidden", "family", "name"}
)
"""Class members of a machine version that say nothing about its guest ABI or stream."""

_TRUE = frozenset({"true", "1", "ON_OFF_AUTO_ON"})
_FALSE = frozenset({"false", "0", "ON_OFF_AUTO_OFF"})


@dataclass(frozen=True, slots=True)
class Assignment:
    function: str
    family: tuple[str, str]
    version: tuple[int, ...]
    recv: str
    member: str
    value: str
    line: int
    newest: bool
    """The newest version of its family in that file: its options are not compat."""


def _truth(value: str) -> bool | None:
    v = value.strip("() ")
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    return None


_DEF = re.compile(r"^(?:static\s+)?void\s+(?P<name>\w+)\s*\([^)]*\)\s*\{", re.M)
"""A function definition in QEMU style (its body ends at the next ``}`` of column 0)."""


def options_functions(text: str) -> list[tuple[str, tuple[str, str], tuple[int, ...], int, str]]:
    """(name, family, version, first line, body) of each versioned options function."""
    out = []
    for m in _DEF.finditer(text):
        o = OPTIONS_FUNCTION.match(m.group("name"))
        if o is None or not VERSIONED_FAMILIES.match(o.group("pre")):
            continue
        end = text.find("\n}", m.end())
        body = text[m.start() : end if end >= 0 else len(text)]
        version = tuple(int(o.group(g)) for g in ("major", "minor", "micro") if o.group(g))
        family = (o.group("pre"), o.group("post"))
        out.append((m.group("name"), family, version, text.count("\n", 0, m.start()) + 1, body))
    return out


def options_assignments(text: str) -> list[Assignment]:
    """Every ``recv->member = value;`` in a versioned options function of a file."""
    fns = options_functions(text)
    newest: dict[tuple[str, str], tuple[int, ...]] = {}
    for _n, family, version, _l, _b in fns:
        newest[family] = max(newest.get(family, version), version)
    out: list[Assignment] = []
    for name, family, version, line, body in fns:
        for m in _ASSIGN.finditer(body):
            out.append(
                Assignment(
                    function=name,
                    family=family,
                    version=version,
                    recv=m.group("recv"),
                    member=m.group("member").split(".")[-1],
                    value=m.group("value"),
                    line=line + body.count("\n", 0, m.start()),
                    newest=version == newest[family],
                )
            )
    return out


def _version_of(array: str) -> tuple[int, int] | None:
    m = re.search(r"_(\d+)_(\d+)$", array)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _machine_text(version: tuple[int, ...]) -> str:
    return ".".join(str(n) for n in version)


def options_flag_facts(
    fm: FileModels,
    texts: tuple[str | None, str | None],
    entry_versions: set[tuple[int, int]],
    still_read: Callable[[str], bool],
) -> Iterable[F.Fact]:
    """Flags a change removes from, or flips in, an older version's options."""
    old_text, new_text = texts
    if fm.old is None or fm.new is None or not old_text or not new_text:
        return
    if "options" not in old_text:
        return
    old = options_assignments(old_text)
    if not old:
        return
    new = options_assignments(new_text)
    new_by_fn: dict[str, dict[str, Assignment]] = {}
    for a in new:
        new_by_fn.setdefault(a.function, {})[a.member] = a
    new_fns = {f.name: f for f in fm.new.functions}
    old_fns = {f.name: f for f in fm.old.functions}
    old_pairs = {(x.function, x.member) for x in old}
    for a in old:
        if a.newest or a.member in COSMETIC:
            continue
        if a.function not in new_fns or a.function not in old_fns:
            continue  # the version is gone (or not understood): not a change of its options
        after = new_by_fn.get(a.function, {})
        b = after.get(a.member)
        if b is not None:
            before, now = _truth(a.value), _truth(b.value)
            if before is not None and now is not None and before != now:
                yield _fact(fm.path, a, Side.NEW, b.line, "inverted", b.value)
            continue
        # Removed. Replaced in the same change (another flag set, a helper
        # called, a compat entry for this version): a conversion, not a loss.
        gained = new_fns[a.function].identifiers - old_fns[a.function].identifiers
        olds = {x.member for x in old if x.function == a.function}
        if gained or set(after) - olds or a.version[:2] in entry_versions:
            continue
        if a.member not in _read_members(new_text) and not still_read(a.member):
            continue  # retired: no code reads the flag any more
        if any(
            x.family == a.family and x.member == a.member and x.version > a.version
            for x in new
            if (x.function, x.member) not in old_pairs
        ):
            continue  # moved to a newer version, which this one inherits through its chain
        yield _fact(fm.path, a, Side.OLD, a.line, "removed", None)


def _fact(
    path: str, a: Assignment, side: Side, line: int, how: str, new_value: str | None
) -> F.MachineCompatDropped:
    return F.MachineCompatDropped(
        path=path,
        line=line,
        side=side,
        subject=f"{a.function}.{a.member}",
        flag=f"{a.recv}->{a.member}",
        value=a.value,
        function=a.function,
        machine=_machine_text(a.version),
        how=how,
        new_value=new_value,
        setters=(),
    )


def _reads(member: str) -> re.Pattern[str]:
    return re.compile(r"(?:->|\.)\s*" + re.escape(member) + r"\b(?!\s*=(?!=))")


_READ_ANY = re.compile(r"(?:->|\.)\s*([A-Za-z_]\w*)\b(?!\s*=(?!=))")


def _read_members(text: str) -> set[str]:
    """Members the code reads (``->m`` or ``.m`` not assigned to)."""
    return set(_READ_ANY.findall(text))


def _read_lines(text: str, member: str) -> list[int]:
    pat = _reads(member)
    out = []
    for k, line in enumerate(text.splitlines(), 1):
        code = line.split("//")[0]
        if code.lstrip().startswith(("*", "/*")):
            continue
        if pat.search(code):
            out.append(k)
    return out


def _function_reads(text: str, member: str) -> dict[str, int]:
    """Function -> first line where it reads ``member`` (functions at column 0)."""
    lines = _read_lines(text, member)
    if not lines:
        return {}
    starts = [
        (text.count("\n", 0, m.start()) + 1, m.group("name")) for m in _ANY_DEF.finditer(text)
    ]
    out: dict[str, int] = {}
    for line in lines:
        name = next((n for start, n in reversed(starts) if start <= line), None)
        if name is not None and name not in out:
            out[name] = line
    return out


def unread_flag_facts(files: Sequence[FileModels], texts: Texts, head: TreeSearch) -> list[F.Fact]:
    """Code that stops reading a flag that versioned options functions still set.

    Either the last reader of the whole tree goes, or a function that stays
    stops reading it (its old-machine branch is gone) while no other function
    of the change starts reading it (the test did not move)."""
    if not head.searchable:
        return []
    lost: dict[str, tuple[str, int, str | None]] = {}
    gained: set[str] = set()
    flags: set[str] | None = None
    for fm in files:
        old_text, new_text = texts.get(fm.path, (None, None))
        if not old_text or not new_text or not fm.path.endswith((".c", ".h", ".c.inc")):
            continue
        old_members, new_members = _read_members(old_text), _read_members(new_text)
        gone = old_members - new_members
        for member in sorted(gone - COSMETIC):
            lines = _read_lines(old_text, member)
            if lines and member not in lost:
                lost[member] = (fm.path, lines[0], None)
        if "Machine" not in old_text:
            continue  # flags are read through a machine class
        if flags is None:
            flags = {
                m
                for m, sets in _head_setters(head, texts).items()
                if any(not a.newest for _p, a in sets)
            }
        for member in sorted((old_members & new_members & flags) - COSMETIC):
            before = _function_reads(old_text, member)
            after = _function_reads(new_text, member)
            if set(after) - set(before):
                gained.add(member)
            defined = {m.group("name") for m in _ANY_DEF.finditer(new_text)}
            for fn, line in sorted(before.items()):
                if fn in defined and fn not in after and member not in lost:
                    lost[member] = (fm.path, line, fn)
    lost = {m: v for m, v in lost.items() if m not in gained}
    if not lost:
        return []
    setters = _head_setters(head, texts)
    out: list[F.Fact] = []
    for member, (path, line, reader) in sorted(lost.items()):
        sets = [a for a in setters.get(member, ()) if not a[1].newest]
        if not sets or member in COSMETIC:
            continue
        if reader is None and _still_read(head, member):
            continue  # still read somewhere: the behaviour moved, it was not lost
        if _set_by_other_boards(head, member, {p for p, _a in sets}):
            continue  # a generic machine setting (max_cpus), not a compat flag
        first = min(sets, key=lambda s: s[1].version)
        a = first[1]
        out.append(
            F.MachineCompatDropped(
                path=path,
                line=line,
                side=Side.OLD,
                subject=f"{reader}.{member}" if reader else member,
                flag=f"{a.recv}->{a.member}",
                value=a.value,
                function=reader or a.function,
                machine=_machine_text(max(s[1].version for s in sets)),
                how="ungated" if reader else "unread",
                new_value=None,
                setters=tuple(sorted({s[1].function for s in sets})),
            )
        )
    return out


MACHINE_FILES = (
    "hw/i386/pc_piix.c",
    "hw/i386/pc_q35.c",
    "hw/arm/virt.c",
    "hw/ppc/spapr.c",
    "hw/s390x/s390-virtio-ccw.c",
    "hw/m68k/virt.c",
)
"""The files of the versioned families' options functions (DOMAIN.md, section 2)."""


def _head_setters(head: TreeSearch, texts: Texts) -> dict[str, list[tuple[str, Assignment]]]:
    """member -> (path, assignment) for every flag set by a versioned options function."""
    out: dict[str, list[tuple[str, Assignment]]] = {}
    paths = set(MACHINE_FILES) | {p for p, (_o, n) in texts.items() if n and "options" in n}
    for path in sorted(paths):
        text = texts[path][1] if path in texts else head.text(path)
        if not text or not path.endswith(".c"):
            continue
        for a in options_assignments(text):
            out.setdefault(a.member, []).append((path, a))
    return out


def _set_by_other_boards(head: TreeSearch, member: str, machine_files: set[str]) -> bool:
    """Whether code outside the machine family's directories assigns the member: then it is
    a setting every board has (``mc->max_cpus``), not a flag kept for old versions."""
    assign = re.compile(r"(?:->|\.)\s*" + re.escape(member) + r"\s*=(?!=)")
    family_dirs = {p.rsplit("/", 1)[0] for p in machine_files}
    for path in head.files_with(member):
        if path.rsplit("/", 1)[0] in family_dirs or not path.endswith((".c", ".h")):
            continue  # the family's own files (its class_init sets the new default)
        if any(assign.search(line) for line in (head.text(path) or "").splitlines()):
            return True
    return False


def _still_read(head: TreeSearch, member: str) -> bool:
    """Whether code of the head tree reads the member (True when it cannot be searched)."""
    if not head.searchable:
        return True
    return any(_read_lines(head.text(p) or "", member) for p in head.files_with(member))


def machine_compat_facts(
    files: Sequence[FileModels], texts: Texts, head: TreeSearch
) -> list[F.Fact]:
    entry_versions = {v for _p, e in added_entries(files) if (v := _version_of(e.array))}
    out: list[F.Fact] = []
    for fm in files:
        out.extend(
            options_flag_facts(
                fm, texts.get(fm.path, (None, None)), entry_versions, lambda m: _still_read(head, m)
            )
        )
    out.extend(unread_flag_facts(files, texts, head))
    return out


# --- `.needed` forced by board code -------------------------------------------

_FORCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<call>qdev_prop_set_bit|object_property_set_bool)\s*\("
    r"[^;\"]*?,\s*\"(?P<prop>[^\"]+)\"\s*,\s*(?P<value>true|1)\s*[,)]",
    re.M,
)
"""A boolean property set to true by a statement of its own line."""

_TOP_LEVEL = "    "
"""QEMU style indents a function body by four spaces: a statement there is unconditional."""


@dataclass(frozen=True, slots=True)
class _Force:
    path: str
    line: int
    call: str
    prop: str
    function: str | None


_ANY_DEF = re.compile(r"^[A-Za-z_][\w \t*]*?\b(?P<name>[A-Za-z_]\w*)\s*\([^;{}]*\)\s*\{", re.M)
"""A function definition starting at column 0 (QEMU style)."""


def _forced(path: str, text: str, lines: frozenset[int] | None) -> list[_Force]:
    """Unconditional ``prop = true`` of board code (on ``lines`` only, when given)."""
    out: list[_Force] = []
    for m in _FORCE.finditer(text):
        if m.group("indent") != _TOP_LEVEL:
            continue  # under an if, a loop or a switch: not every machine type
        line = text.count("\n", 0, m.start()) + 1
        if lines is not None and line not in lines:
            continue
        heads = list(_ANY_DEF.finditer(text, 0, m.start()))
        fn = heads[-1].group("name") if heads else None
        out.append(_Force(path, line, m.group("call"), m.group("prop"), fn))
    return out


def _gated_subsections(model: FileModel, member: str) -> list[str]:
    """Names of the subsections whose ``.needed`` reads ``member`` (directly)."""
    out = []
    for v in model.vmsds:
        if not v.needed:
            continue
        fn = model.function(v.needed)
        if fn is not None and member in fn.members:
            out.append(v.name or v.ident)
    return out


_BOOL_PROPS = ("DEFINE_PROP_BOOL", "DEFINE_PROP_BIT", "DEFINE_PROP_BIT64")


def _off_for_old_machines(head: TreeSearch, prop: str, default: str | None) -> bool:
    """Whether old machine types would keep the property off without the board:
    its default is off, or a compat entry turns it off."""
    if default in ("false", "0"):
        return True
    entry = re.compile(r'"' + re.escape(prop) + r'"\s*,\s*"(?:off|false)"')
    return any(entry.search(head.text(p) or "") for p in head.files_with(f'"{prop}"'))


def forced_gate_facts(
    files: Sequence[FileModels], texts: Texts, earlier: Sequence[F.Fact], head: TreeSearch
) -> list[F.Fact]:
    """Subsections whose gate board code forces on: old machine types send them.

    Either the change adds a subsection gated by a property that a board sets
    to true unconditionally, or it adds such a board statement for a property
    that gates an existing subsection."""
    out: list[F.Fact] = []
    seen: set[tuple[str, int, str]] = set()

    def emit(f: _Force, sub: str, device: str) -> None:
        if (f.path, f.line, sub) in seen:
            return
        seen.add((f.path, f.line, sub))
        out.append(
            F.NeededForcedByBoard(
                path=f.path,
                line=f.line,
                subject=f"{f.prop}:{sub}",
                vmsd=sub,
                prop=f.prop,
                subsection=sub,
                device_path=device,
                call=f.call,
                function=f.function,
            )
        )

    # A new subsection, gated by a property: does a board force the property?
    for fact in earlier:
        if not isinstance(fact, F.SubsectionAdded) or fact.gate is None or not head.searchable:
            continue
        model = next((fm.new for fm in files if fm.path == fact.path), None)
        if model is None:
            continue
        for p in model.properties:
            if p.member is None or p.member.split(".")[-1].split("->")[-1] != fact.gate:
                continue
            if p.macro not in _BOOL_PROPS or not _off_for_old_machines(head, p.name, p.default):
                continue
            for path in head.files_with(f'"{p.name}"'):
                text = head.text(path) or ""
                for f in _forced(path, text, None):
                    if f.prop == p.name:
                        emit(f, fact.subject or fact.vmsd or "", fact.path)
    # A board statement this change adds: does the property gate a subsection?
    for fm in files:
        _old, new_text = texts.get(fm.path, (None, None))
        if not new_text or fm.new is None or not fm.path.endswith(".c"):
            continue
        for f in _forced(fm.path, new_text, fm.changed_new):
            for dpath, macro, _line in head.definitions(f.prop) if head.searchable else ():
                if macro not in _BOOL_PROPS:
                    continue
                dmodel = head.model(dpath)
                if dmodel is None:
                    continue
                for p in dmodel.properties:
                    if p.name != f.prop or p.member is None:
                        continue
                    if not _off_for_old_machines(head, p.name, p.default):
                        continue
                    for sub in _gated_subsections(dmodel, re.split(r"\.|->", p.member)[-1]):
                        emit(f, sub, dpath)
    return out


def older_version_flag_facts(
    files: Sequence[FileModels], texts: Texts, released: tuple[int, ...] | None = None
) -> list[F.Fact]:
    """A class flag newly set in the options of a version older than the newest
    compat version of its family: the machine types in between, already
    released, get the new behaviour (the flag belongs in the newest compat
    version's options, as an entry belongs in the newest compat array).

    Silent for an edit of an assignment the function had, and for a member
    moved from another version's options (judged by `options_flag_facts`); the
    caller leaves out changes whose ``Fixes:`` names a commit (the behaviour
    changed in a release, so an older version can be right).

    ``released`` is the last release of the base (``(4, 0)``): when the newest
    machine version of a family is already released (the next one is not added
    yet), it is the newest version to keep."""
    out: list[F.Fact] = []
    for fm in files:
        old_text, new_text = texts.get(fm.path, (None, None))
        if new_text is None or old_text is None:
            continue
        before = options_assignments(old_text)
        after = options_assignments(new_text)
        edited = {(a.function, a.member) for a in before}
        kept = {(a.function, a.member) for a in after}
        # A member taken out of another version's options in the same change moved.
        moved = {(a.family, a.member) for a in before if (a.function, a.member) not in kept}
        fns = options_functions(new_text)
        versions: dict[tuple[str, str], list[tuple[int, ...]]] = {}
        for _n, family, version, _l, _b in fns:
            versions.setdefault(family, []).append(version)
        for a in after:
            if a.newest or a.member in COSMETIC or (a.function, a.member) in edited:
                continue
            if (a.family, a.member) in moved:
                continue
            ordered = sorted(set(versions.get(a.family, ())))
            if len(ordered) < 2:
                continue
            newest_compat = ordered[-2]
            if released is not None and ordered[-1][:2] <= released[:2]:
                newest_compat = ordered[-1]  # the newest machine type shipped already
            below = [v for v in ordered if v < newest_compat]
            if not below or a.version != below[-1]:
                # Only the version just before the newest kept one: the slip of
                # a release. A flag set on a version long gone describes a
                # behaviour that changed in a release long ago.
                continue
            out.append(
                F.FlagInOlderVersion(
                    path=fm.path,
                    line=a.line,
                    subject=a.member,
                    function=a.function,
                    member=a.member,
                    version=_machine_text(a.version),
                    newest=_machine_text(newest_compat),
                )
            )
    return out
