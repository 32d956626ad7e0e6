"""``sizeof`` of a tree's structs, as GCC on an x86_64 Linux host lays them out.

What a real ``-dump-vmstate`` prints as the ``size`` of a struct field
(``VMSTATE_STRUCT``: the struct's ``sizeof``; ``VMSTATE_BUFFER``: the member's).
A definition is found with one ``git grep`` per name, read with the struct
scanner (`bot.scanner.structs`), and laid out with the C rules of the x86_64
System V ABI: each member at its alignment, the struct padded to its largest
one; a union is its largest member; bitfields packed in units of their
declared type; anonymous structs and unions in place; ``QEMU_PACKED`` and
``QEMU_ALIGNED(n)`` obeyed. Types written as macros (``QLIST_HEAD(, T)``) are
expanded from their ``#define``. ``#if`` is read as the real binary was built
(`bot.audit.buildconfig`: x86_64 Linux host, the target's configuration), and
so are definitions given for several hosts or targets. The types of the host's
C library and of GLib are in `HOST_TYPES`. Whatever is still not understood
gives None, never a guess: a condition on an unknown symbol, another
``__attribute__``, a name with two different layouts in the build.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from bot.audit.buildconfig import BuildConfig
from bot.scanner.expr import int_value, matching, split_top
from bot.scanner.lexer import Kind, LexError, Token, tokenize
from bot.scanner.structs import CFile, Member, StructModel, Typedef, scan_c
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

HOST_TYPES: Mapping[str, tuple[int, int]] = {
    # GCC on x86_64
    "__int128": (16, 16),
    "__int128_t": (16, 16),
    "__uint128_t": (16, 16),
    "unsigned __int128": (16, 16),
    "long double": (16, 16),
    "_Float128": (16, 16),
    "__builtin_va_list": (24, 8),
    "va_list": (24, 8),
    "wchar_t": (4, 4),
    "ptrdiff_t": (8, 8),
    # glibc on x86_64 Linux (bits/pthreadtypes-arch.h, bits/types.h)
    "pthread_t": (8, 8),
    "pthread_mutex_t": (40, 8),
    "pthread_mutexattr_t": (4, 4),
    "pthread_cond_t": (48, 8),
    "pthread_condattr_t": (4, 4),
    "pthread_rwlock_t": (56, 8),
    "pthread_spinlock_t": (4, 4),
    "pthread_attr_t": (56, 8),
    "pthread_key_t": (4, 4),
    "pthread_once_t": (4, 4),
    "pthread_barrier_t": (32, 8),
    "sem_t": (32, 8),
    "sigset_t": (128, 8),
    "jmp_buf": (200, 8),
    "sigjmp_buf": (200, 8),
    "time_t": (8, 8),
    "suseconds_t": (8, 8),
    "clock_t": (8, 8),
    "clockid_t": (4, 4),
    "timer_t": (8, 8),
    "off_t": (8, 8),
    "off64_t": (8, 8),
    "dev_t": (8, 8),
    "ino_t": (8, 8),
    "pid_t": (4, 4),
    "uid_t": (4, 4),
    "gid_t": (4, 4),
    "mode_t": (4, 4),
    "socklen_t": (4, 4),
    "sa_family_t": (2, 2),
    "in_addr_t": (4, 4),
    "in_port_t": (2, 2),
    "timeval": (16, 8),
    "timespec": (16, 8),
    "sockaddr": (16, 2),
    "sockaddr_in": (16, 4),
    "sockaddr_in6": (28, 4),
    "sockaddr_un": (110, 2),
    "sockaddr_storage": (128, 8),
    "in_addr": (4, 4),
    "in6_addr": (16, 4),
    "iovec": (16, 8),
    "FILE": (216, 8),
    # GLib 2 (glib/gtypes.h, glib/gthread.h) on x86_64
    "gboolean": (4, 4),
    "gchar": (1, 1),
    "guchar": (1, 1),
    "gint8": (1, 1),
    "guint8": (1, 1),
    "gshort": (2, 2),
    "gushort": (2, 2),
    "gint16": (2, 2),
    "guint16": (2, 2),
    "gint": (4, 4),
    "guint": (4, 4),
    "gint32": (4, 4),
    "guint32": (4, 4),
    "gunichar": (4, 4),
    "GQuark": (4, 4),
    "GPid": (4, 4),
    "gfloat": (4, 4),
    "glong": (8, 8),
    "gulong": (8, 8),
    "gint64": (8, 8),
    "guint64": (8, 8),
    "gsize": (8, 8),
    "gssize": (8, 8),
    "goffset": (8, 8),
    "gintptr": (8, 8),
    "guintptr": (8, 8),
    "gdouble": (8, 8),
    "gpointer": (8, 8),
    "gconstpointer": (8, 8),
    "GMutex": (8, 8),
    "GRecMutex": (16, 8),
    "GRWLock": (16, 8),
    "GCond": (16, 8),
    "GPrivate": (32, 8),
    "GOnce": (16, 8),
}
"""``(sizeof, alignment)`` of the host's types on x86_64 Linux (GCC, glibc, GLib):
what the real binaries were built with. Not in QEMU's tree, so written here."""

