"""QEMU's Kconfig dialect (scripts/minikconf.py), read and evaluated from text.

The dialect is small: ``config SYM``, ``bool``, ``default y|n [if EXPR]``,
``depends on EXPR``, ``select SYM [if EXPR]``, ``imply SYM [if EXPR]``,
``source FILE`` / ``include FILE`` and, in the device ``.mak`` files,
``CONFIG_SYM=y|n`` assignments. Its expression grammar differs from Linux
Kconfig: ``||`` binds TIGHTER than ``&&`` (``expr: disj ('&&' disj)*``,
``disj: primary ('||' primary)*``), so ``A && B || C`` is ``A && (B || C)``.

We never run the tree's own script (the tree may be an untrusted patch); this
module re-implements its semantics. To answer "which boards pull this symbol
in" cheaply, `evaluate` computes many configurations at once: every value is
an int bit mask, bit i standing for configuration i.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.errors import InputError

Reader = Callable[[str], "str | None"]


class KconfigError(InputError):
    """The text is not in the dialect; carries ``file:line``."""


# -- expressions ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sym:
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr

    def __str__(self) -> str:
        return f"!{self.operand}"


@dataclass(frozen=True, slots=True)
class And:
    lhs: Expr
    rhs: Expr

    def __str__(self) -> str:
        return f"({self.lhs} && {self.rhs})"


@dataclass(frozen=True, slots=True)
class Or:
    lhs: Expr
    rhs: Expr

    def __str__(self) -> str:
        return f"({self.lhs} || {self.rhs})"


Expr = Sym | Not | And | Or


def symbols_of(expr: Expr | None) -> set[str]:
    """Every symbol an expression mentions."""
    out: set[str] = set()
    stack: list[Expr] = [] if expr is None else [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, Sym):
            out.add(e.name)
        elif isinstance(e, Not):
            stack.append(e.operand)
        else:
            stack.extend((e.lhs, e.rhs))
    return out


def positive_symbols(expr: Expr | None) -> set[str]:
    """Symbols that, when true, can make the expression true (not under a ``!``)."""
    out: set[str] = set()

    def walk(e: Expr, negated: bool) -> None:
        if isinstance(e, Sym):
            if not negated:
                out.add(e.name)
        elif isinstance(e, Not):
            walk(e.operand, not negated)
        else:
            walk(e.lhs, negated)
            walk(e.rhs, negated)

    if expr is not None:
        walk(expr, False)
    return out


# -- parsed data ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Default:
    value: bool
    cond: Expr | None
    seq: int
    """Parse order: minikconf applies the first default whose condition holds."""
    implied_by: str | None = None
    """Set when the default comes from ``imply`` (``config X imply Y`` is
    ``config Y default y if X``)."""


@dataclass(frozen=True, slots=True)
class Select:
    by: str
    cond: Expr | None


@dataclass(frozen=True, slots=True)
class Symbol:
    name: str
    files: tuple[str, ...] = ()
    depends: tuple[Expr, ...] = ()
    defaults: tuple[Default, ...] = ()
    """Own defaults and ``imply`` defaults, in parse order."""
    selected_by: tuple[Select, ...] = ()
    declared: bool = False
    used_by: tuple[str, ...] = ()
    """Symbols whose code creates this symbol's devices (read from C in trees
    before Kconfig, which have no select): they reach it, they do not set it."""


@dataclass(frozen=True, slots=True)
class Kconfig:
    symbols: Mapping[str, Symbol]
    files: tuple[str, ...]
    """Every Kconfig file reached through ``source``, in order."""

    def declared_in(self, filename: str) -> frozenset[str]:
        return frozenset(s.name for s in self.symbols.values() if filename in s.files)

    def selects_of(self, name: str) -> list[tuple[str, Expr | None]]:
        """What ``name`` selects: (target, condition)."""
        return [
            (s.name, sel.cond)
            for s in self.symbols.values()
            for sel in s.selected_by
            if sel.by == name
        ]


# -- scanner and parser -----------------------------------------------------

_TOKEN = re.compile(
    r"(?P<ws>[ \t\r\f\v]+)|(?P<nl>\n)|(?P<comment>\#[^\n]*)"
    r"|(?P<op>&&|\|\||[!()=])|(?P<word>[A-Za-z0-9_]+)|(?P<bad>.)"
)
_KEYWORDS = frozenset(
    {"depends", "on", "select", "imply", "config", "default", "bool", "if", "y", "n"}
)


@dataclass(slots=True)
class _Tok:
    kind: str  # "op", "kw", "id", "source", "eof"
    text: str
    line: int


def _tokenize(src: str, fname: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos, line = 0, 1
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        assert m is not None  # the "bad" alternative matches any character
        kind = m.lastgroup
        text = m.group()
        if kind == "nl":
            line += 1
        elif kind == "op":
            toks.append(_Tok("op", text, line))
        elif kind == "word":
            if text in ("source", "include"):
                # minikconf takes the rest of the line as the file name.
                end = src.find("\n", m.end())
                end = len(src) if end < 0 else end
                toks.append(_Tok("source", src[m.end() : end].strip(), line))
                pos = end
                continue
            toks.append(_Tok("kw" if text in _KEYWORDS else "id", text, line))
        elif kind == "bad":
            raise KconfigError(f"{fname}:{line}: invalid input {text!r}")
        pos = m.end()
    toks.append(_Tok("eof", "", line))
    return toks


@dataclass
class _SymBuilder:
    name: str
    files: list[str] = field(default_factory=list)
    depends: list[Expr] = field(default_factory=list)
    defaults: list[Default] = field(default_factory=list)
    selected_by: list[Select] = field(default_factory=list)
    declared: bool = False


class _Parser:
    def __init__(self, read: Reader) -> None:
        self.read = read
        self.syms: dict[str, _SymBuilder] = {}
        self.files: list[str] = []
        self.assignments: dict[str, bool] = {}
        self.seq = 0
        self._stack: list[str] = []

    def sym(self, name: str) -> _SymBuilder:
        b = self.syms.get(name)
        if b is None:
            b = self.syms[name] = _SymBuilder(name)
        return b

    def parse_file(self, path: str, *, required: bool = True) -> None:
        path = posixpath.normpath(path)
        if path in self._stack:
            raise KconfigError(f"{self._stack[-1]}: inclusion loop for {path}")
        if path in self.files:  # minikconf skips a file already included
            return
        text = self.read(path)
        if text is None:
            if required:
                where = self._stack[-1] if self._stack else "<root>"
                raise KconfigError(f"{where}: cannot read {path}")
            return
        self.files.append(path)
        self._stack.append(path)
        try:
            _FileParser(self, path, _tokenize(text, path)).parse()
        finally:
            self._stack.pop()


class _FileParser:
    def __init__(self, owner: _Parser, fname: str, toks: list[_Tok]) -> None:
        self.o = owner
        self.fname = fname
        self.toks = toks
        self.i = 0

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def error(self, msg: str) -> KconfigError:
        return KconfigError(f"{self.fname}:{self.tok.line}: {msg} before {self.tok.text!r}")

    def take(self) -> _Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def at_kw(self, word: str) -> bool:
        return self.tok.kind == "kw" and self.tok.text == word

    def at_op(self, op: str) -> bool:
        return self.tok.kind == "op" and self.tok.text == op

    def parse(self) -> None:
        while self.tok.kind != "eof":
            if self.tok.kind == "source":
                name = self.take().text
                base = posixpath.dirname(self.fname)
                self.o.parse_file(posixpath.join(base, name))
            elif self.at_kw("config"):
                self.take()
                self.parse_config(self.parse_id())
            elif self.tok.kind == "id":
                self.parse_assignment()
            else:
                raise self.error('expected "source", "config" or identifier')

    def parse_id(self) -> str:
        if self.tok.kind != "id":
            raise self.error("expected identifier")
        return self.take().text

    def parse_yn(self) -> bool:
        if self.at_kw("y") or self.at_kw("n"):
            return self.take().text == "y"
        raise self.error('expected "y" or "n"')

    def parse_assignment(self) -> None:
        name = self.parse_id()
        if not name.startswith("CONFIG_"):
            raise self.error('expected identifier starting with "CONFIG_"')
        if not self.at_op("="):
            raise self.error('expected "="')
        self.take()
        self.o.assignments[name[len("CONFIG_") :]] = self.parse_yn()

    def parse_config(self, name: str) -> None:
        me = self.o.sym(name)
        me.declared = True
        if self.fname not in me.files:
            me.files.append(self.fname)
        while self.tok.kind == "kw" and self.tok.text in (
            "default",
            "depends",
            "select",
            "imply",
            "bool",
        ):
            word = self.take().text
            if word == "bool":
                continue
            if word == "default":
                value = self.parse_yn()
                self.o.seq += 1
                me.defaults.append(Default(value, self.parse_cond(), self.o.seq))
            elif word == "depends":
                if not self.at_kw("on"):
                    raise self.error('expected "on"')
                self.take()
                me.depends.append(self.parse_expr())
            elif word == "select":
                target = self.parse_id()
                self.o.sym(target).selected_by.append(Select(name, self.parse_cond()))
            else:  # imply: a default on the target, conditioned on us
                target = self.parse_id()
                cond = self.parse_cond()
                self.o.seq += 1
                self.o.sym(target).defaults.append(Default(True, cond, self.o.seq, name))
        if self.tok.kind not in ("source", "id", "eof") and not self.at_kw("config"):
            raise self.error("unexpected token")

    def parse_cond(self) -> Expr | None:
        if self.at_kw("if"):
            self.take()
            return self.parse_expr()
        return None

    # expr: disj ('&&' disj)*   -- '&&' binds LOOSER than '||' in minikconf
    def parse_expr(self) -> Expr:
        lhs = self.parse_disj()
        while self.at_op("&&"):
            self.take()
            lhs = And(lhs, self.parse_disj())
        return lhs

    # disj: primary ('||' primary)*
    def parse_disj(self) -> Expr:
        lhs = self.parse_primary()
        while self.at_op("||"):
            self.take()
            lhs = Or(lhs, self.parse_primary())
        return lhs

    def parse_primary(self) -> Expr:
        if self.at_op("!"):
            self.take()
            return Not(self.parse_primary())
        if self.at_op("("):
            self.take()
            e = self.parse_expr()
            if not self.at_op(")"):
                raise self.error('expected ")"')
            self.take()
            return e
        if self.tok.kind == "id":
            return Sym(self.take().text)
        raise self.error('expected "!" or "(" or identifier')


def parse_expr(text: str) -> Expr:
    """Parse one expression with minikconf's precedence (for tests and tools)."""
    p = _Parser(lambda _: None)
    fp = _FileParser(p, "<expr>", _tokenize(text, "<expr>"))
    e = fp.parse_expr()
    if fp.tok.kind != "eof":
        raise fp.error("trailing input")
    return e


