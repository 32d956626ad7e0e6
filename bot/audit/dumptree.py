"""``migbot dump``: scan a revision and dump its VMSDs, for one machine's binary or all.

A real dump lists the device classes of one QEMU binary. With a machine type,
the binary is the target that has a board defining it (the 64-bit one when
both have it: ``pc-q35`` is in qemu-system-x86_64 and -i386), and a type is
kept when its file is built into that target, as bot.tiers' map says.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from bot.audit.dump import Dump, dump_vmstate
from bot.audit.index import TreeIndex
from bot.audit.layout import StructLayouts
from bot.audit.rusttwins import scan_rust_tree
from bot.audit.walk import scan_tree
from bot.errors import MigbotError
from bot.scanner.cache import ScanCache
from bot.scanner.model import FileModel
from bot.scanner.treeinfo import macro_table
from bot.sources.gitrepo import GitRepo, open_repo

_VERSION = re.compile(r"^\d+\.\d+(\.\d+)?$")


class MachineNotFoundError(MigbotError, LookupError):
    """No board of the tree defines the machine type."""


_WIDE = ("s390x", "alpha", "hppa")
"""Targets with a 64-bit ``target_ulong`` and no 64 in their name."""


@dataclass(frozen=True, slots=True)
class MachineFilter:
    targets: tuple[str, ...]
    include: Callable[[str], bool]

    @property
    def target_bits(self) -> int:
        t = self.targets[0]
        return 64 if "64" in t or t.split("-")[0] in _WIDE else 32


def machine_matches(name: str, family: str, versioned: bool) -> bool:
    """``pc-q35-7.2`` is a machine of the versioned family ``pc-q35``."""
    if name == family:
        return True
    return (
        versioned
        and name.startswith(family + "-")
        and bool(_VERSION.match(name[len(family) + 1 :]))
    )


def machine_filter(
    git: GitRepo,
    tree_id: str,
    machine: str,
    cache_dir: Path | None,
    target: str | None = None,
) -> MachineFilter:
    """Which files the binary running ``machine`` is built from (``target``,
    ``m68k`` or ``m68k-softmmu``, picks one when several define it)."""
    try:
        from bot.tiers import load_or_build, load_tier_rules
    except ImportError as exc:  # the tiers package is optional
        raise MachineNotFoundError(f"--machine needs bot.tiers ({exc})") from None
    tree = git.tree(tree_id)
    try:
        tmap = load_or_build(tree, load_tier_rules(), cache_dir)
    except Exception as exc:  # an odd tree: say why, as bot.tiers does
        raise MachineNotFoundError(
            f"the boards of this tree could not be read ({type(exc).__name__}: {exc}), "
            f"so no machine type {machine!r}"
        ) from None
    targets = sorted(
        {
            b.target
            for b in tmap.boards
            if any(machine_matches(machine, m.name, m.versioned) for m in b.machines)
        }
    )
    if not targets:
        raise MachineNotFoundError(f"no board of this tree defines the machine type {machine!r}")
    if target is not None:
        chosen = [t for t in targets if t in (target, f"{target}-softmmu")]
        if not chosen:
            raise MachineNotFoundError(
                f"{machine!r} is defined for {', '.join(targets)}, not for {target!r}"
            )
    else:
        wide = [t for t in targets if "64" in t]
        chosen = (wide or targets)[:1]

    def include(path: str) -> bool:
        entry = tmap.files.get(path)
        return entry is not None and any(t in entry.targets for t in chosen)

    return MachineFilter(tuple(chosen), include)


def dump_tree(
    repo: Path | GitRepo,
    rev: str,
    *,
    machine: str | None = None,
    target: str | None = None,
    jobs: int | None = None,
    cache_dir: Path | None = None,
    scans: ScanCache | None = None,
    rust: bool = False,
) -> Dump:
    """``rust``: dump as a QEMU built with its Rust devices, which then replace
    the C devices of the same type name (Rust devices without a C twin are in
    every dump)."""
    git = open_repo(repo)
    commit = git.commit(rev)
    chosen = machine_filter(git, commit.tree, machine, cache_dir, target) if machine else None
    scan = scan_tree(git, commit.oid, jobs=jobs, cache=scans)
    tree = git.tree(commit.tree)
    rust_files, _ = scan_rust_tree(tree, macro_table(tree))
    rust_models = [f.model for f in rust_files]
    models, replaced = with_rust_devices(scan.models, rust_models, scan.strings, rust)
    index = TreeIndex.build(models, scan.strings)
    result = dump_vmstate(
        index,
        machine=machine,
        include=chosen.include if chosen is not None else None,
        target_bits=chosen.target_bits if chosen is not None else None,
        layouts=StructLayouts(
            git,
            commit.tree,
            chosen.target_bits if chosen is not None else None,
            target=chosen.targets[0] if chosen is not None else None,
        ),
    )
    notes = list(result.notes)
    if chosen is not None:
        notes.insert(0, f"device types built into {', '.join(chosen.targets)}")
    else:
        notes.insert(0, "every device type of the tree, all targets (no --machine)")
    notes.append(
        "types registered by code at run time (names built with printf: xtensa cores, "
        "virtio-pci variants) are not in a dump from source"
    )
    if rust:
        notes.append(f"Rust devices in place of their C twins: {', '.join(replaced) or 'none'}")
    elif replaced:
        notes.append(f"C devices with a Rust twin (--rust dumps those): {', '.join(replaced)}")
    return Dump(result.data, tuple(notes))


def with_rust_devices(
    c_models: Sequence[FileModel],
    rust_models: Sequence[FileModel],
    strings: Mapping[str, str],
    rust: bool,
) -> tuple[list[FileModel], list[str]]:
    """The models a dump reads, and the type names that have both a C and a Rust device.

    Without ``rust`` the C device of a twin pair is kept; with it, the Rust one.
    """
    c_index = TreeIndex.build(c_models, strings)
    rust_names = {t.name for m in rust_models for t in m.types}
    both = sorted(rust_names & c_index.type_names())

    def without_twins(m: FileModel) -> FileModel:
        kept = tuple(t for t in m.types if c_index.resolve(t.name, m) not in both)
        return m if len(kept) == len(m.types) else replace(m, types=kept)

    if rust:
        return [without_twins(m) for m in c_models] + list(rust_models), both
    return list(c_models) + [without_twins(m) for m in rust_models], both
