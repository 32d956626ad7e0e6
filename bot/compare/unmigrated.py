"""State added but never migrated: a new member of a migrated struct that the guest writes.

A change adds a member to a struct some VMSD describes (a device state, a CPU
``env``) and code the guest drives writes it: a TCG register
(``tcg_global_mem_new`` on its offset), a TCG store to it, an instruction
helper (``helper_*``), a ``MemoryRegionOps.write`` handler. If no VMSD of the
head tree names the member, no hook or hand-written save function touches it
and it is not a qdev property, the value the guest wrote is lost on migration:
the destination keeps its reset value. QEMU fixed this class many times later
(mips CP0 registers, 2021).

Lazy: nothing outside the change is read unless a changed struct gains a
scalar member that a changed ``.c`` file writes from such a path.
"""

from __future__ import annotations

import bisect
import posixpath
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.change import Change, FileChange, FileStatus
from bot.compare import facts as F
from bot.compare.treefiles import TreeFiles
from bot.scanner.lexer import Kind, Token
from bot.scanner.model import FileModel
from bot.scanner.structs import CFile, FunctionBody, Member, StructModel, scan_block

_SCALAR = re.compile(
    r"^(?:u?int(?:8|16|32|64)_t|bool|target_ulong|target_long|int|unsigned|unsigned int"
    r"|uint|float32|float64|hwaddr)$"
)
"""Member types that hold guest register state (pointers, timers, regions, irqs do not)."""
_MEMBER_LINE = re.compile(r"^\s*(?:const\s+)?[A-Za-z_]\w*(?:\s+\w+)?\s+(\w+)(?:\s*\[[^\]]*\])*\s*;")
_ASSIGN = frozenset({"=", "|=", "&=", "+=", "-=", "^=", "<<=", ">>=", "++", "--"})
_WRITE_OPS = re.compile(r"\.\s*write(?:_with_attrs)?\s*=\s*(\w+)")
_CPU_ENV = re.compile(r"^CPU\w*State$")
_MIGRATION_WORDS = re.compile(r"migrat|vmstate|not saved|not sent", re.I)


@dataclass(frozen=True, slots=True)
class _Writer:
    path: str
    line: int
    function: str
    how: str
    """``tcg-register``, ``tcg-store``, ``helper``, ``mmio-write`` (sure) or ``write`` (likely)."""


def unmigrated_facts(change: Change, head: TreeFiles) -> list[F.Fact]:
    sources = [
        (fc.path, fc.new_text)
        for fc in change.files
        if fc.path.endswith((".c", ".c.inc", ".inc")) and fc.new_text is not None
    ]
    candidates = list(_added_members(change, _Written(sources)))
    if not candidates:
        return []
    out: list[F.Fact] = []
    for fc, struct, member, cfile, olds in candidates:
        writer = _guest_writer(member.name, sources)
        if writer is None:
            continue
        vmsd = _migrated_by(struct, fc.path, cfile, head)
        if vmsd is None:
            continue
        described_by, files = vmsd
        if any(_mentions(member.name, path, head) for path in files):
            continue
        if _handled_by_callee(member.name, files, head, sources):
            continue
        neighbours = _neighbours(member, struct, olds, fc.new_text or "")
        if neighbours and not any(_mentions(n, path, head) for n in neighbours for path in files):
            # Declared with older members none of which is migrated (LL/SC reservation
            # state, host caches): the group is kept out of the stream on purpose.
            continue
        out.append(
            F.StateNotMigrated(
                path=fc.path,
                line=member.line,
                vmsd=described_by,
                subject=f"{struct.names[-1]}.{member.name}",
                struct=struct.names[-1],
                member=member.name,
                writer=writer.function,
                writer_path=writer.path,
                writer_line=writer.line,
                how=writer.how,
            )
        )
    return out


_WRITTEN = re.compile(
    r"(?:->|\.)\s*([A-Za-z_]\w*)\b(?:\s*\[[^\]\n]*\])*\s*(?:[-+|&^]|<<|>>)?=(?!=)"
    r"|offsetof\s*\([^)]*?\b([A-Za-z_]\w*)\s*(?:\[[^\]\n]*\]\s*)?\)"
)


class _Written:
    """Names the change's sources assign (``->x =``, ``.x |=``) or take the offset of:
    one pass over the sources, made only when a struct gains a member."""

    def __init__(self, sources: Sequence[tuple[str, str]]):
        self._sources = sources
        self._names: set[str] | None = None

    def __contains__(self, member: object) -> bool:
        if self._names is None:
            self._names = set()
            for _path, text in self._sources:
                for m in _WRITTEN.finditer(text):
                    self._names.add(m.group(1) or m.group(2))
        return member in self._names


