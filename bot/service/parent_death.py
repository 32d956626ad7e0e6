"""A worker child that dies with its parent (``serve --worker-process``).

Killed with -9, ``migbot serve`` cannot stop its worker; the orphan would keep
running under PID 1 next to the one a restarted ``serve`` starts. Two guards:
on Linux the kernel sends SIGTERM when the parent dies (``PR_SET_PDEATHSIG``),
and everywhere a watchdog thread sends it when the parent pid changes. SIGTERM
is the worker's graceful stop: running jobs are given back, fenced.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys
import threading

PARENT_ENV = "MIGBOT_WORKER_PARENT_PID"
"""Set by ``serve`` for its worker child: the pid the child must outlive never."""
_PR_SET_PDEATHSIG = 1


def _set_pdeathsig(sig: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)) == 0
    return False


def _watch(parent: int, interval: float) -> None:
    stop = threading.Event()
    while not stop.wait(interval):
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGTERM)
            return


def die_with_parent(parent: int, *, interval: float = 1.0) -> None:
    """Arrange SIGTERM for this process when ``parent`` exits; exit now if it has."""
    _set_pdeathsig(signal.SIGTERM)
    # The parent may have died before prctl took effect: then we are already orphaned.
    if os.getppid() != parent:
        raise SystemExit(f"migbot worker: parent process {parent} is gone; exiting")
    threading.Thread(
        target=_watch, args=(parent, interval), name="migbot-parent-watch", daemon=True
    ).start()


def from_environment() -> None:
    """`die_with_parent` when started by ``serve`` (the variable is set)."""
    raw = os.environ.get(PARENT_ENV, "")
    if raw.isdigit():
        die_with_parent(int(raw))
