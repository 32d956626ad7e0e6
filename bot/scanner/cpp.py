"""Just enough of the C preprocessor: directives, conditions, macro expansion.

The scanner never runs the real preprocessor (no headers, no build). It keeps
``#define``s so it can expand the ``VMSTATE_*`` macros it meets into the
``VMStateField`` initializers they stand for, and it remembers under which
``#if`` each code token sits.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from bot.errors import InputError
from bot.scanner.lexer import Kind, Token


@dataclass(frozen=True, slots=True)
class Define:
    name: str
    params: tuple[str, ...] | None
    """None for object-like macros; ``__VA_ARGS__`` stands for ``...``."""
    body: tuple[Token, ...]
    line: int
    path: str = ""

    @property
    def function_like(self) -> bool:
        return self.params is not None


@dataclass(frozen=True, slots=True)
class CodeToken:
    """A token outside directives, with the ``#if`` stack it sits under."""

    tok: Token
    condition: str | None

    @property
    def text(self) -> str:
        return self.tok.text

    @property
    def line(self) -> int:
        return self.tok.line

    @property
    def kind(self) -> Kind:
        return self.tok.kind


@dataclass(frozen=True, slots=True)
class Directive:
    keyword: str
    tokens: tuple[Token, ...]
    line: int


@dataclass(frozen=True, slots=True)
class Preprocessed:
    code: tuple[CodeToken, ...]
    defines: tuple[Define, ...]
    directives: tuple[Directive, ...]


def split_directives(tokens: Sequence[Token], path: str = "") -> Preprocessed:
    """Separate directives from code; annotate code with its ``#if`` condition."""
    code: list[CodeToken] = []
    defines: list[Define] = []
    directives: list[Directive] = []
    stack: list[str] = []
    i = 0
    n = len(tokens)
    while i < n:
        tok = tokens[i]
        if not tok.directive:
            code.append(CodeToken(tok, " && ".join(stack) if stack else None))
            i += 1
            continue
        j = i
        while j < n and tokens[j].directive == tok.directive:
            j += 1
        group = tokens[i + 1 : j]
        i = j
        if not group:
            continue
        keyword = group[0].text
        rest = tuple(group[1:])
        directives.append(Directive(keyword, rest, tok.line))
        if keyword == "define" and rest:
            defines.append(_parse_define(rest, path))
        else:
            track_condition(stack, keyword, rest)
    return Preprocessed(tuple(code), tuple(defines), tuple(directives))


def track_condition(stack: list[str], keyword: str, rest: Sequence[Token]) -> None:
    """Keep ``stack`` as the conditions around the current line, spelt as C
    (``defined(X)``, ``!(A) && B`` for an ``#elif B``), through one directive."""
    if keyword in ("if", "ifdef", "ifndef"):
        cond = " ".join(t.text for t in rest)
        stack.append(
            {"ifdef": f"defined({cond})", "ifndef": f"!defined({cond})"}.get(keyword, cond)
        )
    elif keyword in ("else", "elif") and stack:
        alt = f"!({stack.pop()})"
        if keyword == "elif":
            alt += " && " + " ".join(t.text for t in rest)
        stack.append(alt)
    elif keyword == "endif" and stack:
        stack.pop()


def _parse_define(rest: tuple[Token, ...], path: str) -> Define:
    name_tok = rest[0]
    params: tuple[str, ...] | None = None
    body_start = 1
    # Function-like only when '(' follows the name with no space in between:
    # `#define X(a)` is a macro with a parameter, `#define X (16)` a constant.
    if (
        len(rest) > 1
        and rest[1].text == "("
        and rest[1].line == name_tok.line
        and (not name_tok.col or rest[1].col == name_tok.col + len(name_tok.text))
    ):
        plist: list[str] = []
        k = 2
        while k < len(rest) and rest[k].text != ")":
            if rest[k].text != ",":
                plist.append("__VA_ARGS__" if rest[k].text == "..." else rest[k].text)
            k += 1
        params = tuple(plist)
        body_start = k + 1
    return Define(name_tok.text, params, rest[body_start:], name_tok.line, path)


