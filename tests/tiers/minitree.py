"""The tier tests' tree: the base tree with tests/tiers/tree laid over it.

The overlay has one board per machine family the tier policy names, laid out
the way QEMU lays them out: Kconfig reached through ``source``, meson source
sets with ``add_all`` and per-arch registries, configs/targets and
configs/devices, and machine definitions in C (all written for these tests,
nothing copied from QEMU). It replaces the base tree's Kconfig, meson.build
and configs/ files, so the base's own devices are in the tree but on no board.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from bot.change import Tree
from tests.fixtures.tree import git_tree, text_files

OVERLAY = Path(__file__).resolve().parent / "tree"


def files() -> dict[str, str]:
    """The whole tree, path -> text."""
    return text_files(OVERLAY)


def dict_tree(content: Mapping[str, str], tree_id: str = "mini-1", *, grep: bool = True) -> Tree:
    """A `Tree` over a dict; ``grep(needle, under)`` searches texts below ``under``."""
    data = dict(content)

    def search(needle: str, under: str) -> list[str]:
        prefix = under.rstrip("/") + "/" if under else ""
        return sorted(p for p, t in data.items() if p.startswith(prefix) and needle in t)

    return Tree(tree_id=tree_id, read=data.get, grep=search if grep else None)


def git_repo(root: Path, content: Mapping[str, str], *, bare: bool = True) -> Path:
    """Commit ``content`` (a whole tree) in a fresh repository; return it (a bare clone
    by default)."""
    return git_tree(root, content, base=None, message="mini tree", bare=bare)
