"""Hand-written migration streams: what a save or load function puts on the wire.

Devices and migration core code that do not describe their state with a VMSD
write it with ``qemu_put_*`` calls and read it back with ``qemu_get_*`` ones:
``SaveVMHandlers`` (``.save_state``/``.load_state``), ``VMStateInfo`` with
custom ``.put``/``.get``, virtio transports' ``save_config``/``load_config``.
The stream is the sequence of those calls. This reads a function body into
that sequence, with the shape around each call (a loop, a conditional, a
branch on the stream version), so that two versions of a function, or a save
function and its load function, can be compared element by element.

Only the lexer is used (no build): calls to helpers of the same file are
followed; calls elsewhere that take the ``QEMUFile`` and save or load are kept
as opaque elements named by their function.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.scanner.expr import int_value, matching, split_top
from bot.scanner.lexer import Kind, LexError, Token, tokenize
from bot.scanner.structs import CFile, FunctionBody, scan_c

_SCALAR = re.compile(r"^qemu_(put|get)_s?(byte|ubyte|8|be16|be32|be64)s?$")
_WIDTH = {"byte": "1", "ubyte": "1", "8": "1", "be16": "2", "be32": "4", "be64": "8"}
_OTHER = {
    "qemu_put_betl": "tl",
    "qemu_get_betl": "tl",
    "qemu_put_betls": "tl",
    "qemu_get_betls": "tl",
    "qemu_put_buffer": "buf",
    "qemu_get_buffer": "buf",
    "qemu_get_buffer_in_place": "buf",
    "qemu_put_buffer_async": "buf",
    "qemu_put_counted_string": "str",
    "qemu_get_counted_string": "str",
    "timer_put": "8",
    "timer_get": "8",
    "qemu_put_timer": "8",
    "qemu_get_timer": "8",
}
_VMSD_CALLS = frozenset({"vmstate_save_state", "vmstate_load_state"})
_SILENT_PREFIXES = ("qemu_file_", "qemu_fflush", "trace_", "error_", "warn_", "qemu_fclose")
_OPAQUE_WORDS = re.compile(r"(?:^|_)(save|load|put|get)(?:_|$)")
_VERSION_COND = re.compile(
    r"^\(?\s*(version_id|version)\s*(>=|>|<=|<|==|!=)\s*(\d+)\s*\)?$"
    r"|^\(?\s*(\d+)\s*(>=|>|<=|<|==|!=)\s*(version_id|version)\s*\)?$"
)
_FLIP = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "==", "!=": "!="}


@dataclass(frozen=True, slots=True)
class Op:
    """One element of the stream: ``word`` says what goes on the wire."""

    word: str
    """``1``, ``2``, ``4``, ``8`` (bytes), ``tl`` (target long), ``buf``,
    ``str`` (counted string), ``vmsd:IDENT``, ``call:NAME`` (a function of
    another file that saves or loads, save/load and put/get spelt ``@``), or
    ``refuse`` (a ``return -E...``: the load gives up)."""
    line: int
    text: str
    """The call as written (``qemu_put_be32(f, dev->revision)``)."""

    @property
    def known(self) -> bool:
        return not self.word.startswith(("call:", "vmsd:")) and self.word != "refuse"


@dataclass(frozen=True, slots=True)
class Block:
    kind: str
    """``if``, ``else``, ``loop``, ``switch`` or ``version``."""
    cond: str
    body: tuple[Node, ...]
    line: int
    orelse: tuple[Node, ...] = ()
    version: tuple[str, int] | None = None
    """For ``version``: the comparison with the stream version (``>=``, 3)."""


Node = Op | Block


@dataclass(frozen=True, slots=True)
class StreamFunction:
    name: str
    line: int
    end_line: int
    nodes: tuple[Node, ...]
    version_checks: tuple[tuple[str, int], ...] = ()
    """Every comparison with the stream version the function makes."""


@dataclass(frozen=True, slots=True)
class Pairing:
    """A save function, its load function, and the section version they go with."""

    save: str | None
    load: str | None
    how: str
    """``SaveVMHandlers``, ``register_savevm``, ``VMStateInfo`` or ``name``."""
    section: str | None = None
    version: int | None = None
    version_line: int | None = None


@dataclass(frozen=True, slots=True)
class StreamFile:
    functions: Mapping[str, StreamFunction]
    pairings: tuple[Pairing, ...]
    infos: Mapping[str, tuple[str | None, str | None]] = field(default_factory=dict)
    """``VMStateInfo`` variable -> (put, get) function."""


def _text(toks: Sequence[Token]) -> str:
    out = ""
    for t in toks:
        word = t.kind != Kind.PUNCT and out[-1:] not in ("(", ".", ">", "[", "!", "&", "*")
        if out and (word or t.text in ("=", "==", "!=", "&&", "||", "<", ">", "{")):
            out += " "
        out += t.text
    return out.replace("- >", "->").replace(" ,", ",")


def stream_file(text: str, path: str) -> StreamFile:
    """The stream functions of a file (those that call ``qemu_put_*``/``qemu_get_*``
    or save/load a VMSD through a ``QEMUFile``), helpers inlined, and how they pair."""
    cfile = scan_c(text, path)
    try:
        toks = [t for t in tokenize(text, path) if not t.directive]
    except LexError:
        return StreamFile({}, ())
    bodies = {fb.name: fb for fb in cfile.functions}
    lines = text.split("\n")
    direct = {name for name, fb in bodies.items() if _calls_stream(fb.tokens)}
    grown = True
    while grown:  # and the functions that call those (with the QEMUFile)
        more = {
            name
            for name, fb in bodies.items()
            if name not in direct and _calls_any(fb.tokens, direct)
        }
        direct |= more
        grown = bool(more)
    funcs: dict[str, StreamFunction] = {}
    for name in sorted(direct):
        fb = bodies[name]
        nodes = _parse(fb, bodies, direct, lines, depth=0)
        checks = tuple(
            b.version for b in _blocks(nodes) if b.kind == "version" and b.version is not None
        )
        funcs[name] = StreamFunction(name, fb.line, fb.end_line, tuple(nodes), checks)
    pairings, infos = _pairings(cfile, toks, funcs)
    return StreamFile(funcs, tuple(pairings), infos)


def _calls_stream(toks: Sequence[Token]) -> bool:
    return any(
        t.kind == Kind.IDENT
        and (_SCALAR.match(t.text) or t.text in _OTHER or t.text in _VMSD_CALLS)
        and k + 1 < len(toks)
        and toks[k + 1].text == "("
        for k, t in enumerate(toks)
    )


def _calls_any(toks: Sequence[Token], names: set[str]) -> bool:
    return any(
        t.kind == Kind.IDENT and t.text in names and k + 1 < len(toks) and toks[k + 1].text == "("
        for k, t in enumerate(toks)
    )


def _blocks(nodes: Iterable[Node]) -> Iterable[Block]:
    for n in nodes:
        if isinstance(n, Block):
            yield n
            yield from _blocks(n.body)
            yield from _blocks(n.orelse)


def _file_var(toks: Sequence[Token]) -> str | None:
    """The ``QEMUFile`` variable: the first argument of the stream calls."""
    for k, t in enumerate(toks[:-2]):
        if (
            t.kind == Kind.IDENT
            and (_SCALAR.match(t.text) or t.text in _OTHER)
            and toks[k + 1].text == "("
        ):
            return toks[k + 2].text
    return None


def _parse(
    fb: FunctionBody,
    bodies: Mapping[str, FunctionBody],
    direct: set[str],
    lines: Sequence[str],
    depth: int,
) -> list[Node]:
    toks = list(fb.tokens)
    if toks and toks[0].text == "{":
        toks = toks[1 : matching(toks, 0)]
    ctx = _Ctx(_file_var(fb.tokens) or "f", bodies, direct, depth, fb.name, lines)
    return _stmts(toks, 0, len(toks), ctx)


@dataclass
class _Ctx:
    file_var: str
    bodies: Mapping[str, FunctionBody]
    direct: set[str]
    depth: int
    name: str
    lines: Sequence[str]

    def source(self, toks: Sequence[Token]) -> str:
        """The call as the source spells it (whitespace collapsed)."""
        a, b = toks[0], toks[-1]
        if not a.col or not b.col or not 0 < a.line <= b.line <= len(self.lines):
            return _text(toks)
        if a.line == b.line:
            piece = self.lines[a.line - 1][a.col - 1 : b.col - 1 + len(b.text)]
        else:
            piece = " ".join(
                [
                    self.lines[a.line - 1][a.col - 1 :],
                    *self.lines[a.line : b.line - 1],
                    self.lines[b.line - 1][: b.col - 1 + len(b.text)],
                ]
            )
        return re.sub(r"\s+", " ", piece).replace("( ", "(").strip()


def _stmts(toks: list[Token], i: int, end: int, ctx: _Ctx) -> list[Node]:
    out: list[Node] = []
    while i < end:
        nodes, j = _stmt(toks, i, end, ctx)
        out.extend(nodes)
        i = max(j, i + 1)
    return out


def _paren(toks: list[Token], i: int, end: int) -> int:
    """Index of the ``)`` closing the ``(`` at ``i`` (bounded by ``end``)."""
    if i >= end or toks[i].text != "(":
        return i
    return min(matching(toks, i), end)


def _stmt(toks: list[Token], i: int, end: int, ctx: _Ctx) -> tuple[list[Node], int]:
    t = toks[i]
    if t.text == "{":
        j = min(matching(toks, i), end)
        return _stmts(toks, i + 1, j, ctx), j + 1
    if t.text == "if":
        rp = _paren(toks, i + 1, end)
        cond = toks[i + 2 : rp]
        pre = _ops(cond, ctx)
        then, k = _stmt(toks, rp + 1, end, ctx) if rp + 1 < end else ([], rp + 1)
        orelse: list[Node] = []
        if k < end and toks[k].text == "else":
            orelse, k = _stmt(toks, k + 1, end, ctx)
        return [*pre, _block(cond, then, orelse, t.line)], k
    if t.text in ("for", "while", "switch"):
        rp = _paren(toks, i + 1, end)
        header = _ops(toks[i + 2 : rp], ctx)
        body, k = _stmt(toks, rp + 1, end, ctx) if rp + 1 < end else ([], rp + 1)
        if toks[rp + 1 : rp + 2] and toks[rp + 1].text == ";":
            body, k = [], rp + 2
        kind = "switch" if t.text == "switch" else "loop"
        if kind == "switch":
            return [*header, Block(kind, "", tuple(body), t.line)], k
        return [Block(kind, "", tuple(header + body), t.line)], k
    if t.text == "do":
        body, k = _stmt(toks, i + 1, end, ctx)
        header = []
        if k < end and toks[k].text == "while":
            rp = _paren(toks, k + 1, end)
            header = _ops(toks[k + 2 : rp], ctx)
            k = rp + 1
            if k < end and toks[k].text == ";":
                k += 1
        return [Block("loop", "", tuple(body + header), t.line)], k
    if t.text in ("case", "default"):
        k = i
        while k < end and toks[k].text != ":":
            k += 1
        return [], k + 1
    if t.kind == Kind.IDENT and i + 1 < end and toks[i + 1].text == ":":
        return [], i + 2  # a label
    if t.kind == Kind.IDENT and i + 1 < end and toks[i + 1].text == "(":
        rp = _paren(toks, i + 1, end)
        if rp + 1 < end and toks[rp + 1].text == "{":
            # a loop macro: QTAILQ_FOREACH(se, &list, entry) { ... }
            header = _ops(toks[i + 2 : rp], ctx)
            body, k = _stmt(toks, rp + 1, end, ctx)
            return [Block("loop", "", tuple(header + body), t.line)], k
    # a plain statement: up to its ';' outside brackets
    k, depth = i, 0
    while k < end:
        x = toks[k].text
        if x in ("(", "[", "{"):
            depth += 1
        elif x in (")", "]", "}"):
            depth -= 1
        elif x == ";" and depth <= 0:
            break
        k += 1
    ops = _ops(toks[i:k], ctx)
    if t.text == "return" and i + 1 < k and toks[i + 1].text == "-":
        ops.append(Op("refuse", t.line, ctx.source(toks[i:k])))
    return ops, k + 1


def _block(cond: Sequence[Token], then: list[Node], orelse: list[Node], line: int) -> Block:
    text = _text(cond)
    m = _VERSION_COND.match(text)
    if m:
        if m.group(1):
            version = (m.group(2), int(m.group(3)))
        else:
            version = (_FLIP[m.group(5)], int(m.group(4)))
        return Block("version", text, tuple(then), line, tuple(orelse), version)
    return Block("if", text, tuple(then), line, tuple(orelse))


def _ops(toks: Sequence[Token], ctx: _Ctx) -> list[Node]:
    out: list[Node] = []
    toks = list(toks)
    for k, t in enumerate(toks):
        if t.kind != Kind.IDENT or k + 1 >= len(toks) or toks[k + 1].text != "(":
            continue
        if k > 0 and toks[k - 1].text in (".", "->"):
            continue
        rp = matching(toks, k + 1)
        call = toks[k : rp + 1]
        args = split_top(toks[k + 2 : rp])
        name = t.text
        scalar = _SCALAR.match(name)
        if scalar:
            out.append(Op(_WIDTH[scalar.group(2)], t.line, ctx.source(call)))
        elif name in _OTHER:
            out.append(Op(_OTHER[name], t.line, ctx.source(call)))
        elif name in _VMSD_CALLS and len(args) >= 2:
            target = [a.text for a in args[1] if a.kind == Kind.IDENT]
            ident = target[-1] if target else "?"
            out.append(Op(f"vmsd:{ident}", t.line, ctx.source(call)))
        elif any(len(a) == 1 and a[0].text == ctx.file_var for a in args):
            if name.startswith(_SILENT_PREFIXES) or name == ctx.name:
                continue
            if name in ctx.direct and ctx.depth < 4:
                out.extend(
                    _parse(ctx.bodies[name], ctx.bodies, ctx.direct, ctx.lines, ctx.depth + 1)
                )
            elif name in ctx.bodies and ctx.depth < 4:
                continue  # a helper of this file that writes nothing itself
            elif _OPAQUE_WORDS.search(name):
                out.append(Op("call:" + _OPAQUE_WORDS.sub(_at, name), t.line, ctx.source(call)))
    return out


def _at(m: re.Match[str]) -> str:
    return m.group(0).replace(m.group(1), "@")


# --- flattening ------------------------------------------------------------------------


def words(
    nodes: Sequence[Node], version: int | None = None, *, ops: list[Op] | None = None
) -> list[str]:
    """The stream as a list of words: one per element, with ``if{``, ``else{``,
    ``loop{``, ``switch{`` and ``}`` around the elements under them (a block
    with no element is left out). ``version``: the stream version to resolve
    branches on it with (None keeps them as ``v>=3{`` ... ``}``). ``ops``, when
    given, receives the `Op` of each element word (None for markers) in step."""
    out: list[str] = []
    sink: list[Op | None] = []
    _flatten(nodes, version, out, sink)
    if ops is not None:
        ops.extend(o for o in sink if o is not None)
    return out


def words_with_ops(
    nodes: Sequence[Node], version: int | None = None
) -> list[tuple[str, Op | None]]:
    out: list[str] = []
    sink: list[Op | None] = []
    _flatten(nodes, version, out, sink)
    return list(zip(out, sink, strict=True))


def _flatten(
    nodes: Sequence[Node],
    version: int | None,
    out: list[str],
    sink: list[Op | None],
    refusing: bool = False,
) -> None:
    """``refusing``: a ``return -E...`` here refuses the stream version (a branch
    on the version, taken); elsewhere it is error handling and not a word."""
    for n in nodes:
        if isinstance(n, Op):
            if n.word != "refuse" or refusing:
                out.append(n.word)
                sink.append(n)
            continue
        if n.kind == "version" and n.version is not None and version is not None:
            taken = holds(n.version, version)
            _flatten(n.body if taken else n.orelse, version, out, sink, refusing=True)
            continue
        label = f"v{n.version[0]}{n.version[1]}" if n.version else n.kind
        then_w: list[str] = []
        then_s: list[Op | None] = []
        else_w: list[str] = []
        else_s: list[Op | None] = []
        _flatten(n.body, version, then_w, then_s)
        _flatten(n.orelse, version, else_w, else_s)
        # `if (x) { put_be32(1); ... } else { put_be32(0); }` writes its flag on
        # both paths: the same stream as `put_be32(x ? 1 : 0); if (x) { ... }`.
        k = 0
        while (
            k < len(then_w)
            and k < len(else_w)
            and then_w[k] == else_w[k]
            and not then_w[k].endswith(("{", "}"))
        ):
            k += 1
        out.extend(then_w[:k])
        sink.extend(then_s[:k])
        _wrap(label, then_w[k:], then_s[k:], out, sink)
        _wrap("else", else_w[k:], else_s[k:], out, sink)


def _wrap(
    label: str, inner: list[str], inner_sink: list[Op | None], out: list[str], sink: list[Op | None]
) -> None:
    if inner:
        out.extend([label + "{", *inner, "}"])
        sink.extend([None, *inner_sink, None])


def holds(check: tuple[str, int], version: int) -> bool:
    op, n = check
    return {
        ">=": version >= n,
        ">": version > n,
        "<=": version <= n,
        "<": version < n,
        "==": version == n,
        "!=": version != n,
    }[op]


# --- pairings --------------------------------------------------------------------------


def counterpart(name: str) -> str | None:
    """``foo_save_config`` -> ``foo_load_config``, ``put_foo`` -> ``get_foo``."""
    swaps = {"save": "load", "load": "save", "put": "get", "get": "put"}
    parts = name.split("_")
    for k, p in enumerate(parts):
        if p in swaps:
            return "_".join([*parts[:k], swaps[p], *parts[k + 1 :]])
    return None


def is_save(name: str) -> bool:
    parts = name.split("_")
    return "save" in parts or "put" in parts


def _pairings(
    cfile: CFile, toks: Sequence[Token], funcs: Mapping[str, StreamFunction]
) -> tuple[list[Pairing], dict[str, tuple[str | None, str | None]]]:
    out: list[Pairing] = []
    infos: dict[str, tuple[str | None, str | None]] = {}
    handlers: dict[str, tuple[str | None, str | None]] = {}
    paired: set[str] = set()
    for kind, var, fields in _initializers(toks):
        if kind == "SaveVMHandlers":
            handlers[var] = (fields.get("save_state"), fields.get("load_state"))
        elif kind == "VMStateInfo":
            infos[var] = (fields.get("put"), fields.get("get"))
            out.append(Pairing(fields.get("put"), fields.get("get"), "VMStateInfo", var))
    for reg in _registrations(cfile, toks):
        save, load = reg.save, reg.load
        if reg.handlers is not None:
            save, load = handlers.get(reg.handlers, (None, None))
        if save is None and load is None:
            continue
        out.append(Pairing(save, load, reg.how, reg.section, reg.version, reg.line))
    for p in out:
        paired.update(x for x in (p.save, p.load) if x)
    for var, (save, load) in handlers.items():
        if save not in paired and load not in paired and (save or load):
            out.append(Pairing(save, load, "SaveVMHandlers", var))
            paired.update(x for x in (save, load) if x)
    for name in sorted(funcs):
        if name in paired or not is_save(name):
            continue
        other = counterpart(name)
        if other is not None and other in funcs and other not in paired:
            out.append(Pairing(name, other, "name"))
            paired.update((name, other))
    return out, infos


@dataclass(frozen=True, slots=True)
class _Registration:
    how: str
    section: str | None
    version: int | None
    line: int
    handlers: str | None = None
    save: str | None = None
    load: str | None = None


def _initializers(toks: Sequence[Token]) -> Iterable[tuple[str, str, dict[str, str]]]:
    """``SaveVMHandlers x = { ... }`` and ``VMStateInfo x = { ... }`` at file scope."""
    for k, t in enumerate(toks):
        if t.text not in ("SaveVMHandlers", "VMStateInfo"):
            continue
        j = k + 1
        while j < len(toks) and toks[j].text not in ("=", ";", "(", ")", ","):
            j += 1
        if j + 1 >= len(toks) or toks[j].text != "=" or toks[j + 1].text != "{":
            continue
        var = toks[j - 1].text
        end = matching(toks, j + 1)
        fields: dict[str, str] = {}
        for item in split_top(toks[j + 2 : end]):
            if len(item) >= 4 and item[0].text == "." and item[2].text == "=":
                ident = [x.text for x in item[3:] if x.kind == Kind.IDENT]
                if ident:
                    fields[item[1].text] = ident[-1]
        yield t.text, var, fields


def _registrations(cfile: CFile, toks: Sequence[Token]) -> Iterable[_Registration]:
    """``register_savevm_live(..., version, &handlers, opaque)`` and the older
    ``register_savevm(dev, "name", instance, version, save, load, opaque)``."""
    consts = cfile.constants()
    for k, t in enumerate(toks[:-1]):
        if t.text not in ("register_savevm_live", "register_savevm") or toks[k + 1].text != "(":
            continue
        if (
            k > 0
            and toks[k - 1].kind in (Kind.IDENT, Kind.KEYWORD)
            and toks[k - 1].text != "return"
        ):
            continue  # its declaration or definition
        args = split_top(toks[k + 2 : matching(toks, k + 1)])
        section = next(
            (
                a[0].text.strip('"')
                for a in args
                if len(a) == 1 and a[0].kind == Kind.LITERAL and a[0].text.startswith('"')
            ),
            None,
        )
        if t.text == "register_savevm_live":
            at = next((n for n, a in enumerate(args) if len(a) == 2 and a[0].text == "&"), None)
            if at is None or at == 0:
                continue
            yield _Registration(
                t.text, section, _int(args[at - 1], consts), t.line, handlers=args[at][1].text
            )
        elif len(args) >= 7:
            yield _Registration(
                t.text,
                section,
                _int(args[3], consts),
                t.line,
                save=_ident(args[4]),
                load=_ident(args[5]),
            )


def _ident(toks: Sequence[Token]) -> str | None:
    idents = [t.text for t in toks if t.kind == Kind.IDENT]
    return idents[-1] if len(idents) == 1 else None


def _int(toks: Sequence[Token], consts: Mapping[str, Sequence[Token]]) -> int | None:
    return int_value(toks, consts)
