"""The fence a job's forge writes go through: the job's lease in the database.

Before each write the fence renews the lease (a conditional ``UPDATE`` that
matches only while this worker holds it) and holds a lock for the write, so
that `revoke` can wait for a write in flight before the job is handed back.
Once the lease is found gone, or revoked, every later write raises `LeaseLost`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

from bot.forges.fence import LeaseLost


class LeaseFence:
    def __init__(self, still_ours: Callable[[], bool]) -> None:
        self._still_ours = still_ours
        self._lock = threading.Lock()
        self._revoked = False

    @property
    def revoked(self) -> bool:
        return self._revoked

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        with self._lock:
            if self._revoked or not self._still_ours():
                self._revoked = True
                raise LeaseLost("the job's lease is gone: not writing to the forge")
            yield

    def revoke(self, wait: float = 0.0) -> bool:
        """Refuse every later write; wait up to ``wait`` s for one in flight.
        True when no write is in flight any more."""
        self._revoked = True
        free = self._lock.acquire(timeout=wait) if wait > 0 else self._lock.acquire(blocking=False)
        if not free:
            return False
        self._lock.release()
        return True