def _added_members(
    change: Change, written: _Written
) -> Iterable[tuple[FileChange, StructModel, Member, CFile, frozenset[str]]]:
    for fc in change.files:
        if fc.status is not FileStatus.MODIFIED or fc.old_text is None or fc.new_text is None:
            continue
        if not fc.path.endswith((".h", ".c")):
            continue
        added = [
            ln.new_line
            for h in fc.hunks
            for ln in h.lines
            if ln.kind == "+"
            and ln.new_line
            and (m := _MEMBER_LINE.match(ln.text))
            and m.group(1) in written
        ]
        if not added:
            continue
        lines = fc.new_text.splitlines()
        seen: set[str] = set()
        spans: list[tuple[int, int]] = []
        for line in added:
            if any(a <= line <= b for a, b in spans):
                continue
            new = scan_block(fc.new_text, fc.path, line)
            if new is None:
                continue
            for s in new.structs:
                spans.append((s.line, s.end_line))
                if s.names[0] in seen or not s.line <= line <= s.end_line:
                    continue
                seen.add(s.names[0])
                before = _old_struct(fc.old_text, fc.path, s)
                if before is None:
                    continue  # a new struct: a new device or CPU brings its own VMSD
                olds = frozenset(m.name for m in before.members)
                yield from ((fc, s, m, new, olds) for m in _new_members(before, s, added, lines))


def _old_struct(text: str, path: str, s: StructModel) -> StructModel | None:
    for name in s.names:
        pattern = re.compile(
            rf"^(?:typedef\s+)?(?:struct|union)\s+{re.escape(name)}\b[^;]*$|^}}\s*{re.escape(name)}\s*;",
            re.M,
        )
        for m in pattern.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            old = scan_block(text, path, line)
            if old is not None:
                found = old.struct(name)
                if found is not None:
                    return found
    return None


def _new_members(
    before: StructModel, s: StructModel, added: Sequence[int], lines: Sequence[str]
) -> Iterable[Member]:
    old_names = {m.name for m in before.members}
    now = {x.name for x in s.members}
    gone = [m for m in before.members if m.name not in now]
    for m in s.members:
        if m.name in old_names or m.line not in added:
            continue
        if any(g.type == m.type and g.dims == m.dims for g in gone):
            continue  # a rename
        if m.pointer or m.bitfield or m.after_reset_fields or not _SCALAR.match(m.type):
            continue
        if _RESERVATION.search(m.name):
            continue
        near = "\n".join(lines[max(0, m.line - 4) : m.line + 1])
        if _MIGRATION_WORDS.search(near):
            continue  # the author says how it migrates (or why not)
        yield m


def _neighbours(member: Member, struct: StructModel, olds: frozenset[str], text: str) -> list[str]:
    """The older member declared just before ``member``, in its paragraph (no blank line)."""
    lines = text.splitlines()
    first = last = member.line
    while first > 1 and lines[first - 2].strip():
        first -= 1
    while last < len(lines) and lines[last].strip():
        last += 1
    # the nearest older member declared before it in the paragraph
    before = [m for m in struct.members if first <= m.line < member.line and m.name in olds]
    return [before[-1].name] if before else []


def _guest_writer(member: str, sources: Sequence[tuple[str, str]]) -> _Writer | None:
    likely: _Writer | None = None
    word = re.compile(rf"\b{re.escape(member)}\b")
    for path, text in sources:
        if member not in text:
            continue
        starts = [m.start() for m in word.finditer(text)]
        if not starts:
            continue
        newlines = [k for k, ch in enumerate(text) if ch == "\n"] if len(starts) > 8 else None
        hits = [
            (bisect.bisect_left(newlines, at) if newlines is not None else text.count("\n", 0, at))
            + 1
            for at in starts
        ]
        handlers = set(_WRITE_OPS.findall(text))
        done: set[str] = set()
        spans: list[tuple[int, int]] = []
        for line in hits:
            if any(a <= line <= b for a, b in spans):
                continue
            block = scan_block(text, path, line)
            if block is None:
                continue
            for fn in block.functions:
                spans.append((fn.line, fn.end_line))
                if fn.name in done:
                    continue
                done.add(fn.name)
                for k, tok in enumerate(fn.tokens):
                    if tok.text == "offsetof":
                        how = _tcg_use(fn.tokens, k, member)
                        if how and not _exception_follows(fn.tokens, k):
                            return _Writer(path, tok.line, fn.name, how)
                wrote = _writes(member, fn.tokens)
                if wrote is None:
                    continue
                if (
                    fn.name.startswith("helper_")
                    and "/target" in "/" + path
                    and not _READ_HELPER.search(fn.name)
                ):
                    return _Writer(path, wrote, fn.name, "helper")
                if fn.name in handlers:
                    return _Writer(path, wrote, fn.name, "mmio-write")
                if (
                    "write" in fn.name.lower()
                    and "/target" in "/" + path
                    and _referenced(fn.name, text)
                ):
                    # A CPU register table names it (ARMCPRegInfo .writefn,
                    # riscv csr_ops, ppc spr_register): the guest's register write.
                    return _Writer(path, wrote, fn.name, "register-table")
                if likely is None and "write" in fn.name.lower():
                    likely = _Writer(path, wrote, fn.name, "write")
    return likely


