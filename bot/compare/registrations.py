"""Facts about registrations (dc->vmsd, vmstate_register), QOM renames and C/Rust twins."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.compare import facts as F
from bot.compare.context import Context, FileModels
from bot.findings import Side
from bot.scanner.model import (
    FileModel,
)


def renamed_types(fm: FileModels, files: Sequence[FileModels], ctx: Context) -> Iterable[F.Fact]:
    """A ``#define TYPE_FOO "..."`` whose string changed renames the sections named by it."""
    if fm.old is None or fm.new is None:
        return
    old, new = dict(fm.old.string_defines), dict(fm.new.string_defines)
    for macro in sorted(old.keys() & new.keys()):
        if old[macro] == new[macro] or not macro.startswith("TYPE_"):
            continue
        users = {
            other.path
            for other in files
            if other.new is not None and any(v.name_expr == macro for v in other.new.vmsds)
        } | set(ctx.vmsds_named(macro))
        for path in sorted(users):
            yield F.VmsdRenamed(
                path=path,
                line=None,
                side=Side.FILE,
                vmsd=new[macro],
                subject=old[macro],
                old_name=old[macro],
                new_name=new[macro],
            )


def registration_facts(fm: FileModels, files: Sequence[FileModels]) -> Iterable[F.Fact]:
    """A VMSD that becomes a section twice: embedded by a registered parent, or
    registered by hand as well as through ``dc->vmsd``.

    Sibling classes sharing one VMSD through ``dc->vmsd`` are fine: each
    instance is one section.
    """
    if fm.new is None or fm.old is None:
        return
    old = {(r.kind, r.vmsd, r.function) for r in fm.old.registrations}
    added = [r for r in fm.new.registrations if (r.kind, r.vmsd, r.function) not in old]
    if not added:
        return  # (the common case: no need to look at every file of the change)
    nested_anywhere = {
        f.vmsd: v.ident
        for other in files
        if other.new is not None
        for v in other.new.vmsds
        for f in v.fields
        if f.vmsd
    }
    for r in added:
        others: list[str] = []
        if r.kind == "dc->vmsd" and r.vmsd in nested_anywhere:
            others.append(f"embedded in {nested_anywhere[r.vmsd]}")
        others.extend(
            f"{o.kind} in {o.function or 'file scope'}"
            for o in fm.new.registrations
            if o.vmsd == r.vmsd and o.kind != r.kind
        )
        if others:
            yield F.SecondRegistration(
                path=fm.path,
                line=r.line,
                vmsd=r.vmsd,
                subject=r.vmsd,
                registration=r,
                others=tuple(others),
            )


def twin_facts(files: Sequence[FileModels], ctx: Context) -> Iterable[F.Fact]:
    migration_paths = {
        fm.path for fm in files if fm.new is not None and fm.old is not None and _state_changed(fm)
    } | set(ctx.rust_vmstate_paths)
    for c_path, rust_dir in ctx.twins:
        c_hit = c_path in migration_paths
        rust_hit = any(p.startswith(rust_dir) for p in migration_paths)
        rust_touched = any(p.startswith(rust_dir) for p in ctx.changed_paths)
        c_touched = c_path in ctx.changed_paths
        if c_hit and not rust_touched:
            yield F.RustTwinOneSided(
                path=c_path, line=None, side=Side.FILE, subject=rust_dir, twin=rust_dir
            )
        elif rust_hit and not c_touched:
            path = next(p for p in migration_paths if p.startswith(rust_dir))
            yield F.RustTwinOneSided(
                path=path, line=None, side=Side.FILE, subject=c_path, twin=c_path
            )


def _state_changed(fm: FileModels) -> bool:
    """Whether the file's migration state (any VMSD's version, fields, subsections) changed."""
    assert fm.old is not None and fm.new is not None
    return _state_of(fm.old) != _state_of(fm.new)


def _state_of(model: FileModel) -> list[tuple[object, ...]]:
    return [
        (v.ident, v.version_id, [f.wire_key() for f in v.fields], v.subsections)
        for v in model.vmsds
    ]
