"""Scan many files at once in worker processes (a change of hundreds of files).

Each worker gets the macro table once, at start; each task is one file's text.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

from bot.scanner.macros import MacroTable
from bot.scanner.model import FileModel
from bot.scanner.scan import scan

_table: MacroTable | None = None


def _init(table: MacroTable) -> None:
    global _table
    _table = table


def _scan_one(item: tuple[str, str]) -> FileModel:
    text, path = item
    assert _table is not None
    return scan(text, path, _table)


def cpus() -> int:
    """The CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def scan_many(items: Sequence[tuple[str, str]], table: MacroTable, jobs: int) -> list[FileModel]:
    """``scan(text, path, table)`` of each (text, path), in order; ``jobs`` > 1
    uses that many worker processes."""
    if jobs <= 1 or len(items) < 2 * jobs:
        return [scan(text, path, table) for text, path in items]
    # Biggest first, so no worker is left with a large file at the end.
    order = sorted(range(len(items)), key=lambda k: -len(items[k][0]))
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=get_context("spawn"), initializer=_init, initargs=(table,)
    ) as pool:
        done = list(pool.map(_scan_one, [items[k] for k in order], chunksize=4))
    out: list[FileModel | None] = [None] * len(items)
    for k, model in zip(order, done, strict=True):
        out[k] = model
    return [m for m in out if m is not None]
