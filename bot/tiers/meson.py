"""Which meson source-set rule builds each file, read from the tree's meson.build files.

QEMU's build maps files to Kconfig symbols through meson "source sets":
``system_ss.add(when: 'CONFIG_E1000_PCI', if_true: files('e1000.c'))``; ``when:
[A, B]`` is A AND B; ``if_false:`` files are built when the condition is false
(stubs); ``x_ss.add_all(when: C, if_true: y_ss)`` nests a set under a condition;
per-architecture sets are registered in dictionaries such as
``hw_arch += {'arm': arm_ss}``.

This is not a meson interpreter. It evaluates the small part of the language
those files use, walks every ``subdir()``, and treats every branch of ``if`` and
every ``foreach`` body as taken: we want every file that SOME build can contain,
so ignoring host conditions errs on the side of "built". Which sets are global,
per-arch or user-only is data (rules/tiers.toml), not code.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from bot.errors import InputError
from bot.tiers.rules import MesonLayout

Reader = Callable[[str], "str | None"]


class MesonError(InputError):
    pass


# -- conditions -------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class Term:
    """A conjunction of meson keys (``CONFIG_X``/``TARGET_X``), some negated."""

    pos: frozenset[str] = frozenset()
    neg: frozenset[str] = frozenset()

    def __str__(self) -> str:
        parts = sorted(self.pos) + [f"!{k}" for k in sorted(self.neg)]
        return " && ".join(parts) if parts else "always"


@dataclass(frozen=True, slots=True)
class Condition:
    """A disjunction of `Term` (DNF). No terms = never; one empty term = always."""

    terms: frozenset[Term]

    @staticmethod
    def always() -> Condition:
        return Condition(frozenset({Term()}))

    @staticmethod
    def never() -> Condition:
        return Condition(frozenset())

    @staticmethod
    def all_of(keys: Iterable[str]) -> Condition:
        return Condition(frozenset({Term(frozenset(keys))}))

    def and_(self, other: Condition) -> Condition:
        out: set[Term] = set()
        for a in self.terms:
            for b in other.terms:
                pos, neg = a.pos | b.pos, a.neg | b.neg
                if not pos & neg:  # X && !X is never true
                    out.add(Term(pos, neg))
        return Condition(frozenset(out))

    def or_(self, other: Condition) -> Condition:
        return Condition(self.terms | other.terms)

    def negate_term(self) -> Condition:
        """NOT of a single-term condition (what ``if_false`` needs)."""
        if len(self.terms) != 1:
            raise ValueError("negate_term() needs exactly one term")
        (t,) = self.terms
        if not t.pos and not t.neg:
            return Condition.never()
        out = {Term(frozenset(), frozenset({k})) for k in t.pos}
        out |= {Term(frozenset({k}), frozenset()) for k in t.neg}
        return Condition(frozenset(out))

    def keys(self) -> set[str]:
        out: set[str] = set()
        for t in self.terms:
            out |= t.pos | t.neg
        return out

    def __str__(self) -> str:
        if not self.terms:
            return "never"
        parts = sorted(str(t) for t in self.terms)
        return " || ".join(f"({t})" for t in parts) if len(parts) > 1 else parts[0]


@dataclass(frozen=True, slots=True, order=True)
class Scope:
    """Where a source set ends up: every system emulator, one architecture, or user mode."""

    kind: str  # "system", "arch" or "user"
    registry: str = ""
    key: str = ""

    def __str__(self) -> str:
        return f"{self.registry}[{self.key}]" if self.kind == "arch" else self.kind


SYSTEM = Scope("system")
USER = Scope("user")


@dataclass(frozen=True, slots=True)
class SourceRule:
    """One way a file gets built: in ``scope``, when ``cond`` holds."""

    path: str
    cond: Condition
    scope: Scope
    set_name: str
    meson_file: str
    stub: bool = False
    """Listed under ``if_false``: built when the condition does NOT hold."""


@dataclass(frozen=True, slots=True)
class MesonSources:
    rules: tuple[SourceRule, ...]
    meson_files: tuple[str, ...]
    dir_rules: Mapping[str, tuple[tuple[Scope, Condition], ...]]
    """Per directory holding a meson.build: every condition its ``add()`` calls
    use, for files it builds without naming them (Rust crates, generated lists)."""
    unregistered: frozenset[str]
    """Files named in ``files()`` that reach no registered source set."""
    notes: tuple[str, ...] = ()

    def by_path(self) -> dict[str, list[SourceRule]]:
        out: dict[str, list[SourceRule]] = {}
        for r in self.rules:
            out.setdefault(r.path, []).append(r)
        return out


# -- values -----------------------------------------------------------------


class _Unknown:
    """A value we do not model (a dependency, a host test, a loop variable)."""

    _inst: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._inst is None:
            cls._inst = super().__new__(cls)
        return cls._inst

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = _Unknown()


@dataclass(frozen=True, slots=True)
class _Files:
    paths: tuple[str, ...]


@dataclass(slots=True, eq=False)
class _Add:
    when: Condition
    if_true: tuple[str, ...]
    if_false: tuple[str, ...]
    meson_file: str


@dataclass(slots=True, eq=False)
class _AddAll:
    when: Condition
    child: _SourceSet
    meson_file: str


@dataclass(slots=True, eq=False)
class _SourceSet:
    name: str | None
    created_in: str
    entries: list[_Add | _AddAll] = field(default_factory=list)


Value = object  # str | int | bool | list | dict | _Files | _SourceSet | _Unknown


# -- tokenizer --------------------------------------------------------------

_TOKEN = re.compile(
    r"(?P<ws>[ \t\r]+|\\\n)|(?P<comment>\#[^\n]*)|(?P<nl>\n)"
    r"|(?P<mstr>f?'''.*?''')|(?P<str>f?'(?:[^'\\\n]|\\.)*')"
    r"|(?P<num>0x[0-9a-fA-F]+|\d+)"
    r"|(?P<id>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\+=|==|!=|<=|>=|[-+*/%=<>?:,.()\[\]{}])"
    r"|(?P<bad>.)",
    re.DOTALL,
)
_KEYWORDS = frozenset(
    {
        "if",
        "elif",
        "else",
        "endif",
        "foreach",
        "endforeach",
        "and",
        "or",
        "not",
        "in",
        "true",
        "false",
        "break",
        "continue",
    }
)
_ESCAPE = re.compile(r"\\(.)")


@dataclass(slots=True)
class _Tok:
    kind: str  # id kw str fstr num op nl eof
    text: str
    line: int


def _tokenize(src: str, fname: str) -> list[_Tok]:
    toks: list[_Tok] = []
    depth = 0
    line = 1
    pos = 0
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        assert m is not None
        kind, text = m.lastgroup, m.group()
        pos = m.end()
        if kind in ("ws", "comment"):
            line += text.count("\n")
            continue
        if kind == "nl":
            if depth == 0 and toks and toks[-1].kind != "nl":
                toks.append(_Tok("nl", "\n", line))
            line += 1
            continue
        if kind == "bad":  # left to the parser, which skips the statement
            toks.append(_Tok("bad", text, line))
            continue
        if kind in ("str", "mstr"):
            is_f = text.startswith("f")
            body = text[1:] if is_f else text
            body = body[3:-3] if kind == "mstr" else _ESCAPE.sub(r"\1", body[1:-1])
            toks.append(_Tok("fstr" if is_f else "str", body, line))
            line += text.count("\n")
            continue
        if kind == "id" and text in _KEYWORDS:
            kind = "kw"
        if kind == "op":
            if text in "([{":
                depth += 1
            elif text in ")]}":
                depth = max(0, depth - 1)
        toks.append(_Tok(kind or "bad", text, line))
    toks.append(_Tok("nl", "\n", line))
    toks.append(_Tok("eof", "", line))
    return toks


# -- evaluator --------------------------------------------------------------


@dataclass(slots=True)
class _State:
    read: Reader
    layout: MesonLayout
    env: dict[str, Value] = field(default_factory=dict)
    sets: list[_SourceSet] = field(default_factory=list)
    registered: list[tuple[Scope, _SourceSet]] = field(default_factory=list)
    mentioned: dict[str, str] = field(default_factory=dict)  # path -> meson file
    meson_files: list[str] = field(default_factory=list)
    adds_by_file: dict[str, list[tuple[_SourceSet, Condition]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class _Break(Exception):
    pass


class _Interp:
    def __init__(self, st: _State, fname: str, toks: list[_Tok]) -> None:
        self.st = st
        self.fname = fname
        self.dir = posixpath.dirname(fname)
        self.toks = toks
        self.i = 0

    # token helpers
    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def at(self, kind: str, text: str | None = None) -> bool:
        t = self.tok
        return t.kind == kind and (text is None or t.text == text)

    def expect(self, kind: str, text: str | None = None) -> _Tok:
        if not self.at(kind, text):
            raise MesonError(
                f"{self.fname}:{self.tok.line}: expected {text or kind}, got {self.tok.text!r}"
            )
        return self.take()

    def skip_nl(self) -> None:
        while self.at("nl"):
            self.take()

    # statements
    def run(self) -> None:
        self.block(())

    def block(self, enders: tuple[str, ...]) -> str:
        while True:
            self.skip_nl()
            t = self.tok
            if t.kind == "eof":
                if enders:
                    raise MesonError(f"{self.fname}: missing {'/'.join(enders)}")
                return ""
            if t.kind == "kw" and t.text in enders:
                return self.take().text
            start = self.i
            try:
                self.statement()
            except MesonError as e:
                # Resynchronise at the next line: one odd statement must not
                # hide the rest of the file.
                self.st.notes.append(str(e))
                self.i = max(self.i, start + 1)
                while not self.at("nl") and not self.at("eof"):
                    self.take()

    def statement(self) -> None:
        t = self.tok
        if t.kind == "kw" and t.text == "if":
            self.take()
            self.expr()
            while True:
                end = self.block(("elif", "else", "endif"))
                if end == "elif":
                    self.expr()
                    continue
                if end == "else":
                    self.block(("endif",))
                return
        if t.kind == "kw" and t.text == "foreach":
            self.take()
            names = [self.expect("id").text]
            while self.at("op", ","):
                self.take()
                names.append(self.expect("id").text)
            self.expect("op", ":")
            self.expr()
            for n in names:
                self.st.env[n] = UNKNOWN
            self.block(("endforeach",))
            return
        if t.kind == "kw" and t.text in ("break", "continue"):
            self.take()
            return
        if (
            t.kind == "id"
            and self.toks[self.i + 1].kind == "op"
            and self.toks[self.i + 1].text in ("=", "+=")
        ):
            name = self.take().text
            op = self.take().text
            value = self.expr()
            if op == "+=":
                self.register(name, value)
                value = _plus(self.st.env.get(name, UNKNOWN), value)
            if isinstance(value, _SourceSet) and value.name is None:
                value.name = name
            self.st.env[name] = value
            return
        self.expr()

    def register(self, name: str, value: Value) -> None:
        lay = self.st.layout
        if name in lay.arch_registries and isinstance(value, dict):
            for k, v in value.items():
                if isinstance(k, str) and isinstance(v, _SourceSet):
                    self.st.registered.append((Scope("arch", name, k), v))
        elif name in lay.module_registries:
            for s in _sets_in(value):
                self.st.registered.append((SYSTEM, s))

    # expressions (meson precedence: ternary < or < and < not < comparison < +- < */%)
    def expr(self) -> Value:
        cond = self.or_expr()
        if self.at("op", "?"):
            self.take()
            a = self.expr()
            self.expect("op", ":")
            b = self.expr()
            return a if a == b else UNKNOWN
        return cond

    def or_expr(self) -> Value:
        v = self.and_expr()
        while self.at("kw", "or"):
            self.take()
            self.and_expr()
            v = UNKNOWN
        return v

    def and_expr(self) -> Value:
        v = self.not_expr()
        while self.at("kw", "and"):
            self.take()
            self.not_expr()
            v = UNKNOWN
        return v

    def not_expr(self) -> Value:
        if self.at("kw", "not"):
            self.take()
            self.not_expr()
            return UNKNOWN
        return self.comparison()

    def comparison(self) -> Value:
        v = self.additive()
        while True:
            if (
                self.tok.kind == "op" and self.tok.text in ("==", "!=", "<", ">", "<=", ">=")
            ) or self.at("kw", "in"):
                self.take()
            elif self.at("kw", "not") and self.toks[self.i + 1].text == "in":
                self.take()
                self.take()
            else:
                return v
            self.not_expr()  # "a != not b" is valid meson
            v = UNKNOWN

    def additive(self) -> Value:
        v = self.multiplicative()
        while self.tok.kind == "op" and self.tok.text in ("+", "-"):
            op = self.take().text
            rhs = self.multiplicative()
            v = _plus(v, rhs) if op == "+" else UNKNOWN
        return v

    def multiplicative(self) -> Value:
        v = self.unary()
        while self.tok.kind == "op" and self.tok.text in ("*", "/", "%"):
            op = self.take().text
            rhs = self.unary()
            if op == "/" and isinstance(v, str) and isinstance(rhs, str):
                v = posixpath.join(v, rhs)
            else:
                v = UNKNOWN
        return v

    def unary(self) -> Value:
        if self.at("op", "-"):
            self.take()
            self.unary()
            return UNKNOWN
        return self.postfix()

    def postfix(self) -> Value:
        if (
            self.at("id")
            and self.toks[self.i + 1].kind == "op"
            and self.toks[self.i + 1].text == "("
        ):
            name = self.take().text
            args, kwargs = self.arguments()
            v = self.call(name, args, kwargs)
        else:
            v = self.primary()
        while True:
            if self.at("op", "."):
                self.take()
                meth = self.expect("id").text
                args, kwargs = self.arguments()
                v = self.method(v, meth, args, kwargs)
            elif self.at("op", "["):
                self.take()
                idx = self.expr()
                self.expect("op", "]")
                v = _index(v, idx)
            else:
                return v

    def arguments(self) -> tuple[list[Value], dict[str, Value]]:
        self.expect("op", "(")
        args: list[Value] = []
        kwargs: dict[str, Value] = {}
        while not self.at("op", ")"):
            if (
                self.at("id")
                and self.toks[self.i + 1].kind == "op"
                and self.toks[self.i + 1].text == ":"
            ):
                key = self.take().text
                self.take()
                kwargs[key] = self.expr()
            else:
                args.append(self.expr())
            if not self.at("op", ","):
                break
            self.take()
        self.expect("op", ")")
        return args, kwargs

    def primary(self) -> Value:
        t = self.take()
        if t.kind == "str":
            return t.text
        if t.kind == "fstr":
            return UNKNOWN
        if t.kind == "num":
            return int(t.text, 0)
        if t.kind == "kw" and t.text in ("true", "false"):
            return t.text == "true"
        if t.kind == "id":
            return self.st.env.get(t.text, UNKNOWN)
        if t.kind == "op" and t.text == "(":
            v = self.expr()
            self.expect("op", ")")
            return v
        if t.kind == "op" and t.text == "[":
            items: list[Value] = []
            while not self.at("op", "]"):
                items.append(self.expr())
                if not self.at("op", ","):
                    break
                self.take()
            self.expect("op", "]")
            return items
        if t.kind == "op" and t.text == "{":
            d: dict[object, Value] = {}
            while not self.at("op", "}"):
                k = self.expr()
                self.expect("op", ":")
                val = self.expr()
                # A computed key (a loop variable) still keeps its value
                # reachable, so a source set registered that way is found.
                d[k if isinstance(k, str) else ("?", len(d))] = val
                if not self.at("op", ","):
                    break
                self.take()
            self.expect("op", "}")
            return d
        raise MesonError(f"{self.fname}:{t.line}: unexpected {t.text!r}")

    # calls
    def call(self, name: str, args: list[Value], kwargs: dict[str, Value]) -> Value:
        if name == "files":
            paths: list[str] = []
            for a in _flatten(args):
                if isinstance(a, str):
                    p = posixpath.normpath(posixpath.join(self.dir, a))
                    paths.append(p)
                    self.st.mentioned.setdefault(p, self.fname)
            # meson's files() is a list: "+=" and list literals then just work.
            return [_Files((p,)) for p in paths]
        if name == "subdir" and args and isinstance(args[0], str):
            sub = posixpath.normpath(posixpath.join(self.dir, args[0], "meson.build"))
            _run_file(self.st, sub)
            return UNKNOWN
        return UNKNOWN

    def method(self, obj: Value, name: str, args: list[Value], kwargs: dict[str, Value]) -> Value:
        if name == "source_set":
            s = _SourceSet(None, self.fname)
            self.st.sets.append(s)
            return s
        if isinstance(obj, _SourceSet) and name == "add":
            when = self.when(kwargs.get("when"))
            if_true = self.sources(list(args) + _flatten([kwargs.get("if_true", [])]))
            if_false = self.sources(_flatten([kwargs.get("if_false", [])]))
            obj.entries.append(_Add(when, if_true, if_false, self.fname))
            self.st.adds_by_file.setdefault(self.fname, []).append((obj, when))
            return UNKNOWN
        if isinstance(obj, _SourceSet) and name == "add_all":
            when = self.when(kwargs.get("when"))
            for child in _sets_in([*args, kwargs.get("if_true", [])]):
                obj.entries.append(_AddAll(when, child, self.fname))
            return UNKNOWN
        if isinstance(obj, dict) and name == "get" and args and isinstance(args[0], str):
            return obj.get(args[0], args[1] if len(args) > 1 else UNKNOWN)
        return UNKNOWN

    def when(self, value: Value | None) -> Condition:
        if value is None:
            return Condition.always()
        # Strings are config keys; anything else is a dependency object (a host
        # library): we assume the host has it.
        return Condition.all_of(k for k in _flatten([value]) if isinstance(k, str))

    def sources(self, items: list[Value]) -> tuple[str, ...]:
        out: list[str] = []
        for it in _flatten(items):
            if isinstance(it, _Files):
                out.extend(it.paths)
            elif isinstance(it, str) and re.search(r"\.(c|cc|m|S|rs|inc)$", it):
                p = posixpath.normpath(posixpath.join(self.dir, it))
                self.st.mentioned.setdefault(p, self.fname)
                out.append(p)
        return tuple(out)


def _flatten(items: list[Value]) -> list[Value]:
    out: list[Value] = []
    stack = list(reversed(items))
    while stack:
        it = stack.pop()
        if isinstance(it, list):
            stack.extend(reversed(it))
        else:
            out.append(it)
    return out


def _sets_in(value: Value) -> list[_SourceSet]:
    out: list[_SourceSet] = []
    stack: list[Value] = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, _SourceSet):
            out.append(v)
        elif isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.values())
    return out


def _plus(a: Value, b: Value) -> Value:
    if isinstance(a, str) and isinstance(b, str):
        return a + b
    if isinstance(a, list):
        return a + (b if isinstance(b, list) else [b])
    if isinstance(a, dict) and isinstance(b, dict):
        return {**a, **b}
    if isinstance(a, _Unknown) and isinstance(b, (list, dict)):
        return b  # "x += [...]" on a variable we never saw assigned
    return UNKNOWN


def _index(v: Value, idx: Value) -> Value:
    if isinstance(v, list) and isinstance(idx, int) and -len(v) <= idx < len(v):
        return v[idx]
    if isinstance(v, dict) and isinstance(idx, str):
        return v.get(idx, UNKNOWN)
    return UNKNOWN


def _run_file(st: _State, path: str) -> None:
    if path in st.meson_files:
        return
    text = st.read(path)
    if text is None:
        st.notes.append(f"{path}: not found")
        return
    st.meson_files.append(path)
    try:
        _Interp(st, path, _tokenize(text, path)).run()
    except MesonError as e:
        # One unreadable file must not hide the rest of the tree.
        st.notes.append(f"{path}: not understood ({e})")


def _contexts(st: _State) -> dict[int, set[tuple[Scope, Condition]]]:
    """For every source set, the (scope, condition) pairs under which it is built."""
    lay = st.layout
    ctx: dict[int, set[tuple[Scope, Condition]]] = {}
    by_id = {id(s): s for s in st.sets}
    work: list[tuple[_SourceSet, Scope, Condition]] = []
    for s in st.sets:
        if s.name in lay.system_sets:
            work.append((s, SYSTEM, Condition.always()))
        elif s.name in lay.user_sets:
            work.append((s, USER, Condition.always()))
    for scope, s in st.registered:
        work.append((s, scope, Condition.always()))
    while work:
        s, scope, cond = work.pop()
        have = ctx.setdefault(id(s), set())
        if (scope, cond) in have or len(have) > 64:  # bound pathological nesting
            continue
        have.add((scope, cond))
        for e in s.entries:
            if isinstance(e, _AddAll) and id(e.child) in by_id:
                work.append((e.child, scope, cond.and_(e.when)))
    return ctx


def read_meson(read: Reader, layout: MesonLayout, root: str = "meson.build") -> MesonSources:
    """Read ``root`` and every ``subdir()`` it reaches; return the rule of every file."""
    st = _State(read=read, layout=layout)
    _run_file(st, root)
    ctx = _contexts(st)
    rules: list[SourceRule] = []
    built: set[str] = set()
    for s in st.sets:
        for scope, cond in sorted(ctx.get(id(s), ()), key=lambda sc: (sc[0], str(sc[1]))):
            for e in s.entries:
                if not isinstance(e, _Add):
                    continue
                name = s.name or "?"
                on = cond.and_(e.when)
                for p in e.if_true:
                    rules.append(SourceRule(p, on, scope, name, e.meson_file))
                    built.add(p)
                if e.if_false:
                    off = cond.and_(e.when.negate_term())
                    for p in e.if_false:
                        rules.append(SourceRule(p, off, scope, name, e.meson_file, stub=True))
                        built.add(p)
    dir_rules: dict[str, tuple[tuple[Scope, Condition], ...]] = {}
    for mfile, adds in st.adds_by_file.items():
        pairs: set[tuple[Scope, Condition]] = set()
        for s, when in adds:
            for scope, cond in ctx.get(id(s), ()):
                pairs.add((scope, cond.and_(when)))
        dir_rules[posixpath.dirname(mfile)] = tuple(sorted(pairs, key=lambda p: (p[0], str(p[1]))))
    unregistered = frozenset(p for p in st.mentioned if p not in built)
    return MesonSources(
        rules=tuple(rules),
        meson_files=tuple(st.meson_files),
        dir_rules=dir_rules,
        unregistered=unregistered,
        notes=tuple(st.notes),
    )


def read_accelerator_targets(root_meson: str) -> dict[str, frozenset[str]]:
    """``accelerator_targets`` of the root meson.build: accelerator key -> targets.

    The lists are chosen by the HOST cpu (``if cpu == 'x86_64' kvm_targets =
    [...]``); the union over every branch is the set of targets that can run
    that accelerator on some host, which is what "KVM-capable" means here.
    """
    lists: dict[str, set[str]] = {}
    for m in re.finditer(r"^\s*(\w+_targets)\s*=\s*\[([^\]]*)\]", root_meson, re.M):
        lists.setdefault(m.group(1), set()).update(re.findall(r"'([^']+)'", m.group(2)))
    out: dict[str, set[str]] = {}
    for m in re.finditer(r"accelerator_targets\s*\+?=\s*\{(.*?)\}", root_meson, re.S):
        for key, val in re.findall(r"'(CONFIG_\w+)'\s*:\s*(\w+|\[[^\]]*\])", m.group(1)):
            if val.startswith("["):
                targets = set(re.findall(r"'([^']+)'", val))
            else:
                targets = lists.get(val, set())
            out.setdefault(key, set()).update(targets)
    return {k: frozenset(v) for k, v in out.items()}