def split_args(tokens: Sequence[Token], start: int) -> tuple[list[list[Token]], int]:
    """Arguments of a call whose '(' is at ``start``; returns (args, index after ')')."""
    args: list[list[Token]] = [[]]
    depth = 0
    i = start + 1
    while i < len(tokens):
        t = tokens[i].text
        if t in ("(", "[", "{"):
            depth += 1
        elif t in (")", "]", "}"):
            if depth == 0:
                if t != ")":
                    raise ExpansionError(f"unbalanced '{t}' in macro arguments")
                if args == [[]]:
                    args = []
                return args, i + 1
            depth -= 1
        elif t == "," and depth == 0:
            args.append([])
            i += 1
            continue
        args[-1].append(tokens[i])
        i += 1
    raise ExpansionError("unterminated macro call")


class ExpansionError(InputError):
    pass


_MAX_EXPANSIONS = 400


def expand(
    tokens: Sequence[Token],
    macros: Mapping[str, Define],
    *,
    only: Iterable[str] | None = None,
) -> list[Token]:
    """Expand function-like macros in ``tokens`` (C rules, simplified).

    ``only`` limits which names may expand (None: every function-like macro).
    Raises ExpansionError on runaway or malformed expansions.
    """
    allowed = set(only) if only is not None else None
    budget = [_MAX_EXPANSIONS]
    return list(_expand(list(tokens), macros, allowed, frozenset(), budget))


def _expand(
    tokens: list[Token],
    macros: Mapping[str, Define],
    allowed: set[str] | None,
    hidden: frozenset[str],
    budget: list[int],
) -> Iterator[Token]:
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        d = macros.get(tok.text) if tok.kind == Kind.IDENT else None
        if (
            d is None
            or not d.function_like
            or tok.text in hidden
            or (allowed is not None and tok.text not in allowed)
            or i + 1 >= len(tokens)
            or tokens[i + 1].text != "("
        ):
            yield tok
            i += 1
            continue
        budget[0] -= 1
        if budget[0] < 0:
            raise ExpansionError("macro expansion too deep")
        args, after = split_args(tokens, i + 1)
        body = substitute(d, args, macros, allowed, hidden, budget, line=tok.line)
        rest = tokens[after:]
        # Rescan the result together with what follows, with this macro hidden.
        yield from _expand(body, macros, allowed, hidden | {d.name}, budget)
        tokens = rest
        i = 0


def substitute(
    d: Define,
    args: list[list[Token]],
    macros: Mapping[str, Define],
    allowed: set[str] | None,
    hidden: frozenset[str],
    budget: list[int],
    *,
    line: int,
) -> list[Token]:
    """The body of ``d`` with parameters replaced (handles ``#`` and ``##``)."""
    assert d.params is not None
    params = d.params
    binding: dict[str, list[Token]] = {}
    for k, p in enumerate(params):
        if p == "__VA_ARGS__":
            va: list[Token] = []
            for m, a in enumerate(args[k:]):
                if m:
                    va.append(Token(Kind.PUNCT, ",", line))
                va.extend(a)
            binding[p] = va
        else:
            binding[p] = args[k] if k < len(args) else []
    out: list[Token] = []
    body = d.body
    j = 0
    while j < len(body):
        t = body[j]
        if t.text == "#" and j + 1 < len(body) and body[j + 1].text in binding:
            text = " ".join(a.text for a in binding[body[j + 1].text])
            out.append(Token(Kind.LITERAL, '"' + text.replace('"', '\\"') + '"', line))
            j += 2
            continue
        if t.text == "##" and out and j + 1 < len(body):
            nxt = body[j + 1]
            right = binding.get(nxt.text, [nxt]) if nxt.kind == Kind.IDENT else [nxt]
            left = out.pop()
            if right:
                out.append(Token(Kind.IDENT, left.text + right[0].text, line))
                out.extend(Token(r.kind, r.text, line) for r in right[1:])
            else:
                out.append(left)
            j += 2
            continue
        if t.kind == Kind.IDENT and t.text in binding:
            pasted = (j + 1 < len(body) and body[j + 1].text == "##") or (
                j > 0 and body[j - 1].text == "##"
            )
            arg = binding[t.text]
            if pasted:
                out.extend(Token(a.kind, a.text, line) for a in arg)
            else:
                out.extend(
                    Token(a.kind, a.text, line)
                    for a in _expand(list(arg), macros, allowed, hidden, budget)
                )
            j += 1
            continue
        out.append(Token(t.kind, t.text, line))
        j += 1
    return out
