"""Scan once per blob: every file's scan result kept on disk, keyed by its content.

A key is the content's id (a git blob id, or a hash of the text for a patch),
the path (models carry it), the scanner's own code and what the scan was
given (the macro table, the header strings). Any revision's model is then the
cache plus scans of the blobs it has not seen. One SQLite file in WAL mode
serves every process at once (check, audit, dump, digest, the service); a
write that loses a race or finds the disk full costs time, never results.

Values are pickled: the cache lives in the user's own cache directory and is
written only by migbot. A value that does not load (another Python, a
truncated write) is a miss.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import pickle
import sqlite3
import threading
import zlib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

FILE_NAME = "scans.sqlite3"


@functools.cache
def scanner_digest() -> str:
    """A hash of the scanner's code: another scanner may read a file differently."""
    h = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def text_id(text: str) -> str:
    """The id of a text whose blob id is not at hand (a patched file)."""
    data = text.encode("utf-8", "surrogateescape")
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def digest_of(values: Mapping[str, str]) -> str:
    """A stable hash of a mapping (the header strings a scan resolved names with)."""
    h = hashlib.sha256()
    for key in sorted(values):
        h.update(key.encode("utf-8", "surrogateescape") + b"\0")
        h.update(values[key].encode("utf-8", "surrogateescape") + b"\0")
    return h.hexdigest()[:16]


class ScanCache:
    """Scan results by key, in one SQLite file shared by every process."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / FILE_NAME
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
        with contextlib.suppress(sqlite3.OperationalError):
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS scans (key TEXT PRIMARY KEY, value BLOB)")
        self._db.commit()
        self.hits = 0
        self.misses = 0

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @staticmethod
    def key(kind: str, content_id: str, path: str, *given: str) -> str:
        parts = (kind, scanner_digest(), content_id, path, *given)
        return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()

    def get_many(self, keys: Iterable[str]) -> dict[str, object]:
        """The values found for ``keys`` (a missing or unreadable one is left out)."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, object] = {}
        with self._lock:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                try:
                    rows = self._db.execute(
                        f"SELECT key, value FROM scans WHERE key IN ({marks})",  # noqa: S608
                        chunk,
                    ).fetchall()
                except sqlite3.Error:
                    rows = []
                for key, value in rows:
                    with contextlib.suppress(Exception):
                        found[key] = pickle.loads(zlib.decompress(value))  # noqa: S301
        self.hits += len(found)
        self.misses += len(wanted) - len(found)
        return found

    def put_many(self, items: Mapping[str, object]) -> None:
        if not items:
            return
        rows = [(k, zlib.compress(pickle.dumps(v, protocol=5), 1)) for k, v in items.items()]
        with self._lock:
            try:
                self._db.executemany("INSERT OR REPLACE INTO scans VALUES (?, ?)", rows)
                self._db.commit()
            except sqlite3.Error:
                # Locked for too long, read-only or a full disk: the next run scans again.
                with contextlib.suppress(sqlite3.Error):
                    self._db.rollback()

    def through(self, key: str, compute: Callable[[], T]) -> T:
        """The cached value of ``key``, else ``compute()`` stored under it."""
        found = self.get_many([key])
        if key in found:
            return found[key]  # type: ignore[return-value]
        value = compute()
        self.put_many({key: value})
        return value


def open_scan_cache(directory: Path) -> ScanCache | None:
    """The cache in ``directory``, or None when it cannot be opened (read-only home,
    a corrupt file): every scan is then made afresh."""
    try:
        return ScanCache(directory)
    except (OSError, sqlite3.Error):
        return None