def _referenced(name: str, text: str) -> bool:
    """The function is taken by address (a table entry, a callback), not only called."""
    return re.search(rf"(?:[=,{{&]\s*){re.escape(name)}\s*[,}};)]", text) is not None


def _tcg_use(toks: Sequence[Token], k: int, member: str) -> str | None:
    """``offsetof(CPUXState, ...member...)`` used as a TCG register or store target."""
    if k + 1 >= len(toks) or toks[k + 1].text != "(":
        return None
    depth, j = 0, k + 1
    names: list[str] = []
    while j < len(toks):
        t = toks[j]
        if t.text == "(":
            depth += 1
        elif t.text == ")":
            depth -= 1
            if depth == 0:
                break
        elif t.kind == Kind.IDENT and depth == 1:
            names.append(t.text)
        j += 1
    if member not in names[1:]:
        return None
    # the call that takes the offset
    depth = 0
    for b in range(k - 1, -1, -1):
        word = toks[b].text
        if word == ")":
            depth += 1
        elif word == "(":
            if depth == 0:
                callee = toks[b - 1].text if b > 0 else ""
                if callee.startswith("tcg_global_mem_new"):
                    return "tcg-register"
                if callee.startswith("tcg_gen_st") or "store" in callee or "_st_" in callee:
                    return "tcg-store"
                return None
            depth -= 1
        elif word in (";", "{", "}"):
            return None
    return None


_READ_HELPER = re.compile(r"(?:_|csr)(?:rd|read|get|mf[a-z0-9]*)(?:_|$)", re.I)
"""A read helper that fills a member lazily (``helper_csrrd_cpuid``) is not a guest write."""
_RESERVATION = re.compile(r"reserv|^ll(?:addr|val|bit)|^exclusive_", re.I)
"""Load-reserved/store-conditional state: a reservation lost on migration makes the
store-conditional fail and the guest retry, so targets leave it out on purpose."""
_EXCEPTION = re.compile(r"exception|excp|raise", re.I)


def _exception_follows(toks: Sequence[Token], k: int) -> bool:
    """An exception is raised in the statement at ``k`` or the next one: the member
    only carries the exception's argument to its handler (``error_code``), it is
    not state that outlives the instruction."""
    statements = 0
    for j in range(k, len(toks) - 1):
        t = toks[j]
        if t.text == ";":
            statements += 1
            if statements == 2:
                return False
        elif t.kind == Kind.IDENT and toks[j + 1].text == "(" and _EXCEPTION.search(t.text):
            return True  # a call that raises it, not a status code like RISCV_EXCP_NONE
    return False


def _writes(member: str, toks: Sequence[Token]) -> int | None:
    """Line of an assignment to ``->member`` / ``.member`` (indexed or not) in ``toks``."""
    for k in range(1, len(toks) - 1):
        t = toks[k]
        if t.text != member or toks[k - 1].text not in ("->", "."):
            continue
        if _exception_follows(toks, k):
            continue
        j = k + 1
        while j < len(toks) and toks[j].text == "[":
            depth = 0
            while j < len(toks):
                if toks[j].text == "[":
                    depth += 1
                elif toks[j].text == "]":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            j += 1
        if j < len(toks) and toks[j].text in _ASSIGN:
            return t.line
        if k >= 3 and toks[k - 3].text in ("++", "--"):
            return t.line
    return None


