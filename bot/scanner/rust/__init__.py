"""Read Rust VMState descriptions (QEMU's Rust bindings) into the C scanner's model.

The names below are imported when first asked for: tree-sitter is loaded only
when Rust is read (``paths`` answers from a path alone)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.scanner.rust.paths import crate_of
    from bot.scanner.rust.scan import scan_rust
    from bot.scanner.rust.table import RustTable, fallback_table, learned_table

__all__ = ["RustTable", "crate_of", "fallback_table", "learned_table", "scan_rust"]

_WHERE = {
    "RustTable": "bot.scanner.rust.table",
    "crate_of": "bot.scanner.rust.paths",
    "fallback_table": "bot.scanner.rust.table",
    "learned_table": "bot.scanner.rust.table",
    "scan_rust": "bot.scanner.rust.scan",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value
