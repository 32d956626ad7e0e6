"""Scan once per blob: the on-disk cache shared by every run and process."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

from bot.scanner.cache import FILE_NAME, ScanCache, open_scan_cache, text_id
from bot.scanner.macros import fallback_table
from bot.scanner.scan import scan

UART = """
static const VMStateDescription vmstate_acme_uart = {
    .name = "acme-uart",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(lcr, AcmeUARTState),
        VMSTATE_END_OF_LIST()
    }
};
"""


def _scan_through(directory: Path, text: str) -> int:
    cache = ScanCache(directory)
    key = ScanCache.key("file", text_id(text), "hw/char/acme_uart.c", fallback_table().digest)
    model = cache.through(key, lambda: scan(text, "hw/char/acme_uart.c", fallback_table()))
    cache.close()
    return len(model.vmsds[0].fields)


def test_a_scan_is_stored_and_found_again(tmp_path: Path) -> None:
    cache = ScanCache(tmp_path)
    key = ScanCache.key("file", text_id(UART), "hw/char/acme_uart.c", "t")
    calls: list[int] = []

    def compute() -> object:
        calls.append(1)
        return scan(UART, "hw/char/acme_uart.c", fallback_table())

    first = cache.through(key, compute)
    again = ScanCache(tmp_path).through(key, compute)  # another process would see it too
    assert first == again and len(calls) == 1


def test_the_key_changes_with_content_path_and_what_the_scan_was_given() -> None:
    base = ScanCache.key("file", text_id(UART), "a.c", "table-1")
    assert base != ScanCache.key("file", text_id(UART + "\n"), "a.c", "table-1")
    assert base != ScanCache.key("file", text_id(UART), "b.c", "table-1")
    assert base != ScanCache.key("file", text_id(UART), "a.c", "table-2")
    assert text_id("hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"  # git's blob id


def test_an_unreadable_value_is_a_miss_not_an_error(tmp_path: Path) -> None:
    cache = ScanCache(tmp_path)
    db = sqlite3.connect(tmp_path / FILE_NAME)
    db.execute("INSERT INTO scans VALUES ('k', x'00ff')")
    db.commit()
    assert cache.get_many(["k"]) == {}
    assert cache.through("k", lambda: 42) == 42


def test_processes_share_one_cache_at_once(tmp_path: Path) -> None:
    texts = [UART.replace("lcr", f"r{i}") for i in range(8)]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        counts = pool.starmap(_scan_through, [(tmp_path, t) for t in texts * 2])
    fields = len(scan(UART, "hw/char/acme_uart.c", fallback_table()).vmsds[0].fields)
    assert counts == [fields] * 16
    assert (
        len(
            ScanCache(tmp_path).get_many(
                ScanCache.key("file", text_id(t), "hw/char/acme_uart.c", fallback_table().digest)
                for t in texts
            )
        )
        == 8
    )


def test_a_cache_that_cannot_be_opened_means_no_cache(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    assert open_scan_cache(tmp_path / "file") is None