def _migrated_by(
    struct: StructModel, header: str, cfile: CFile, head: TreeFiles
) -> tuple[str, list[str]] | None:
    """A VMSD describing ``struct`` (its name) and the files that migrate it."""
    names = set(struct.names)
    members = {m.name for m in struct.members}
    # Structs embedding this one (CPUMIPSState in ArchCPU as `env`, TCState as `active_tc`).
    holders = {
        m.name for s in cfile.structs for m in s.members if m.type in names and not m.pointer
    }
    if any(_CPU_ENV.match(n) for n in names):
        holders.add("env")  # ArchCPU embeds the CPU state as `env`, often in another header
    paths: list[str] = []
    cpu = any(_CPU_ENV.match(n) for n in names) or "env" in holders
    for name in [] if cpu else sorted(names)[:3]:
        found = head.grep(name)
        if found:
            paths.extend(p for p in found if p not in paths)
    if header.startswith("target"):
        machine = posixpath.join(posixpath.dirname(header), "machine.c")
        if machine not in paths and head.read(machine) is not None:
            paths.append(machine)
    described: str | None = None
    files: list[str] = []
    for path in paths:
        text = head.read(path) or ""
        if "VMSTATE_" not in text and "qemu_put_" not in text:
            continue
        model = head.model(path)
        if model is None:
            continue
        hit = _describing(model, names, holders, members)
        if hit is not None:
            described = described or hit
            files.append(path)
        elif "qemu_put_" in text and any(n in text for n in names):
            files.append(path)  # a hand-written save function of an old tree
    if described is None:
        return None
    return described, files


def _describing(
    model: FileModel, names: set[str], holders: set[str], members: set[str]
) -> str | None:
    """The VMSD that migrates most members of the struct (its main one)."""
    best, most = None, 0
    for v in model.vmsds:
        hits = 0
        for f in v.fields:
            path = f.member or ""
            if f.state in names:
                hits += 1
            elif "." in path:
                head_, _dot, rest = path.partition(".")
                first = re.split(r"[.\[]", rest, maxsplit=1)[0]
                hits += head_ in holders and first in members
        if hits > most:
            best, most = v.name or v.ident, hits
    return best


_CALL = re.compile(r"\b([A-Za-z_]\w*)\s*\(")


def _handled_by_callee(
    member: str, files: Sequence[str], head: TreeFiles, sources: Sequence[tuple[str, str]]
) -> bool:
    """The migration code calls a function that reads or writes the member (hppa's
    PSW is put on the wire by ``cpu_hppa_get_psw``, which folds the new bit in).
    A new member is only named by code this change touched, so only the change's
    sources are searched for those functions."""
    called: set[str] = set()
    for path in files:
        called.update(_CALL.findall(head.read(path) or ""))
    word = re.compile(rf"\b{re.escape(member)}\b")
    for path, text in sources:
        if path in files or not word.search(text):
            continue
        for name in called:
            if name not in text:
                continue
            for m in re.finditer(rf"^\w[^;\n]*\b{re.escape(name)}\s*\(", text, re.M):
                brace = text.find("\n{", m.start())
                if brace < 0:
                    continue
                line = text.count("\n", 0, brace) + 2  # the body's opening brace
                block = scan_block(text, path, line)
                fn = next((f for f in block.functions if f.name == name), None) if block else None
                if fn is not None and any(t.text == member for t in fn.tokens):
                    return True
    return False


def _mentions(member: str, path: str, head: TreeFiles) -> bool:
    """True when the migration code of ``path`` names ``member``: a field, a hook
    (or what it calls), a hand-written save or load function, a property."""
    text = head.read(path) or ""
    if not re.search(rf"\b{re.escape(member)}\b", text):
        return False
    if path.endswith("/machine.c"):
        return True  # a CPU's migration file holds nothing else
    model = head.model(path)
    cf = head.cfile(path)
    if model is None or cf is None:
        return True
    for v in model.vmsds:
        for f in v.fields:
            words = re.findall(r"\w+", " ".join(f.args) + " " + (f.member or ""))
            if member in words:
                return True
    for p in model.properties:
        if p.member == member or (p.member or "").endswith("." + member):
            return True
    hooks = {fn for v in model.vmsds for _k, fn in v.hooks} | {
        v.needed for v in model.vmsds if v.needed
    }
    bodies = {fn.name: fn for fn in cf.functions}
    frontier = [bodies[h] for h in hooks if h in bodies]
    frontier += [
        fn
        for fn in cf.functions
        if any(t.text.startswith(("qemu_put_", "qemu_get_")) for t in fn.tokens)
    ]
    seen: set[str] = set()
    for _depth in range(3):
        nxt: list[FunctionBody] = []
        for fn in frontier:
            if fn.name in seen:
                continue
            seen.add(fn.name)
            if any(t.text == member for t in fn.tokens):
                return True
            nxt.extend(bodies[t.text] for t in fn.tokens if t.text in bodies and t.text not in seen)
        frontier = nxt
    return False
