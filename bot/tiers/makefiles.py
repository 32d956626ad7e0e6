"""Which Makefile.objs rule builds each file, for QEMU trees before meson (2.0 to 5.1).

Before QEMU 5.2 the build was GNU make: ``Makefile.target`` and the top
``Makefile.objs`` list objects and directories in variables such as
``obj-y += foo.o``, ``common-obj-$(CONFIG_FOO) += foo.o`` and
``devices-dirs-$(call land,$(CONFIG_A),$(CONFIG_B)) += dir/``; a directory
``dir/`` is read from ``dir/Makefile.objs`` (``unnest-vars``) under the
condition that listed it; ``hw/$(TARGET_BASE_ARCH)/`` is the target's own
directory. The answer has the shape of `bot.tiers.meson.read_meson`'s, so the
tier map reads both eras the same way.

This is not a make interpreter: like the meson reader it evaluates the small
part those files use. ``ifdef``/``ifeq`` on one configuration key become
conditions; any other conditional is taken both ways (we want every file SOME
build can contain). Words that are neither objects, directories nor variables
of the same file (``$(libcacard-y)``, generated objects) are skipped.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from bot.tiers.meson import SYSTEM, Condition, MesonSources, Scope, SourceRule

Reader = Callable[[str], "str | None"]

ARCH_REGISTRY = "TARGET_BASE_ARCH"
"""The registry name of ``hw/$(TARGET_BASE_ARCH)/`` scopes (their key: the arch dir)."""
ROOTS = ("Makefile.target", "Makefile.objs")
"""Where make starts: the per-target objects, then the ones shared by every target."""
_MAX_DEPTH = 12
_ASSIGN = re.compile(r"^([A-Za-z0-9_.$(),\s-]+?)\s*(\+=|:=|\?=|=)\s*(.*)$")
_VAR_SUFFIX = re.compile(r"^([A-Za-z0-9_.-]+?)-(y|m|n|\$\(.*\))$")
_CONFIG_REF = re.compile(r"^\$\(\s*(\w+)\s*\)$")
_VAR_REF = re.compile(r"^\$\(\s*([\w.-]+)\s*\)$")


def is_make_tree(read: Reader) -> bool:
    """A tree built by make: a top Makefile.objs and no meson.build."""
    return read("meson.build") is None and read("Makefile.objs") is not None


# -- make expressions ---------------------------------------------------------


def split_args(text: str) -> list[str]:
    """Split ``a,$(call x,b,c),d`` at top-level commas."""
    out: list[str] = []
    depth = 0
    cur: list[str] = []
    for c in text:
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        if c == "," and depth == 0:
            out.append("".join(cur))
            cur = []
            continue
        cur.append(c)
    out.append("".join(cur))
    return [a.strip() for a in out]


def split_words(text: str) -> list[str]:
    """Whitespace-separated words, keeping ``$(...)`` groups whole."""
    out: list[str] = []
    depth = 0
    cur: list[str] = []
    for c in text:
        if c == "(":
            depth += 1
        elif c == ")":
            depth = max(0, depth - 1)
        if c.isspace() and depth == 0:
            if cur:
                out.append("".join(cur))
                cur = []
            continue
        cur.append(c)
    if cur:
        out.append("".join(cur))
    return out


def make_condition(expr: str) -> Condition | None:
    """The condition a make value expresses: ``y``, ``$(CONFIG_X)``, ``$(call
    land,A,B)``, ``$(call lor,A,B)``, ``$(call lnot,A)``, ``$(and A,B)``,
    ``$(or A,B)``. None when it is something else."""
    e = expr.strip()
    if e in ("y", "m"):
        return Condition.always()
    if e in ("n", ""):
        return Condition.never()
    m = _CONFIG_REF.match(e)
    if m:
        return Condition.all_of([m.group(1)])
    if not (e.startswith("$(") and e.endswith(")")):
        return None
    body = e[2:-1].strip()
    head, _, rest = body.partition(" ")
    fn, args = head, rest
    if head == "call":
        fn, _, args = rest.strip().partition(",")
        fn = fn.strip()
    if fn == "if":  # $(if C,THEN,ELSE): C non-empty picks THEN
        branches = [*split_args(args), "", ""]
        test = make_condition(branches[0])
        then, other = make_condition(branches[1]), make_condition(branches[2])
        neg = _negate(test) if test is not None else None
        if test is None or then is None or other is None or neg is None:
            return None
        return test.and_(then).or_(neg.and_(other))
    parts = [make_condition(a) for a in split_args(args)]
    if any(p is None for p in parts) or not parts:
        return None
    conds = [p for p in parts if p is not None]
    if fn in ("land", "and"):
        out = Condition.always()
        for c in conds:
            out = out.and_(c)
        return out
    if fn in ("lor", "or"):
        out = Condition.never()
        for c in conds:
            out = out.or_(c)
        return out
    if fn == "lnot" and len(conds) == 1:
        return _negate(conds[0])
    return None


def _negate(c: Condition) -> Condition | None:
    if not c.terms:
        return Condition.always()
    if len(c.terms) == 1:
        return c.negate_term()
    # NOT (A || B) = !A && !B, for terms of one key each
    out = Condition.always()
    for t in c.terms:
        out = out.and_(Condition(frozenset({t})).negate_term())
    return out


_IFDEF = re.compile(r"^(ifdef|ifndef)\s+(\w+)\s*$")
_IFEQ = re.compile(r"^(ifeq|ifneq)\s*(?:\((.*)\)|\"(.*)\"\s*\"(.*)\")\s*$")


def _if_condition(line: str) -> Condition | None:
    """The condition of an ``ifdef``/``ifeq`` line, None when it is not about a key."""
    m = _IFDEF.match(line)
    if m:
        c = Condition.all_of([m.group(2)])
        return c if m.group(1) == "ifdef" else c.negate_term()
    m = _IFEQ.match(line)
    if not m:
        return None
    if m.group(2) is not None:
        args = split_args(m.group(2))
        if len(args) != 2:
            return None
        a, b = args
    else:
        a, b = m.group(3), m.group(4)
    a, b = a.strip(), b.strip()
    if _CONFIG_REF.match(b) and not _CONFIG_REF.match(a):
        a, b = b, a
    ref = _CONFIG_REF.match(a)
    if ref is None:
        return None
    key = ref.group(1)
    if key in ("TARGET_NAME", "TARGET_ARCH") and re.fullmatch(r"\w+", b):
        c = Condition.all_of([f"TARGET_{b.upper()}"])
    elif b == "y":
        c = Condition.all_of([key])
    elif b == "":
        c = Condition.all_of([key]).negate_term()
    else:
        return None
    return c if m.group(1) == "ifeq" else c.negate_term()


# -- reading one file -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    var: str
    """The variable's base name (``obj``, ``common-obj``, ``devices-dirs``)."""
    word: str
    cond: Condition
    line: int


