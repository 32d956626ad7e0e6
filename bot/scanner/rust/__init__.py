"""Read Rust VMState descriptions (QEMU's Rust bindings) into the C scanner's model."""

from bot.scanner.rust.scan import crate_of, scan_rust
from bot.scanner.rust.table import RustTable, fallback_table, learned_table

__all__ = ["RustTable", "crate_of", "fallback_table", "learned_table", "scan_rust"]
