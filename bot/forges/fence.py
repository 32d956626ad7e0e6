"""Fencing forge writes: only the holder of a job's lease may write to the forge.

The worker runs a job under a fence (`fenced`); the forge adapters wrap each
write in `guard()`, which asks the fence first and holds it during the write.
A fence that says no raises `LeaseLost`, which ends the job: a worker whose
lease is gone must not publish a second summary next to the new holder's.
Ambient per thread, so the `Forge` contract keeps its shape; outside a job
(the digest, tests of the adapters) nothing is fenced.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Protocol


class LeaseLost(Exception):
    """This worker no longer holds the job's lease: it must stop writing."""


class Fence(Protocol):
    def write(self) -> contextlib.AbstractContextManager[None]:
        """Held around one forge write; raises `LeaseLost` when not allowed."""
        ...


_local = threading.local()


@contextlib.contextmanager
def fenced(fence: Fence) -> Iterator[None]:
    """Run the block with ``fence`` guarding every forge write of this thread."""
    previous = getattr(_local, "fence", None)
    _local.fence = fence
    try:
        yield
    finally:
        _local.fence = previous


def guard() -> contextlib.AbstractContextManager[None]:
    """The current thread's fence around one write (nothing outside a job)."""
    fence: Fence | None = getattr(_local, "fence", None)
    return fence.write() if fence is not None else contextlib.nullcontext()


def check() -> None:
    """Raise `LeaseLost` now rather than at the next write (between job steps)."""
    with guard():
        pass