def _logical_lines(text: str) -> Iterable[tuple[int, str]]:
    num = 0
    buf: list[str] = []
    start = 1
    for raw in text.splitlines():
        num += 1
        if not buf:
            start = num
        line = raw
        if "#" in line:
            line = line[: line.index("#")]
        if raw.endswith("\\"):
            buf.append(line[:-1] if line.endswith("\\") else line)
            continue
        buf.append(line)
        yield start, " ".join(buf).strip()
        buf = []
    if buf:
        yield start, " ".join(buf).strip()


def parse_makefile(text: str) -> tuple[list[_Entry], list[str]]:
    """Every word added to an ``<name>-<cond>`` variable, with its condition; notes."""
    entries: list[_Entry] = []
    notes: list[str] = []
    stack: list[tuple[Condition, Condition | None]] = []  # (active, if-condition)
    values: dict[str, list[_Entry]] = {}

    def active() -> Condition:
        return stack[-1][0] if stack else Condition.always()

    for num, line in _logical_lines(text):
        if not line:
            continue
        word = line.split(None, 1)[0]
        if word in ("ifdef", "ifndef", "ifeq", "ifneq"):
            c = _if_condition(line)
            stack.append((active().and_(c) if c is not None else active(), c))
            continue
        if word == "else":
            if stack:
                _, c = stack.pop()
                outer = active()
                neg = _negate(c) if c is not None else None
                rest = line[len("else") :].strip()
                c2 = _if_condition(rest) if rest else None
                cond = outer.and_(neg) if neg is not None else outer
                if c2 is not None:
                    cond = cond.and_(c2)
                stack.append((cond, None if rest and c2 is None else c2))
            continue
        if word == "endif":
            if stack:
                stack.pop()
            continue
        if word in ("include", "-include", "sinclude", "define", "endef", "export"):
            continue
        m = _ASSIGN.match(line)
        if not m:
            continue
        lhs, op, rhs = m.group(1).strip(), m.group(2), m.group(3)
        vm = _VAR_SUFFIX.match(lhs)
        if vm is None:
            continue
        var = vm.group(1)
        parsed = make_condition(vm.group(2))
        if parsed is None and "CONFIG_" in vm.group(2):
            notes.append(f"line {num}: condition {vm.group(2)!r} not understood, taken as true")
        cond = active().and_(parsed if parsed is not None else Condition.always())
        if op in ("=", ":=") and vm.group(2) == "y":
            values[var] = []  # a plain assignment resets the variable
        for w in split_words(rhs):
            ref = _VAR_REF.match(w)
            if ref and _base_of(ref.group(1)) in values:
                for e in list(values[_base_of(ref.group(1))]):
                    new = _Entry(var, e.word, cond.and_(e.cond), num)
                    values.setdefault(var, []).append(new)
                    entries.append(new)
                continue
            e = _Entry(var, w, cond, num)
            values.setdefault(var, []).append(e)
            entries.append(e)
    return entries, notes


