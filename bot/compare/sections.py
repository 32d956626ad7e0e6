"""Sections and their names: new sections on old devices, names already taken,
versions that are not constants, subsection lists without their terminator.

Each fact is about what the change brings: a problem the base already had is
not reported again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from bot.compare import facts as F
from bot.compare.context import Context, FileModels
from bot.scanner.model import FileModel, VmsdModel
from bot.scanner.treesearch import TreeSearch

_NOT_CONSTANT = re.compile(r"\bsizeof\b|\b[a-z_][a-z0-9_]*\b(?!\s*\()")
"""``sizeof``, or a lower-case name (a variable or a member): not a compile-time version."""
_C_TYPE_WORDS = frozenset(
    {
        "int",
        "unsigned",
        "signed",
        "long",
        "short",
        "char",
        "const",
        "uint8_t",
        "uint16_t",
        "uint32_t",
        "uint64_t",
        "int8_t",
        "int16_t",
        "int32_t",
        "int64_t",
        "size_t",
    }
)
"""Names in a cast (``(int)3``): not variables."""


def _not_constant(expr: str) -> bool:
    return any(m.group(0) not in _C_TYPE_WORDS for m in _NOT_CONSTANT.finditer(expr))


BASES_WITHOUT_STATE = frozenset(
    {
        "TYPE_DEVICE",
        "TYPE_SYS_BUS_DEVICE",
        "TYPE_PCI_DEVICE",
        "TYPE_ISA_DEVICE",
        "TYPE_USB_DEVICE",
        "TYPE_I2C_SLAVE",
        "TYPE_SSI_PERIPHERAL",
        "device",
        "sys-bus-device",
        "pci-device",
        "isa-device",
        "usb-device",
        "i2c-slave",
        "ssi-peripheral",
    }
)
"""Parents that register no section: a subclass of one that gains ``dc->vmsd``
gains a section, where a subclass of a stateful parent would only rename one."""

_SAVEVM = (
    "register_savevm",
    "SaveVMHandlers",
    "vmstate_register",
    "migrate_add_blocker",
    "vmsd",
)
"""Words of a file that already migrates (or refuses to): a new section there is
a conversion or a fix, not new state on the wire."""


def _touched(v: VmsdModel, lines: frozenset[int]) -> bool:
    return any(v.line <= ln <= v.end_line for ln in lines)


def version_facts(fm: FileModels) -> Iterable[F.Fact]:
    """``version_id``/``minimum_version_id`` not constant; subsections without NULL."""
    if fm.new is None:
        return
    old = {v.ident: v for v in fm.old.vmsds} if fm.old else {}
    for v in fm.new.vmsds:
        if not _touched(v, fm.changed_new) or v.generated_by:
            continue
        before = old.get(v.ident)
        for which, expr in (
            ("version_id", v.version_expr),
            ("minimum_version_id", v.minimum_version_expr),
        ):
            if not expr or not _not_constant(expr):
                continue
            was = (
                None
                if before is None
                else (before.version_expr if which == "version_id" else before.minimum_version_expr)
            )
            if was == expr:
                continue
            yield F.VersionNotConstant(
                path=fm.path,
                line=v.name_line or v.line,
                vmsd=v.name or v.ident,
                subject=which,
                which=which,
                expr=expr,
            )
        if v.subsections and not v.subsections_terminated:
            if before is not None and not before.subsections_terminated:
                continue
            yield F.SubsectionsUnterminated(
                path=fm.path,
                line=v.subsections_line or v.line,
                vmsd=v.name or v.ident,
                subject="subsections",
            )


def _candidates(fm: FileModels, ctx: Context) -> list[tuple[VmsdModel, str]]:
    """VMSDs the change adds or renames, with their names."""
    if fm.new is None:
        return []
    touched = [
        v
        for v in fm.new.vmsds
        if _touched(v, fm.changed_new) and not v.generated_by and "[" not in v.ident
    ]
    if not touched:
        return []  # names are resolved (a tree search each) only for VMSDs the change touches
    old = fm.old
    before = {v.ident: v for v in old.vmsds} if old else {}
    touched = [
        v
        for v in touched
        if v.ident not in before
        or (before[v.ident].name, before[v.ident].name_expr) != (v.name, v.name_expr)
    ]
    if not touched:
        return []  # every touched VMSD kept its name
    old_names = {v.ident: ctx.name_of(v, old, old=True) for v in old.vmsds} if old else {}
    out = []
    for v in touched:
        name = ctx.name_of(v, fm.new)
        if not name or (name == v.name_expr and not v.name) or old_names.get(v.ident) == name:
            continue
        if name in old_names.values():
            continue  # the file had a VMSD of that name: a move or a rename within the file
        out.append((v, name))
    return out


def name_needles(fm: FileModels, ctx: Context) -> list[str]:
    """What `name_taken_facts` will search the tree for."""
    out = []
    for v, name in _candidates(fm, ctx):
        out.append(f'"{name}"')
        if v.name_expr and '"' not in v.name_expr:
            out.append(v.name_expr)
    return out


def removed_names(files: Sequence[FileModels], ctx: Context) -> set[str]:
    """Names of the VMSDs the change takes out of a file: a VMSD moved to
    another file keeps its name there, and is no copy."""
    out: set[str] = set()
    for fm in files:
        if fm.old is None:
            continue
        kept = {v.ident for v in fm.new.vmsds} if fm.new is not None else set()
        for v in fm.old.vmsds:
            if v.ident not in kept:
                out.add(ctx.name_of(v, fm.old, old=True))
    return out


def _on_wire(model: FileModel, ident: str) -> bool:
    """Is the VMSD a section or a subsection (its name is sent), as far as its
    file says? A VMSD only nested with VMSTATE_STRUCT has no name on the wire."""
    return any(r.vmsd == ident for r in model.registrations) or any(
        ident in v.subsections for v in model.vmsds
    )


def name_taken_facts(
    fm: FileModels, ctx: Context, search: TreeSearch, moved: set[str]
) -> Iterable[F.Fact]:
    """A VMSD added or renamed with the name of another VMSD of the head tree.

    Only names on the wire count (sections and subsections, on both sides),
    and only between files that can be built together (not a stub and the
    code it stands in for, not two targets' code).
    """
    if fm.new is None or not search.searchable or fm.path.endswith(".rs"):
        # A Rust device shares its C twin's section names by design (a QEMU
        # builds one or the other); the twin check compares them instead.
        return
    subs = {s for v in fm.new.vmsds for s in v.subsections}
    for v, name in _candidates(fm, ctx):
        if name in moved or not _on_wire(fm.new, v.ident):
            continue
        other = _other_vmsd(fm, v, name, subs, ctx, search)
        if other is not None:
            yield F.VmsdNameTaken(
                path=fm.path,
                line=v.name_line or v.line,
                vmsd=name,
                subject=v.ident,
                name=name,
                other=other,
            )


def _other_vmsd(
    fm: FileModels,
    v: VmsdModel,
    name: str,
    subs: set[str],
    ctx: Context,
    search: TreeSearch,
) -> str | None:
    assert fm.new is not None
    for other in fm.new.vmsds:
        if other.ident == v.ident or other.generated_by or "[" in other.ident:
            continue
        # Within one file only subsections are judged: top-level twins there
        # are usually one VMSD under two #if branches.
        if v.ident in subs and other.ident in subs and ctx.name_of(other, fm.new) == name:
            return f"{fm.path}:{other.ident}"
    needles = [f'"{name}"'] + ([v.name_expr] if v.name_expr and '"' not in v.name_expr else [])
    seen: set[str] = {fm.path}
    for needle in needles:
        for path in search.files_with(needle):
            if path in seen or not path.endswith(".c") or not _same_build(fm.path, path):
                continue
            seen.add(path)
            text = search.text(path) or ""
            if not re.search(r"\.name\s*=\s*" + re.escape(needle), text):
                continue  # the name is there, but not as a VMSD's (or a TypeInfo's) .name
            model = search.model(path)
            if model is None:
                continue
            for o in model.vmsds:
                if o.generated_by or "[" in o.ident or not _on_wire(model, o.ident):
                    continue
                if _name(o, model, ctx) == name:
                    return f"{path}:{o.ident}"
    return None


def _name(v: VmsdModel, model: FileModel, ctx: Context) -> str | None:
    if v.name is not None:
        return v.name
    return ctx.name_of(v, model) if v.name_expr else None


def _same_build(a: str, b: str) -> bool:
    """Could both files be in one binary? Target code of two targets never is,
    nor a stub and what it stands in for."""
    if "stub" in a or "stub" in b:
        return False
    arch_a, arch_b = _arch_of(a), _arch_of(b)
    return arch_a is None or arch_b is None or arch_a == arch_b


_ARCH_DIRS = frozenset(
    {
        "alpha", "arm", "avr", "cris", "hexagon", "hppa", "i386", "loongarch", "m68k",
        "microblaze", "mips", "nios2", "or1k", "openrisc", "ppc", "riscv", "rx", "s390x",
        "sh4", "sparc", "sparc64", "tricore", "xtensa",
    }
)  # fmt: skip
_SAME_ARCH = {"sparc64": "sparc", "openrisc": "or1k"}


def _arch_of(path: str) -> str | None:
    """The target a file is built for alone: ``target/<arch>/`` and the boards
    of ``hw/<arch>/`` (hw/i386 is only in x86 binaries, hw/loongarch only in
    loongarch ones); None for code any target may build."""
    parts = path.split("/")
    if len(parts) > 2 and parts[0] in ("target", "hw") and parts[1] in _ARCH_DIRS:
        return _SAME_ARCH.get(parts[1], parts[1])
    return None


def new_section_facts(fm: FileModels, old_text: str | None, ctx: Context) -> Iterable[F.Fact]:
    """``dc->vmsd`` given to a device type the base already had, which had no section.

    Old machine types then send a section an older QEMU does not know (it fails
    the migration), unless ``.needed`` keeps it off for them.
    """
    if fm.new is None or fm.old is None or old_text is None:
        return
    if fm.path.endswith(".rs"):
        return  # a Rust device catching up with its C twin's section: the twin check judges it
    if any(word in old_text for word in _SAVEVM) or fm.old.registrations:
        return  # the device had some other way to migrate, or said it cannot
    old_types = {t.class_init: t for t in fm.old.types if t.class_init}
    stateless = [t for t in fm.old.types if t.parent in BASES_WITHOUT_STATE]
    for r in fm.new.registrations:
        if r.kind == "dc->vmsd" and r.function in old_types:
            t = old_types[r.function]
            if t.parent not in BASES_WITHOUT_STATE:
                continue
        elif r.kind == "vmstate_register" and len(stateless) == 1 and len(fm.old.types) == 1:
            # by hand, in the realize of the file's one device
            t = stateless[0]
        else:
            continue
        v = fm.new.vmsd(r.vmsd)
        if v is None or v.needed is not None or v.unmigratable:
            continue
        device = dict(fm.new.string_defines).get(t.name) or ctx.resolve(t.name) or t.name
        yield F.SectionAddedToExistingDevice(
            path=fm.path,
            line=r.line,
            vmsd=ctx.name_of(v, fm.new),
            subject=device,
            device=device,
            how=r.kind,
        )
