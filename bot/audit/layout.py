"""``sizeof`` of a tree's structs, as a 64-bit little-endian host's compiler lays them out.

What a real ``-dump-vmstate`` prints as the ``size`` of a struct field
(``VMSTATE_STRUCT``: the struct's ``sizeof``; ``VMSTATE_BUFFER``: the member's).
A definition is found with one ``git grep`` per name, read with the struct
scanner (`bot.scanner.structs`), and laid out with the C rules: each member at
its alignment, the struct padded to its largest one; a union is its largest
member. Whatever could be host- or build-dependent or is not understood gives
None, never a guess: a member under ``#if``, a bitfield, an anonymous nested
struct or union, ``QEMU_ALIGNED`` or ``__attribute__``, a type of the host's C
library (``QemuMutex``), a name defined twice with different layouts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from bot.scanner.expr import int_value
from bot.scanner.lexer import Kind, LexError, Token, tokenize
from bot.scanner.structs import CFile, Member, StructModel, scan_c
from bot.sources.gitrepo import GitRepo

SCALARS: Mapping[str, int] = {
    "char": 1,
    "signed char": 1,
    "unsigned char": 1,
    "bool": 1,
    "_Bool": 1,
    "int8_t": 1,
    "uint8_t": 1,
    "short": 2,
    "unsigned short": 2,
    "int16_t": 2,
    "uint16_t": 2,
    "int": 4,
    "signed": 4,
    "signed int": 4,
    "unsigned": 4,
    "unsigned int": 4,
    "int32_t": 4,
    "uint32_t": 4,
    "float": 4,
    "float32": 4,
    "long": 8,
    "unsigned long": 8,
    "long long": 8,
    "unsigned long long": 8,
    "int64_t": 8,
    "uint64_t": 8,
    "double": 8,
    "float64": 8,
    "size_t": 8,
    "ssize_t": 8,
    "hwaddr": 8,
    "ram_addr_t": 8,
    "vaddr": 8,
    "uintptr_t": 8,
    "intptr_t": 8,
}
"""Sizes (and alignments) of C and QEMU scalars on an LP64 host."""

_MAX_DEPTH = 24
_SKIPPED = ("tests/", "roms/", "subprojects/", "linux-headers/", "contrib/", "scripts/")
_DEFINING = r"(struct|union)[[:space:]]+[A-Za-z_]|\}[^;]*;|typedef[[:space:]]"
"""Lines that may define a struct, union or typedef name (``git grep -E``)."""
_DEFINED = re.compile(
    r"\b(?:struct|union)\s+(?:QEMU_PACKED\s+)?(?P<tag>[A-Za-z_]\w*)\s*(?:QEMU_PACKED\s*)?(?:\{|$)"
    r"|\}\s*(?:QEMU_PACKED\s*)?(?P<alias>[A-Za-z_]\w*)\s*;"
    r"|\btypedef\s[^;(]*?\b(?P<typedef>[A-Za-z_]\w*)\s*;"
    r"|\btypedef\s[^;]*?\(\s*\*\s*(?P<fnptr>[A-Za-z_]\w*)\s*\)"
)

Layout = tuple[int, int]
"""(size, alignment)."""


class StructLayouts:
    """Sizes of the structs of one tree, looked up on demand and remembered."""

    def __init__(
        self, git: GitRepo, tree_id: str, target_bits: int | None = None, *, jobs: int = 1
    ) -> None:
        self._git = git
        self._tree = tree_id
        self._target_bits = target_bits
        self._files: dict[str, CFile] = {}
        self._layouts: dict[str, Layout | None] = {}
        self._consts: dict[str, int | None] = {}
        self._busy: set[str] = set()
        self._defined_in: dict[str, set[str]] | None = None

    # --- what the dump asks -----------------------------------------------------------

    def sizeof(self, type_name: str) -> int | None:
        got = self._layout(_plain(type_name), 0)
        return got[0] if got is not None else None

    def member_size(self, struct: str, path: str) -> int | None:
        """``sizeof_field(struct, path)``; ``path`` may be ``a.b`` or ``a[2]``."""
        parts = re.findall(r"[A-Za-z_]\w*|\[[^\]]*\]", path)
        if not parts or not re.match(r"[A-Za-z_]", parts[0]):
            return None
        current: StructModel | None = self._struct(_plain(struct))
        layout: Layout | None = None
        member: Member | None = None
        k = 0
        while k < len(parts):
            if current is None:
                return None
            member = current.member(parts[k])
            if (
                member is None
                or member.nested
                or member.bitfield
                or member.condition != current.condition
            ):
                return None
            k += 1
            dims = list(member.dims)
            while k < len(parts) and parts[k].startswith("["):
                if not dims:
                    return None
                dims.pop(0)
                k += 1
            layout = self._member_layout(replace(member, dims=tuple(dims)), 0)
            if layout is None:
                return None
            if k < len(parts):
                current = member.inner or self._struct(_plain(member.type))
        return layout[0] if layout is not None else None

    # --- layouts ----------------------------------------------------------------------

    def _layout(self, name: str, depth: int) -> Layout | None:
        if name in SCALARS:
            return SCALARS[name], SCALARS[name]
        if name == "target_ulong" and self._target_bits:
            return self._target_bits // 8, self._target_bits // 8
        if name in self._layouts:
            return self._layouts[name]
        if depth > _MAX_DEPTH or name in self._busy or not re.fullmatch(r"[A-Za-z_]\w*", name):
            return None
        self._busy.add(name)
        try:
            found = self._definitions(name)
            layouts = {self._of(d, depth) for d in found}
            result = layouts.pop() if len(layouts) == 1 else None
        finally:
            self._busy.discard(name)
        self._layouts[name] = result
        return result

    def _of(self, d: StructModel | str, depth: int) -> Layout | None:
        if isinstance(d, str):  # a typedef of another type, of a pointer, or an enum
            if d == "*":
                return 8, 8
            return (4, 4) if d == "enum" else self._layout(d, depth + 1)
        if any(a != "QEMU_PACKED" for a in d.attributes):
            return None
        packed = "QEMU_PACKED" in d.attributes
        size, align = 0, 1
        for m in d.members:
            if m.nested or m.bitfield or m.condition != d.condition:
                return None
            got = self._member_layout(m, depth)
            if got is None:
                return None
            msize, malign = got
            if packed:
                malign = 1
            align = max(align, malign)
            size = max(size, msize) if d.union else -(-size // malign) * malign + msize
        if not d.members:
            return None
        return -(-size // align) * align, align

    def _member_layout(self, m: Member, depth: int) -> Layout | None:
        if m.pointer or m.type == "fnptr":
            base: Layout | None = (8, 8)
        elif m.inner is not None:
            base = self._of(m.inner, depth + 1)
        else:
            base = self._layout(_plain(m.type), depth + 1)
        if base is None:
            return None
        count = 1
        for dim in m.dims:
            n = self._dimension(dim)
            if n is None or n < 0:
                return None
            count *= n
        return base[0] * count, base[1]

    def _dimension(self, expr: str) -> int | None:
        try:
            toks = tokenize(expr, "<dim>")
        except LexError:
            return None
        return int_value(toks, self._constant)

    def _constant(self, name: str) -> Sequence[Token] | None:
        if name not in self._consts:
            self._consts[name] = None
            bodies = {
                tuple(t.text for t in c.define.body)
                for f in self._grep(rf"^[[:space:]]*#[[:space:]]*define[[:space:]]+{name}\b")
                for c in f.defines
                if c.define.name == name and not c.define.function_like
            }
            if len(bodies) == 1:
                body = bodies.pop()
                try:
                    value = int_value(tokenize(" ".join(body), "<const>"), self._constant)
                except LexError:
                    value = None
                self._consts[name] = value
        value = self._consts[name]
        return [Token(Kind.LITERAL, str(value), 0)] if value is not None else None

    # --- finding definitions ------------------------------------------------------------

    def _struct(self, name: str) -> StructModel | None:
        found = [d for d in self._definitions(name) if isinstance(d, StructModel)]
        return found[0] if len(found) == 1 else None

    def _definitions(self, name: str) -> list[StructModel | str]:
        out: list[StructModel | str] = []
        for f in self._files_of(self._where().get(name, ())):
            for s in f.structs:
                if name in s.names or f"struct {name}" in s.names:
                    out.append(s)
            out.extend(_typedefs(self._text(f.path), name))
        # one definition per layout: a header read twice is one
        unique: list[StructModel | str] = []
        for d in out:
            if d not in unique:
                unique.append(d)
        return unique

    def _where(self) -> dict[str, set[str]]:
        """The files that may define each struct, union or typedef name (one grep)."""
        if self._defined_in is None:
            raw = self._git.run(
                ["grep", "-I", "-E", "--no-color", "-e", _DEFINING, self._tree, "--", "*.h", "*.c"],
                ok=(0, 1),
            ).decode("utf-8", "surrogateescape")
            where: dict[str, set[str]] = {}
            for line in raw.splitlines():
                parts = line.split(":", 2)
                if len(parts) < 3 or parts[1].startswith(_SKIPPED):
                    continue
                for m in _DEFINED.finditer(parts[2]):
                    name = (
                        m.group("tag") or m.group("alias") or m.group("typedef") or m.group("fnptr")
                    )
                    where.setdefault(name, set()).add(parts[1])
            self._defined_in = where
        return self._defined_in

    def _grep(self, pattern: str) -> list[CFile]:
        raw = self._git.run(
            ["grep", "-l", "-E", "-e", pattern, self._tree, "--", "*.h", "*.c"], ok=(0, 1)
        ).decode("utf-8", "surrogateescape")
        return self._files_of(line.split(":", 1)[-1] for line in raw.splitlines())

    def _files_of(self, paths: Iterable[str]) -> list[CFile]:
        out = []
        for path in sorted(paths):
            if path.startswith(_SKIPPED):
                continue
            if path not in self._files:
                self._files[path] = scan_c(self._text(path), path)
            out.append(self._files[path])
        return out

    def _text(self, path: str) -> str:
        return self._git.read_path(self._tree, path) or ""


_TYPEDEF = re.compile(
    r"\btypedef\s+(?P<type>(?:unsigned\s+|signed\s+|struct\s+|enum\s+)?\w+)\s+"
    r"(?P<name>\w+)\s*;"
)
_POINTER = re.compile(
    r"\btypedef\s+[\w\s]+\*\s*(?P<name>\w+)\s*;"
    r"|\btypedef\s[^;{}]*?\(\s*\*\s*(?P<fn>\w+)\s*\)\s*\("
)
"""``typedef struct IRQState *qemu_irq;``, ``typedef int (*Handler)(...)``: 8 bytes."""
_ENUM = re.compile(r"\btypedef\s+enum\s*\w*\s*\{[^{}]*\}\s*(?P<name>\w+)\s*;")


def _typedefs(text: str, name: str) -> list[str]:
    """``typedef uint64_t Name;`` gives the type, ``typedef enum {...} Name;`` "enum"."""
    out = [m.group("type") for m in _TYPEDEF.finditer(text) if m.group("name") == name]
    out = [t for t in out if _plain(t) != name]
    out = [_plain(t) if not t.startswith("enum") else "enum" for t in out]
    out.extend("enum" for m in _ENUM.finditer(text) if m.group("name") == name)
    out.extend("*" for m in _POINTER.finditer(text) if name in (m.group("name"), m.group("fn")))
    return out


def _plain(type_text: str) -> str:
    words = [w for w in type_text.split() if w not in ("const", "volatile", "struct", "union")]
    if words and words[0] == "enum":
        return "int"
    return " ".join(words)


SizeOf = Callable[[str], int | None]
