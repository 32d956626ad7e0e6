"""Which Rust files are what, from their paths alone (no tree-sitter needed)."""

from __future__ import annotations


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


def crate_of(path: str) -> str:
    """``rust/hw/char/pl011/src/device.rs`` -> ``rust/hw/char/pl011/``."""
    parts = path.split("/")
    if "src" in parts:
        return "/".join(parts[: parts.index("src")]) + "/"
    return "/".join(parts[:-1]) + "/"