def _freeze(p: _Parser) -> dict[str, Symbol]:
    return {
        name: Symbol(
            name=b.name,
            files=tuple(b.files),
            depends=tuple(b.depends),
            defaults=tuple(sorted(b.defaults, key=lambda d: d.seq)),
            selected_by=tuple(b.selected_by),
            declared=b.declared,
        )
        for name, b in p.syms.items()
    }


def parse_kconfig(read: Reader, root: str | Sequence[str] = "Kconfig") -> Kconfig:
    """Read ``root`` and every file it sources (paths relative to the includer).

    Several roots are read in order, as minikconf reads the files it is given
    (QEMU 4.0 to 5.1 passed ``Kconfig.host hw/Kconfig``)."""
    p = _Parser(read)
    for r in [root] if isinstance(root, str) else root:
        p.parse_file(r)
    return Kconfig(symbols=_freeze(p), files=tuple(p.files))


def declared_symbols(
    names: Iterable[str],
    *,
    on_by_default: Iterable[str] = (),
    used_by: Mapping[str, Iterable[str]] | None = None,
) -> Kconfig:
    """A Kconfig of plain ``bool`` symbols, for trees before Kconfig (QEMU before
    4.0), whose device configs set every symbol themselves. ``on_by_default``
    symbols have ``default y``; ``used_by`` gives `Symbol.used_by`."""
    on = set(on_by_default)
    users = used_by or {}
    symbols = {
        n: Symbol(
            name=n,
            declared=True,
            defaults=(Default(True, None, 0),) if n in on else (),
            used_by=tuple(sorted(users.get(n, ()))),
        )
        for n in sorted({*names, *on, *users})
    }
    return Kconfig(symbols=symbols, files=())


