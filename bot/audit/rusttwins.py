"""The audit's Rust side: scan the Rust devices of a revision, hold each against its C twin."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.audit.checks import Problem
from bot.audit.inventory import RustTwin
from bot.audit.walk import ScannedFile, TextFacts, TreeScan
from bot.change import Tree
from bot.compare import facts as F
from bot.compare.twins import _find, header_int, top_level
from bot.compare.twinwire import Side, differences
from bot.scanner.macros import MacroTable
from bot.scanner.model import FileModel
from bot.scanner.rust import crate_of, learned_table, scan_rust
from bot.scanner.rust.tree import is_bindings, is_rust_device


@dataclass(frozen=True, slots=True)
class TwinResult:
    twin: RustTwin
    line: int


def twin_problems(results: list[TwinResult]) -> list[Problem]:
    """Every Rust section that does not migrate like its C twin (rust-twin-differs)."""
    return [
        Problem(
            F.TwinDiffers(
                path=r.twin.rust_path,
                line=r.line,
                vmsd=r.twin.name,
                subject=r.twin.name,
                twin=r.twin.c_path or "its C twin",
                difference="; ".join(r.twin.differences[:3]),
            )
        )
        for r in results
        if r.twin.agrees is False
    ]


def scan_rust_tree(tree: Tree, table: MacroTable) -> tuple[list[ScannedFile], float]:
    """Every Rust device file that describes VMState, and the seconds it took.

    One ``git grep`` lists the Rust files; each is read once, and the crates
    and the bindings' table are built from those texts.
    """
    start = time.perf_counter()
    out: list[ScannedFile] = []
    if tree.grep is None:
        return out, time.perf_counter() - start
    texts: dict[str, str] = {}
    for path in tree.grep("", "rust/*.rs"):
        text = tree.read(path)
        if text is not None:
            texts[path] = text
    rust = learned_table(
        (p, t) for p, t in texts.items() if is_bindings(p) and "impl_vmstate_" in t
    )
    for path, text in sorted(texts.items()):
        if not is_rust_device(path) or "VMStateDescription" not in text:
            continue
        crate = crate_of(path)
        siblings = {p: t for p, t in texts.items() if p.startswith(crate)}
        model = scan_rust(text, path, rust, table, siblings)
        out.append(ScannedFile(model, TextFacts()))
    return out, time.perf_counter() - start


def twin_results(scan: TreeScan, rust: list[ScannedFile], tree: Tree) -> list[TwinResult]:
    """Each top-level Rust VMSD against the C VMSD with the same section name."""
    c_models = [f.model for f in scan.files if not f.model.path.endswith(".rs")]
    r_models = [f.model for f in rust]
    out = []
    for m in r_models:
        for v in top_level(m):
            if v.name is None:
                continue
            owner = _c_owner(c_models, v.name)
            crate = [r for r in r_models if r.path.split("/src/")[0] == m.path.split("/src/")[0]]
            found = _find([owner] if owner else [], crate, v.name)
            if owner is None or found is None:
                out.append(TwinResult(RustTwin(v.name, m.path, None, None), v.line))
                continue
            ints = lambda n: header_int(tree, n)  # noqa: E731
            diffs = differences(
                Side("C", c_models, ints), found[0], Side("Rust", crate + c_models, ints), found[1]
            )
            agrees = None if diffs is None else not diffs
            twin = RustTwin(v.name, m.path, owner.path, agrees, tuple(diffs or ()))
            out.append(TwinResult(twin, v.line))
    return out


def _c_owner(models: list[FileModel], name: str) -> FileModel | None:
    for m in models:
        if any(v.name == name for v in top_level(m)) and m.registrations:
            return m
    return next((m for m in models if any(v.name == name for v in top_level(m))), None)