_OTHER_HOSTS = re.compile(r"(?:win32|windows|darwin|macos|solaris|haiku)", re.I)
"""Files for another host than Linux (``thread-win32.h``): not in the build."""

_MAX_DEPTH = 24
_SKIPPED = (
    "tests/",
    "roms/",
    "subprojects/",
    "linux-headers/",
    "contrib/",
    "scripts/",
    "linux-user/",
    "bsd-user/",
    "pc-bios/",
)
"""Never in a system emulator's build (``linux-user/``: user mode only; ``pc-bios/``:
firmware)."""
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
        self,
        git: GitRepo,
        tree_id: str,
        target_bits: int | None = None,
        *,
        jobs: int = 1,
        target: str | None = None,
    ) -> None:
        """``target`` (``x86_64-softmmu``): the binary whose build decides ``#if``s;
        without it only the host's facts are known."""
        self._git = git
        self._tree = tree_id
        self._target_bits = target_bits
        self.config = self._build_config(target)
        self._arch = self.config.arch
        self._files: dict[str, CFile] = {}
        self._layouts: dict[str, Layout | None] = {}
        self._consts: dict[str, int | None] = {}
        self._busy: set[str] = set()
        self._defined_in: dict[str, set[str]] | None = None
        self.why: dict[str, str] = {}
        """Why a type has no layout: the first member or definition that stopped it."""

    def _build_config(self, target: str | None) -> BuildConfig:
        if target is None:
            return BuildConfig.for_target(None)
        name = target.removesuffix("-softmmu")
        listing = self._git.run(
            ["ls-tree", "--name-only", self._tree, "--", "configs/targets/"], ok=(0, 128)
        ).decode("utf-8", "surrogateescape")
        names = [line.rsplit("/", 1)[-1] for line in listing.splitlines()]
        mak = self._text(f"configs/targets/{name}-softmmu.mak")
        return BuildConfig.for_target(name, mak, names)

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
            member = self._member(current, parts[k])
            if member is None or member.bitfield:
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

    def _member(self, struct: StructModel, name: str) -> Member | None:
        """The member ``name`` the build compiles (one of several under ``#if``)."""
        found = [
            m
            for m in struct.members
            if m.name == name and self._compiled(m.condition, struct.condition) is not False
        ]
        if len(found) != 1 or self._compiled(found[0].condition, struct.condition) is None:
            return None
        return found[0]

    # --- layouts ----------------------------------------------------------------------

    def _layout(self, name: str, depth: int) -> Layout | None:
        if name in SCALARS:
            return SCALARS[name], SCALARS[name]
        if name in HOST_TYPES:
            return HOST_TYPES[name]
        if name == "target_ulong" and self._target_bits:
            return self._target_bits // 8, self._target_bits // 8
        if name in self._layouts:
            return self._layouts[name]
        if depth > _MAX_DEPTH or name in self._busy:
            return None
        if not re.fullmatch(r"[A-Za-z_]\w*", name):
            return self._macro_type(name, depth)
        self._busy.add(name)
        try:
            found = self._definitions(name)
            layouts = {self._of(d, depth, name) for d in found}
            result = layouts.pop() if len(layouts) == 1 else None
            if not found:
                self.why.setdefault(name, "no definition found")
            elif len(layouts) > 1:
                self.why[name] = f"{len(found)} definitions with different layouts"
        finally:
            self._busy.discard(name)
        self._layouts[name] = result
        return result

    def _of(self, d: StructModel | Typedef, depth: int, name: str = "") -> Layout | None:
        if isinstance(d, Typedef):  # of another type, of a pointer, or an enum
            if d.type == "*":
                base: Layout | None = (8, 8)
            elif d.type == "enum":
                base = (4, 4)
            else:
                base = self._layout(_plain(d.type), depth + 1)
            return self._array(base, d.dims)
        packed = "QEMU_PACKED" in d.attributes
        align = 1
        for a in d.attributes:
            if a == "QEMU_PACKED":
                continue
            n = _aligned(a, self._dimension)
            if n is None:
                self.why.setdefault(name, f"attribute {a}")
                return None
            align = max(align, n)
        bits = 0  # the offset of the next member, in bits
        size = 0  # a union's
        placed: set[int] = set()
        for m in d.members:
            if m.anon is not None and m.nested:
                if id(m.anon) in placed:
                    continue
                placed.add(id(m.anon))
                item: Member | StructModel = m.anon
                cond = m.anon.condition
            else:
                item, cond = m, m.condition
            compiled = self._compiled(cond, d.condition)
            if compiled is False:
                continue
            if compiled is None:
                self.why.setdefault(name, f"{m.name}: under #if {cond}")
                return None
            if isinstance(item, StructModel):
                got = self._of(item, depth + 1, name)
                if got is None:
                    return None
            else:
                got = self._member_layout(item, depth)
                if got is None:
                    self.why.setdefault(name, f"{m.name}: type {m.type} dims {m.dims}")
                    return None
            msize, malign = got
            if packed:
                malign = 1
            if isinstance(item, Member) and item.bits is not None:
                width = self._dimension(item.bits)
                if width is None or width < 0:
                    self.why.setdefault(name, f"{m.name}: bitfield width {item.bits}")
                    return None
                unit = msize * 8
                if d.union:
                    size = max(size, -(-width // 8))
                elif width == 0:
                    bits = -(-bits // (malign * 8)) * (malign * 8)
                    continue
                elif not packed and bits // unit != (bits + width - 1) // unit:
                    bits = -(-bits // unit) * unit
                bits += 0 if d.union else width
                if item.name:  # an unnamed bitfield does not align the struct
                    align = max(align, malign)
                continue
            align = max(align, malign)
            if d.union:
                size = max(size, msize)
            else:
                offset = -(-bits // 8)
                bits = (-(-offset // malign) * malign + msize) * 8
        if not d.members:
            self.why.setdefault(name, "no members")
            return None
        total = size if d.union else -(-bits // 8)
        return -(-total // align) * align, align

    def _compiled(self, cond: str | None, outer: str | None) -> bool | None:
        """Whether the build compiles a member under ``cond`` in a struct under ``outer``."""
        if cond == outer:
            return True
        got = self.config.holds(cond, self._condition_value)
        if got is None and outer and cond and cond.startswith(outer + " && "):
            got = self.config.holds(cond[len(outer) + 4 :], self._condition_value)
        return got

    def _condition_value(self, name: str) -> int | None:
        toks = self._constant(name)
        return int_value(toks, {}) if toks is not None else None

    def _member_layout(self, m: Member, depth: int) -> Layout | None:
        if m.pointer or m.type == "fnptr":
            base: Layout | None = (8, 8)
        elif m.inner is not None:
            base = self._of(m.inner, depth + 1)
        else:
            base = self._layout(_plain(m.type), depth + 1)
        got = self._array(base, m.dims)
        if got is not None and m.aligned is not None:
            n = _aligned(f"QEMU_ALIGNED ( {m.aligned} )", self._dimension)
            if n is None:
                return None
            got = got[0], max(got[1], n)
        return got

    def _array(self, base: Layout | None, dims: Sequence[str]) -> Layout | None:
        if base is None:
            return None
        count = 1
        for dim in dims:
            n = self._dimension(dim)
            if n is None or n < 0:
                return None
            count *= n
        return base[0] * count, base[1]

    def _macro_type(self, type_text: str, depth: int) -> Layout | None:
        """A type written as a macro call, ``QLIST_HEAD ( , NamedGPIOList )``: the
        layout of what its ``#define`` expands to."""
        m = re.fullmatch(r"([A-Za-z_]\w*) \( (.*) \)", type_text)
        if m is None:
            return None
        name = m.group(1)
        defines = {
            (c.define.params, tuple(t.text for t in c.define.body))
            for f in self._grep(rf"^[[:space:]]*#[[:space:]]*define[[:space:]]+{name}\(")
            for c in f.defines
            if c.define.name == name
            and c.define.function_like
            and self.config.holds(c.condition, self._condition_value) is not False
        }
        if len(defines) != 1:
            self.why.setdefault(type_text, f"{len(defines)} definitions of the macro {name}")
            return None
        params, body = defines.pop()
        assert params is not None
        args = [a.strip() for a in _split_args(m.group(2))]
        if len(args) != len(params):
            return None
        bound = dict(zip(params, args, strict=True))
        expanded = " ".join(bound.get(t, t) for t in body)
        cfile = scan_c(f"struct migbot_expanded {{ {expanded} expanded; }};", name)
        if len(cfile.structs) != 1:
            return None
        return self._of(cfile.structs[0], depth + 1, type_text)

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
                if c.define.name == name
                and not c.define.function_like
                and self.config.holds(c.condition) is not False
            }
            if len(bodies) == 1:
                body = bodies.pop()
                try:
                    value = int_value(tokenize(" ".join(body), "<const>"), self._constant)
                except LexError:
                    value = None
                self._consts[name] = value
            elif not bodies:
                self._consts[name] = self._enumerator(name)
        value = self._consts[name]
        return [Token(Kind.LITERAL, str(value), 0)] if value is not None else None

    def _enumerator(self, name: str) -> int | None:
        """The value of ``name`` in the one ``enum { ... }`` that lists it."""
        values = set()
        for f in self._grep(rf"^[[:space:]]*{name}[[:space:]]*(,|=|$)"):
            try:
                toks = tokenize(self._text(f.path), f.path)
            except LexError:
                continue
            code = [t for t in toks if not t.directive and t.kind != Kind.COMMENT]
            for k, t in enumerate(code):
                if t.text != "enum":
                    continue
                j = k + 1
                while j < len(code) and code[j].text not in ("{", ";", ")", ","):
                    j += 1
                if j >= len(code) or code[j].text != "{":
                    continue
                body = code[j + 1 : matching(code, j)]
                if not any(x.text == name for x in body):
                    continue
                nxt: int | None = 0
                for item in split_top(body):
                    if not item:
                        continue
                    if len(item) > 2 and item[1].text == "=":
                        nxt = int_value(item[2:], self._constant)
                    if item[0].text == name:
                        values.add(nxt)
                        break
                    nxt = nxt + 1 if nxt is not None else None
        return values.pop() if len(values) == 1 else None

    # --- finding definitions ------------------------------------------------------------

    def _struct(self, name: str) -> StructModel | None:
        found = [d for d in self._definitions(name) if isinstance(d, StructModel)]
        return found[0] if len(found) == 1 else None

    def _definitions(self, name: str) -> list[StructModel | Typedef]:
        """The definitions of ``name`` the build compiles (those under an ``#if``
        it rules out left out)."""
        out: list[StructModel | Typedef] = []
        for f in self._files_of(self._where().get(name, ())):
            for s in f.structs:
                if name in s.names or f"struct {name}" in s.names:
                    out.append(s)
            for t in f.typedefs:
                if t.name == name and _plain(t.type) != name:
                    out.append(t)
        out = [d for d in out if self.config.holds(d.condition) is not False]
        if not out and self._qapi_enum(name):
            out.append(Typedef(name, "enum"))
        # one definition per layout: a header read twice is one
        unique: list[StructModel | Typedef] = []
        for d in out:
            if d not in unique:
                unique.append(d)
        return unique

    def _qapi_enum(self, name: str) -> bool:
        """An enum of the QAPI schema: its C type is generated at build time (4 bytes)."""
        raw = self._git.run(
            [
                "grep",
                "-l",
                "-E",
                "-e",
                rf"['\"]enum['\"][[:space:]]*:[[:space:]]*['\"]{name}['\"]",
                self._tree,
                "--",
                "*.json",
            ],
            ok=(0, 1),
        )
        return bool(raw.strip())

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
                if len(parts) < 3 or not self._built(parts[1]):
                    continue
                for m in _DEFINED.finditer(parts[2]):
                    name = (
                        m.group("tag") or m.group("alias") or m.group("typedef") or m.group("fnptr")
                    )
                    where.setdefault(name, set()).add(parts[1])
            self._defined_in = where
        return self._defined_in

    def _built(self, path: str) -> bool:
        """Whether ``path`` can be in the build: not for another host, nor another
        target's ``target/`` directory."""
        if path.startswith(_SKIPPED) or _OTHER_HOSTS.search(path.rsplit("/", 1)[-1]):
            return False
        if self._arch is not None and path.startswith("target/"):
            return path.split("/")[1] == self._arch
        return True

    def _grep(self, pattern: str) -> list[CFile]:
        raw = self._git.run(
            ["grep", "-l", "-E", "-e", pattern, self._tree, "--", "*.h", "*.c"], ok=(0, 1)
        ).decode("utf-8", "surrogateescape")
        return self._files_of(line.split(":", 1)[-1] for line in raw.splitlines())

    def _files_of(self, paths: Iterable[str]) -> list[CFile]:
        out = []
        for path in sorted(paths):
            if not self._built(path):
                continue
            if path not in self._files:
                self._files[path] = scan_c(self._text(path), path)
            out.append(self._files[path])
        return out

    def _text(self, path: str) -> str:
        return self._git.read_path(self._tree, path) or ""


def _aligned(attribute: str, value: Callable[[str], int | None]) -> int | None:
    """``QEMU_ALIGNED ( 16 )`` -> 16; None for another attribute."""
    m = re.fullmatch(r"QEMU_ALIGNED \( (.+) \)", attribute)
    return value(m.group(1)) if m is not None else None


def _split_args(text: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        cur += ch
    out.append(cur)
    return out


def _plain(type_text: str) -> str:
    words = [w for w in type_text.split() if w not in ("const", "volatile", "struct", "union")]
    if words and words[0] == "enum":
        return "int"
    return " ".join(words)


SizeOf = Callable[[str], int | None]