def parse_assignments(read: Reader, path: str) -> dict[str, bool]:
    """Read a device config (``configs/devices/<target>/default.mak``) and its includes.

    Returns the ``CONFIG_X=y|n`` assignments without the prefix, later ones winning.
    """
    p = _Parser(read)
    p.parse_file(path)
    if p.syms:
        raise KconfigError(f"{path}: a device config must only assign symbols")
    return p.assignments


# -- evaluation -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConfigInput:
    """One configuration to evaluate.

    ``assign`` plays the ``.mak`` file and meson's command-line symbols;
    ``suppress`` lists symbols whose own ``default`` lines are ignored (used to
    switch every board but one off while still letting ``select`` pull them in).
    """

    assign: Mapping[str, bool]
    suppress: frozenset[str] = frozenset()
    roots: frozenset[str] = frozenset()
    """Symbols whose consequences `Valuation.reach` tracks (a board's own symbols)."""


@dataclass(frozen=True, slots=True)
class Valuation:
    """Values of every symbol in ``width`` configurations, one bit each."""

    masks: Mapping[str, int]
    width: int
    reach: Mapping[str, int] = field(default_factory=dict)
    """Bit i set = the symbol is on in configuration i BECAUSE of that configuration's
    roots: a chain of select / imply / ``default y if`` / ``default y`` + ``depends on``
    links leads from a root to it. Symbols on for every board of a target (selected
    by the architecture symbol, say) are on but not reached."""

    @property
    def all(self) -> int:
        return (1 << self.width) - 1

    def mask(self, name: str) -> int:
        return self.masks.get(name, 0)

    def is_on(self, name: str, index: int) -> bool:
        return bool((self.masks.get(name, 0) >> index) & 1)

    def enabled(self, index: int) -> frozenset[str]:
        return frozenset(n for n, m in self.masks.items() if (m >> index) & 1)