def _base_of(ref: str) -> str:
    m = _VAR_SUFFIX.match(ref)
    return m.group(1) if m and m.group(2) == "y" else ref


# -- the whole tree -------------------------------------------------------------


def _is_object_var(var: str) -> bool:
    """Variables whose objects are linked into an emulator (``obj``, ``common-obj``,
    ``block-obj``...); ``devices-dirs`` and the like only matter when one refers to them."""
    return var == "obj" or var.endswith("-obj")


@dataclass(slots=True)
class _State:
    read: Reader
    arch_keys: tuple[str, ...]
    parsed: dict[str, tuple[list[_Entry], list[str]] | None] = field(default_factory=dict)
    rules: list[SourceRule] = field(default_factory=list)
    seen: set[tuple[str, Scope, Condition]] = field(default_factory=set)
    files: list[str] = field(default_factory=list)
    dir_pairs: dict[str, set[tuple[Scope, Condition]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def parse(self, path: str) -> tuple[list[_Entry], list[str]] | None:
        if path not in self.parsed:
            text = self.read(path)
            if text is None:
                self.parsed[path] = None
            else:
                self.parsed[path] = parse_makefile(text)
                self.files.append(path)
                self.notes += [f"{path}: {n}" for n in self.parsed[path][1]]  # type: ignore[index]
        return self.parsed[path]


def _walk(st: _State, mfile: str, scope: Scope, cond: Condition, depth: int) -> None:
    key = (mfile, scope, cond)
    if key in st.seen or depth > _MAX_DEPTH or not cond.terms:
        return
    st.seen.add(key)
    got = st.parse(mfile)
    if got is None:
        return
    entries, _ = got
    base = posixpath.dirname(mfile)
    for e in entries:
        if not _is_object_var(e.var):
            continue
        on = cond.and_(e.cond)
        if not on.terms:
            continue
        for word, sc in _expand(st, e.word, scope):
            path = posixpath.normpath(posixpath.join(base, word)) if base else word
            if word.endswith("/"):
                sub = posixpath.join(path, "Makefile.objs")
                _walk(st, sub, sc, on, depth + 1)
            elif word.endswith(".o") and "$" not in word:
                src = path[: -len(".o")] + ".c"
                st.rules.append(SourceRule(src, on, sc, e.var, mfile))
                st.dir_pairs.setdefault(base, set()).add((sc, on))


def _expand(st: _State, word: str, scope: Scope) -> list[tuple[str, Scope]]:
    """``hw/$(TARGET_BASE_ARCH)/`` -> one word per architecture directory."""
    if "$(TARGET_BASE_ARCH)" not in word:
        return [] if "$" in word else [(word, scope)]
    if scope.kind == "arch":  # already inside one architecture
        return [(word.replace("$(TARGET_BASE_ARCH)", scope.key), scope)]
    return [
        (word.replace("$(TARGET_BASE_ARCH)", k), Scope("arch", ARCH_REGISTRY, k))
        for k in st.arch_keys
    ]


def read_makefiles(
    read: Reader, arch_keys: Sequence[str], roots: Sequence[str] = ROOTS
) -> MesonSources:
    """Read the roots and every directory they reach; the rule of every object.

    ``arch_keys`` are the architecture directories (TARGET_BASE_ARCH values) of
    the tree's targets.
    """
    st = _State(read=read, arch_keys=tuple(sorted(set(arch_keys))))
    for root in roots:
        _walk(st, root, SYSTEM, Condition.always(), 0)
    dir_rules = {
        d: tuple(sorted(pairs, key=lambda p: (p[0], str(p[1]))))
        for d, pairs in st.dir_pairs.items()
    }
    return MesonSources(
        rules=tuple(st.rules),
        meson_files=tuple(st.files),
        dir_rules=dir_rules,
        unregistered=frozenset(),
        notes=tuple(st.notes),
    )
