"""The Rust side of a tree: the bindings' table, a crate's files, a file's model."""

from __future__ import annotations

import threading

from bot.change import Tree
from bot.scanner.macros import MacroTable
from bot.scanner.model import FileModel
from bot.scanner.rust.scan import crate_of, scan_rust
from bot.scanner.rust.table import RustTable, fallback_table, learned_table

_lock = threading.Lock()
_tables: dict[str, RustTable] = {}


def is_rust_device(path: str) -> bool:
    """Device code under ``rust/hw/`` (not the bindings of ``rust/hw/core``, not tests)."""
    return (
        path.endswith(".rs")
        and path.startswith("rust/hw/")
        and not path.startswith("rust/hw/core/")
        and "/tests/" not in path
    )


def is_bindings(path: str) -> bool:
    """Files that may define what a VMState form means (rust/migration, qom, hw/core...)."""
    return path.endswith(".rs") and path.startswith("rust/") and not is_rust_device(path)


def rust_table(tree: Tree | None) -> RustTable:
    """What the tree's bindings say (``impl_vmstate_*!``), over the fallback table."""
    if tree is None or tree.grep is None:
        return fallback_table()
    with _lock:
        hit = _tables.get(tree.tree_id)
    if hit is not None:
        return hit
    files = []
    for path in tree.grep("impl_vmstate_", "rust/*.rs"):
        if is_bindings(path):
            text = tree.read(path)
            if text is not None:
                files.append((path, text))
    table = learned_table(files)
    with _lock:
        if len(_tables) > 16:
            _tables.pop(next(iter(_tables)))
        _tables[tree.tree_id] = table
    return table


def crate_texts(tree: Tree | None, path: str) -> dict[str, str]:
    """The other ``.rs`` files of the crate of ``path`` that declare types or constants."""
    if tree is None or tree.grep is None:
        return {}
    crate = crate_of(path)
    paths: set[str] = set()
    for needle in ("struct", "const", "impl_vmstate_"):
        paths.update(tree.grep(needle, f"{crate}*.rs"))
    out = {}
    for p in sorted(paths):
        text = tree.read(p)
        if text is not None:
            out[p] = text
    return out


def scan_in_tree(text: str, path: str, tree: Tree | None, c_table: MacroTable) -> FileModel:
    """Model of one Rust file, its crate and bindings read from ``tree``."""
    return scan_rust(text, path, rust_table(tree), c_table, crate_texts(tree, path))