def _topo_order(kc: Kconfig) -> tuple[list[str], bool]:
    """Symbols, each after everything its value depends on (minikconf's DFS order)."""
    deps: dict[str, set[str]] = {}
    for s in kc.symbols.values():
        d: set[str] = set()
        for e in s.depends:
            d |= symbols_of(e)
        for df in s.defaults:
            d |= symbols_of(df.cond)
            if df.implied_by:
                d.add(df.implied_by)
        for sel in s.selected_by:
            d.add(sel.by)
            d |= symbols_of(sel.cond)
        d |= set(s.used_by)
        d.discard(s.name)
        deps[s.name] = d
    order: list[str] = []
    cyclic = False
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    for root in sorted(deps):
        if state.get(root):
            continue
        stack: list[tuple[str, list[str]]] = [(root, sorted(deps.get(root, ())))]
        state[root] = 1
        while stack:
            name, todo = stack[-1]
            if todo:
                nxt = todo.pop()
                if not state.get(nxt):
                    state[nxt] = 1
                    stack.append((nxt, sorted(deps.get(nxt, ()))))
                elif state[nxt] == 1:
                    cyclic = True  # broken here; minikconf would refuse the tree
            else:
                stack.pop()
                state[name] = 2
                order.append(name)
    return order, cyclic


def causes(kc: Kconfig) -> dict[str, list[tuple[str, str]]]:
    """symbol -> [(cause, how)]: the symbols whose being on can turn it on.

    ``how`` is ``selected``, ``implied``, ``default`` (``default y if CAUSE``) or
    ``depends`` (an unconditional ``default y`` waiting for ``depends on CAUSE``).
    """
    out: dict[str, list[tuple[str, str]]] = {}
    for s in kc.symbols.values():
        lst: list[tuple[str, str]] = [(sel.by, "selected") for sel in s.selected_by]
        for df in s.defaults:
            if not df.value:
                continue
            if df.implied_by is not None:
                lst.append((df.implied_by, "implied"))
            else:
                lst.extend((u, "default") for u in sorted(positive_symbols(df.cond)))
        if any(df.value and df.cond is None and df.implied_by is None for df in s.defaults):
            for d in s.depends:
                lst.extend((u, "depends") for u in sorted(positive_symbols(d)))
        lst.extend((u, "used") for u in s.used_by)
        if lst:
            out[s.name] = lst
    return out


def evaluate(kc: Kconfig, configs: Sequence[ConfigInput]) -> Valuation:
    """Compute every symbol in every configuration, minikconf's ``--defconfig`` way.

    Per symbol, in dependency order: an assignment or a true ``select`` sets it;
    otherwise a false ``depends on`` clears it; otherwise the first ``default``
    (own or from ``imply``) whose condition holds decides; otherwise it is off.
    Where minikconf would stop on a contradiction (a select against a false
    dependency) we let the select win: the question here is reachability.
    """
    width = len(configs)
    full = (1 << width) - 1
    ay: dict[str, int] = {}
    an: dict[str, int] = {}
    sup: dict[str, int] = {}
    root: dict[str, int] = {}
    for i, cfg in enumerate(configs):
        bit = 1 << i
        for name in cfg.roots:
            root[name] = root.get(name, 0) | bit
        for name, val in cfg.assign.items():
            tgt = ay if val else an
            tgt[name] = tgt.get(name, 0) | bit
        for name in cfg.suppress:
            sup[name] = sup.get(name, 0) | bit

    masks: dict[str, int] = {}
    reach: dict[str, int] = {}
    why = causes(kc) if root else {}

    def ev(e: Expr | None) -> int:
        if e is None:
            return full
        if isinstance(e, Sym):
            return masks.get(e.name, 0)
        if isinstance(e, Not):
            return full & ~ev(e.operand)
        if isinstance(e, And):
            return ev(e.lhs) & ev(e.rhs)
        return ev(e.lhs) | ev(e.rhs)

    order, cyclic = _topo_order(kc)
    # minikconf rejects cycles; we evaluate them to a fixed point instead (a few
    # passes suffice: values only grow along select chains).
    for _ in range(8 if cyclic else 1):
        before, before_reach = dict(masks), dict(reach)
        _evaluate_pass(kc, order, masks, reach, ev, ay, an, sup, root, why, full)
        if masks == before and reach == before_reach:
            break
    # Symbols only ever assigned (never declared nor referenced by a clause).
    for name, m in ay.items():
        if name not in masks:
            masks[name] = m
    return Valuation(masks=masks, width=width, reach=reach)


