"""The build a real ``-dump-vmstate`` comes from, for reading ``#if`` in structs.

A dump's ``size`` is the C compiler's ``sizeof``, so a member under ``#if``
counts or not as the binary was configured. The binaries migbot's dumps are
held against are built the usual way: on an x86_64 Linux host with GCC, as
``qemu-system-<target>`` (softmmu, never user mode), with KVM when the target
runs on the host's CPU (i386 and x86_64), TCG on, no debug options. What that
build decides is written here as facts; what the tree decides
(``TARGET_BIG_ENDIAN``, the target's arch names) is read from
``configs/targets/<target>.mak``; every other symbol is unknown, and a
condition that depends on one is undecided (None), never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.scanner.lexer import Kind, LexError, Token, tokenize

HOST_DEFINED: Mapping[str, int] = {
    # config-host.h of an x86_64 Linux build with GCC
    "CONFIG_LINUX": 1,
    "CONFIG_POSIX": 1,
    "CONFIG_INT128": 1,
    "CONFIG_ATOMIC64": 1,
    "CONFIG_EVENTFD": 1,
    "CONFIG_SOFTMMU": 1,
    "CONFIG_SYSTEM_ONLY": 1,
    "CONFIG_TCG": 1,
    "HOST_X86_64": 1,
    "HOST_LONG_BITS": 64,
    "NEED_CPU_H": 1,
    # the compiler's own
    "__linux__": 1,
    "__x86_64__": 1,
    "__LP64__": 1,
    "__GNUC__": 12,
    "__SIZEOF_POINTER__": 8,
    "__SIZEOF_LONG__": 8,
    "__SIZEOF_INT128__": 16,
}
"""Symbols the build defines, with their values."""

HOST_UNDEFINED = frozenset(
    {
        "CONFIG_USER_ONLY",
        "CONFIG_BSD_USER",
        "CONFIG_LINUX_USER",
        "CONFIG_WIN32",
        "CONFIG_DARWIN",
        "CONFIG_BSD",
        "CONFIG_SOLARIS",
        "CONFIG_DEBUG_MUTEX",
        "CONFIG_DEBUG_TCG",
        "CONFIG_DEBUG_STACK_USAGE",
        "CONFIG_TSAN",
        "CONFIG_CFI",
        "HOST_BIG_ENDIAN",
        "HOST_WORDS_BIGENDIAN",
        "_WIN32",
        "_WIN64",
        "__APPLE__",
        "__FreeBSD__",
        "__NetBSD__",
        "__OpenBSD__",
        "__sun__",
        "__i386__",
        "__aarch64__",
        "__arm__",
        "__powerpc__",
        "__powerpc64__",
        "__s390x__",
        "__mips__",
        "__riscv",
        "__sparc__",
        "__loongarch64",
    }
)
"""Symbols that build leaves undefined."""

KVM_ON_X86_64_HOST = frozenset({"i386", "x86_64"})
"""Targets whose binary has KVM on an x86_64 host (meson: the host's CPU family)."""

Value = int | None
Lookup = Callable[[str], Value]


@dataclass(frozen=True, slots=True)
class BuildConfig:
    defined: Mapping[str, int] = field(default_factory=lambda: dict(HOST_DEFINED))
    undefined: frozenset[str] = HOST_UNDEFINED
    arch: str | None = None
    """The target's base arch (``arm`` for aarch64): the one ``target/`` directory built."""

    @classmethod
    def for_target(
        cls, target: str | None, mak_text: str = "", mak_names: Sequence[str] = ()
    ) -> BuildConfig:
        """The build of ``qemu-system-<target>`` (``x86_64-softmmu`` or ``x86_64``):
        ``mak_text`` is its ``configs/targets/<target>-softmmu.mak``, ``mak_names``
        the names of every file there. No target: the host's facts only."""
        defined = dict(HOST_DEFINED)
        if target is None:
            return cls(defined)
        name = target.removesuffix("-softmmu")
        mak = _mak(mak_text)
        arch = mak.get("TARGET_ARCH", name)
        base = mak.get("TARGET_BASE_ARCH", arch)
        undefined = set(HOST_UNDEFINED)
        for a in {arch, base}:
            defined[f"TARGET_{a.upper()}"] = 1
        defined["TARGET_NAME"] = 1
        if mak.get("TARGET_BIG_ENDIAN") == "y":
            defined["TARGET_BIG_ENDIAN"] = 1
        else:
            undefined.add("TARGET_BIG_ENDIAN")
            undefined.add("TARGET_WORDS_BIGENDIAN")
        if name in KVM_ON_X86_64_HOST:
            defined["CONFIG_KVM"] = 1
        else:
            undefined.add("CONFIG_KVM")
        # the other targets' arch names: TARGET_PPC64 is undefined in the aarch64 binary
        for mak_name in mak_names:
            other = re.match(r"^(\w+)-(?:softmmu|linux-user|bsd-user)\.mak$", mak_name)
            if other and f"TARGET_{other.group(1).upper()}" not in defined:
                undefined.add(f"TARGET_{other.group(1).upper()}")
        return cls(defined, frozenset(undefined), base)

    def value(self, name: str) -> Value:
        if name in self.defined:
            return self.defined[name]
        if name in self.undefined:
            return 0
        return None

    def holds(self, condition: str | None, lookup: Lookup | None = None) -> bool | None:
        """Whether code under ``condition`` (an ``#if`` expression, or several joined
        with ``&&``) is compiled: None when it depends on something not known.
        ``lookup`` values other identifiers (the tree's ``#define``s)."""
        if condition is None:
            return True
        try:
            toks = [t for t in tokenize(condition, "<if>") if t.kind != Kind.COMMENT]
        except LexError:
            return None
        p = _Parser(toks, self, lookup)
        try:
            v = p.expr()
        except _Unparsed:
            return None
        if p.k != len(toks) or v is None:
            return None
        return v != 0


def _mak(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        k, sep, v = line.partition("=")
        if sep:
            out[k.strip()] = v.strip()
    return out


class _Unparsed(Exception):
    pass


_BINARY: Sequence[tuple[str, ...]] = (
    ("||",),
    ("&&",),
    ("|",),
    ("^",),
    ("&",),
    ("==", "!="),
    ("<", ">", "<=", ">="),
    ("<<", ">>"),
    ("+", "-"),
    ("*", "/", "%"),
)


class _Parser:
    """Three-valued C preprocessor arithmetic: None is 'not known', and
    ``0 && x`` or ``1 || x`` are known whatever x is."""

    def __init__(self, toks: Sequence[Token], config: BuildConfig, lookup: Lookup | None) -> None:
        self.toks = toks
        self.k = 0
        self.config = config
        self.lookup = lookup

    def peek(self) -> str:
        return self.toks[self.k].text if self.k < len(self.toks) else ""

    def take(self, text: str | None = None) -> Token:
        if self.k >= len(self.toks) or (text is not None and self.toks[self.k].text != text):
            raise _Unparsed
        self.k += 1
        return self.toks[self.k - 1]

    def expr(self) -> Value:
        cond = self.binary(0)
        if self.peek() != "?":
            return cond
        self.take("?")
        a = self.expr()
        self.take(":")
        b = self.expr()
        if cond is None:
            return a if a == b else None
        return a if cond else b

    def binary(self, level: int) -> Value:
        if level == len(_BINARY):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek() in _BINARY[level]:
            op = self.take().text
            right = self.binary(level + 1)
            left = _apply(op, left, right)
        return left

    def unary(self) -> Value:
        t = self.peek()
        if t in ("!", "-", "~", "+"):
            self.take()
            v = self.unary()
            if v is None:
                return None
            return {"!": int(not v), "-": -v, "~": ~v, "+": v}[t]
        return self.primary()

    def primary(self) -> Value:
        tok = self.take()
        if tok.text == "(":
            v = self.expr()
            self.take(")")
            return v
        if tok.text == "defined":
            paren = self.peek() == "("
            if paren:
                self.take("(")
            name = self.take().text
            if paren:
                self.take(")")
            v = self.config.value(name)
            if v is None and self.lookup is not None and self.lookup(name) is not None:
                return 1
            return None if v is None else int(name in self.config.defined)
        if tok.kind == Kind.LITERAL:
            m = re.match(r"^(0[xX][0-9a-fA-F]+|\d+)[uUlL]*$", tok.text)
            if m is None:
                raise _Unparsed
            digits = m.group(1)
            octal = len(digits) > 1 and digits.isdigit() and digits[0] == "0"
            return int(digits, 8) if octal else int(digits, 0)
        if tok.kind in (Kind.IDENT, Kind.KEYWORD):
            if self.peek() == "(":  # a function-like macro: QEMU_VERSION_CHECK(...)
                depth = 0
                while self.k < len(self.toks):
                    t = self.take().text
                    depth += {"(": 1, ")": -1}.get(t, 0)
                    if depth == 0:
                        break
                return None
            v = self.config.value(tok.text)
            if v is None and self.lookup is not None:
                v = self.lookup(tok.text)
            return v
        raise _Unparsed


def _apply(op: str, a: Value, b: Value) -> Value:
    if op == "&&":
        if a == 0 or b == 0:
            return 0
        return None if a is None or b is None else 1
    if op == "||":
        if (a is not None and a != 0) or (b is not None and b != 0):
            return 1
        return None if a is None or b is None else 0
    if a is None or b is None:
        return None
    if op in ("/", "%") and b == 0:
        return None
    ops: dict[str, Callable[[int, int], int]] = {
        "|": lambda x, y: x | y,
        "^": lambda x, y: x ^ y,
        "&": lambda x, y: x & y,
        "==": lambda x, y: int(x == y),
        "!=": lambda x, y: int(x != y),
        "<": lambda x, y: int(x < y),
        ">": lambda x, y: int(x > y),
        "<=": lambda x, y: int(x <= y),
        ">=": lambda x, y: int(x >= y),
        "<<": lambda x, y: x << y if 0 <= y < 64 else 0,
        ">>": lambda x, y: x >> y if 0 <= y < 64 else 0,
        "+": lambda x, y: x + y,
        "-": lambda x, y: x - y,
        "*": lambda x, y: x * y,
        "/": lambda x, y: int(x / y),
        "%": lambda x, y: x - y * int(x / y),
    }
    return ops[op](a, b)
