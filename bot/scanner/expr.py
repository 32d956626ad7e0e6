"""Reading values out of C initializer expressions, without evaluating code."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping, Sequence

from bot.scanner.lexer import Kind, Token

C_TYPE_SIZES: Mapping[str, int] = {
    "bool": 1,
    "char": 1,
    "int8_t": 1,
    "uint8_t": 1,
    "int16_t": 2,
    "uint16_t": 2,
    "int32_t": 4,
    "uint32_t": 4,
    "int": 4,
    "unsigned": 4,
    "int64_t": 8,
    "uint64_t": 8,
    "float64": 8,
    "double": 8,
    "hwaddr": 8,
}


def text(tokens: Sequence[Token]) -> str:
    """Tokens joined the way a reader would write them."""
    out = ""
    prev = ""
    for t in tokens:
        s = t.text
        if out and prev not in _NO_SPACE_AFTER and s not in _NO_SPACE_BEFORE:
            out += " "
        out += s
        prev = s
    return out


_NO_SPACE_AFTER = frozenset({"(", "[", ".", "->", "!", "~", "&"})
_NO_SPACE_BEFORE = frozenset({")", "]", ",", ";", ".", "->", "(", "["})


def strip_parens(tokens: Sequence[Token]) -> list[Token]:
    toks = list(tokens)
    while len(toks) >= 2 and toks[0].text == "(" and toks[-1].text == ")" and _wraps(toks):
        toks = toks[1:-1]
    return toks


def _wraps(toks: Sequence[Token]) -> bool:
    depth = 0
    for k, t in enumerate(toks):
        if t.text == "(":
            depth += 1
        elif t.text == ")":
            depth -= 1
            if depth == 0 and k != len(toks) - 1:
                return False
    return True


def address_of(tokens: Sequence[Token]) -> str | None:
    """``&vmstate_foo`` or ``&(vmstate_foo)`` -> ``vmstate_foo``."""
    toks = strip_parens(tokens)
    if toks and toks[0].text == "&":
        toks = strip_parens(toks[1:])
    if len(toks) == 1 and toks[0].kind == Kind.IDENT:
        return toks[0].text
    return None


def identifier(tokens: Sequence[Token]) -> str | None:
    toks = strip_parens(tokens)
    if len(toks) == 1 and toks[0].kind == Kind.IDENT:
        return toks[0].text
    return None


def string_value(tokens: Sequence[Token], strings: Mapping[str, str]) -> str | None:
    """A string literal (adjacent literals joined), or a macro naming one."""
    toks = strip_parens(tokens)
    if toks and toks[0].text in ("stringify", "tostring") and len(toks) >= 4:
        return "".join(t.text for t in toks[2:-1])
    parts: list[str] = []
    for t in toks:
        if t.kind == Kind.LITERAL and t.text.startswith('"'):
            parts.append(_unquote(t.text))
        elif t.kind == Kind.IDENT and t.text in strings:
            parts.append(strings[t.text])
        else:
            return None
    return "".join(parts) if parts else None


def _unquote(lit: str) -> str:
    body = lit[1:-1]
    return body.replace('\\"', '"').replace("\\\\", "\\")


_INT_SUFFIX = re.compile(r"^(0[xX][0-9a-fA-F]+|\d+)[uUlL]*$")
_ALLOWED_BINOPS: dict[type[ast.operator], Callable[[int, int], int | None]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.FloorDiv: lambda a, b: a // b if b else None,
    ast.Mod: lambda a, b: a % b if b else None,
    ast.LShift: lambda a, b: a << b if 0 <= b < 64 else None,
    ast.RShift: lambda a, b: a >> b if 0 <= b < 64 else None,
    ast.BitOr: lambda a, b: a | b,
    ast.BitAnd: lambda a, b: a & b,
}


def int_value(
    tokens: Sequence[Token],
    ints: Mapping[str, Sequence[Token]] | Callable[[str], Sequence[Token] | None],
    *,
    _depth: int = 0,
) -> int | None:
    """Value of a constant integer expression, or None when it is not one.

    Identifiers resolve through object-like ``#define``s (``ints``).
    """
    if _depth > 12:
        return None
    lookup = ints if callable(ints) else ints.get
    pieces: list[str] = []
    toks = list(tokens)
    k = 0
    while k < len(toks):
        t = toks[k]
        if t.text == "sizeof" and k + 3 < len(toks) and toks[k + 1].text == "(":
            end = k + 2
            while end < len(toks) and toks[end].text != ")":
                end += 1
            inner = " ".join(x.text for x in toks[k + 2 : end])
            size = C_TYPE_SIZES.get(inner)
            if size is None:
                return None
            pieces.append(str(size))
            k = end + 1
            continue
        if t.kind == Kind.LITERAL:
            m = _INT_SUFFIX.match(t.text)
            if not m:
                return None
            digits = m.group(1)
            # C octal (0755) is not Python's 0o755
            octal = len(digits) > 1 and digits[0] == "0" and digits.isdigit()
            if octal and not set(digits) <= set("01234567"):
                return None
            pieces.append(str(int(digits, 8) if octal else int(digits, 0)))
        elif t.kind == Kind.IDENT:
            body = lookup(t.text)
            if body is None:
                return None
            v = int_value(body, ints, _depth=_depth + 1)
            if v is None:
                return None
            pieces.append(str(v))
        elif t.text in ("(", ")", "+", "-", "*", "%", "<<", ">>", "|", "&", "~"):
            pieces.append(t.text)
        elif t.text == "/":
            pieces.append("//")
        else:
            return None
        k += 1
    if not pieces:
        return None
    try:
        node = ast.parse(" ".join(pieces), mode="eval").body
    except SyntaxError:
        return None
    return _eval(node)


def _eval(node: ast.expr) -> int | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand)
        if v is None:
            return None
        if isinstance(node.op, ast.USub):
            return -v
        if isinstance(node.op, ast.UAdd):
            return v
        if isinstance(node.op, ast.Invert):
            return ~v
        return None
    if isinstance(node, ast.BinOp):
        op = _ALLOWED_BINOPS.get(type(node.op))
        a, b = _eval(node.left), _eval(node.right)
        if op is None or a is None or b is None:
            return None
        r = op(a, b)
        return r if isinstance(r, int) else None
    return None


def split_top(tokens: Sequence[Token], sep: str = ",") -> list[list[Token]]:
    """Split on ``sep`` outside brackets."""
    out: list[list[Token]] = [[]]
    depth = 0
    for t in tokens:
        if t.text in ("(", "[", "{"):
            depth += 1
        elif t.text in (")", "]", "}"):
            depth -= 1
        if t.text == sep and depth == 0:
            out.append([])
            continue
        out[-1].append(t)
    if out and not out[-1]:
        out.pop()
    return out


def matching(tokens: Sequence[Token], start: int) -> int:
    """Index of the bracket closing the one at ``start`` (or len on runaway)."""
    opening = tokens[start].text
    closing = {"(": ")", "[": "]", "{": "}"}[opening]
    depth = 0
    for k in range(start, len(tokens)):
        t = tokens[k].text
        if t == opening:
            depth += 1
        elif t == closing:
            depth -= 1
            if depth == 0:
                return k
    return len(tokens)


def designated(tokens: Sequence[Token]) -> dict[str, list[Token]] | None:
    """``{ .a = x, .b = y }`` (braces included or not) -> {"a": x, "b": y}.

    None when the tokens are not a designated initializer.
    """
    toks = list(tokens)
    if toks and toks[0].text == "{" and matching(toks, 0) == len(toks) - 1:
        toks = toks[1:-1]
    out: dict[str, list[Token]] = {}
    for item in split_top(toks):
        if len(item) >= 3 and item[0].text == "." and item[2].text == "=":
            out[item[1].text] = item[3:]
        elif item:
            return None
        # empty items come from trailing commas
    return out