def _evaluate_pass(
    kc: Kconfig,
    order: list[str],
    masks: dict[str, int],
    reach: dict[str, int],
    ev: Callable[[Expr | None], int],
    ay: Mapping[str, int],
    an: Mapping[str, int],
    sup: Mapping[str, int],
    root: Mapping[str, int],
    why: Mapping[str, list[tuple[str, str]]],
    full: int,
) -> None:
    for name in order:
        s = kc.symbols.get(name)
        if s is None:  # only mentioned in expressions: off unless assigned
            masks[name] = ay.get(name, 0)
            continue
        sel = 0
        for sl in s.selected_by:
            sel |= masks.get(sl.by, 0) & ev(sl.cond)
        dep = full
        for d in s.depends:
            dep &= ev(d)
        chosen = 0
        undecided = full
        own_off = sup.get(name, 0)
        for df in s.defaults:
            hit = undecided & ev(df.cond)
            if df.implied_by is not None:
                hit &= masks.get(df.implied_by, 0)
            elif own_off:
                hit &= ~own_off
            if df.value:
                chosen |= hit
            undecided &= ~hit
        assigned_n = an.get(name, 0)
        on = masks[name] = (ay.get(name, 0) | sel | (dep & chosen & ~assigned_n)) & full
        if why:
            r = root.get(name, 0)
            for u, _ in why.get(name, ()):
                r |= reach.get(u, 0)
            if r & on:
                reach[name] = r & on
            else:
                reach.pop(name, None)


def evaluate_one(kc: Kconfig, config: ConfigInput) -> frozenset[str]:
    """The symbols enabled in one configuration."""
    return evaluate(kc, [config]).enabled(0)


# -- why is a symbol on -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cause:
    """One step of an explanation: ``symbol`` is on because of ``by``."""

    symbol: str
    by: str
    how: str
    """As in `causes`."""

    def phrase(self) -> str:
        if self.how == "default":
            return f"default y if {self.by}"
        if self.how == "depends":
            return f"default y with {self.by}"
        if self.how == "used":
            return f"used by {self.by}"
        return f"{self.how} by {self.by}"


def _forward_edges(kc: Kconfig) -> dict[str, list[tuple[str, str]]]:
    edges: dict[str, list[tuple[str, str]]] = {}
    for v, lst in causes(kc).items():
        for u, how in lst:
            edges.setdefault(u, []).append((v, how))
    for out in edges.values():
        out.sort()
    return edges


@dataclass(slots=True)
class Explainer:
    """Shortest chains ``board -> ... -> symbol`` through select/imply/default edges."""

    kc: Kconfig
    valuation: Valuation
    _edges: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    _trees: dict[tuple[int, tuple[str, ...]], dict[str, Cause]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._edges = _forward_edges(self.kc)

    def chain(self, index: int, roots: Iterable[str], symbol: str) -> list[Cause] | None:
        """Causes from ``symbol`` back to one of ``roots`` in configuration ``index``.

        Empty when ``symbol`` is a root; None when no chain of enabled symbols exists.
        """
        key = (index, tuple(sorted(roots)))
        tree = self._trees.get(key)
        if tree is None:
            tree = self._trees[key] = self._bfs(index, key[1])
        if symbol in key[1]:
            return []
        if symbol not in tree:
            return None
        out: list[Cause] = []
        cur = symbol
        while cur not in key[1]:
            cause = tree[cur]
            out.append(cause)
            cur = cause.by
        return out

    def _bfs(self, index: int, roots: tuple[str, ...]) -> dict[str, Cause]:
        on = self.valuation.is_on
        parent: dict[str, Cause] = {}
        seen = set(roots)
        frontier = [r for r in roots if on(r, index)]
        while frontier:
            nxt: list[str] = []
            for u in frontier:
                for v, how in self._edges.get(u, ()):
                    if v in seen or not on(v, index):
                        continue
                    seen.add(v)
                    parent[v] = Cause(v, u, how)
                    nxt.append(v)
            frontier = nxt
        return parent
