"""The Rust side of a tree: the bindings' table, a crate's files, a file's model."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from bot.change import Tree
from bot.scanner.rust.paths import crate_of, is_bindings, is_rust_device

if TYPE_CHECKING:
    from bot.scanner.macros import MacroTable
    from bot.scanner.model import FileModel
    from bot.scanner.rust.table import RustTable

__all__ = ["crate_texts", "is_bindings", "is_rust_device", "rust_table", "scan_in_tree"]

_lock = threading.Lock()
_tables: dict[str, RustTable] = {}


def rust_table(tree: Tree | None) -> RustTable:
    """What the tree's bindings say (``impl_vmstate_*!``), over the fallback table."""
    from bot.scanner.rust.table import fallback_table, learned_table

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
    """Model of one Rust file, its crate and bindings read from ``tree``
    (tree-sitter is loaded here, when a change has Rust in it)."""
    from bot.scanner.rust.scan import scan_rust

    return scan_rust(text, path, rust_table(tree), c_table, crate_texts(tree, path))
