"""The worker as a child process of ``migbot serve``: started, restarted, stopped.

Reviews are CPU work in Python: in threads of the serving process they hold
the GIL and delay acknowledgements. A child process shares nothing but the
database, which is how `migbot worker` runs anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import replace

from aiohttp import web

from bot.service import logs
from bot.service.keys import SETTINGS
from bot.service.parent_death import PARENT_ENV
from bot.settings import settings_environ

_RESTART_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)
_STOP_MARGIN_S = 5.0
"""Beyond the worker's own grace, before it is killed."""


async def worker_child(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: keep one ``migbot worker`` running while the app runs."""
    settings = app[SETTINGS]
    # Acknowledging deliveries is what must stay fast; reviews can wait.
    idle = settings.worker_idle_priority is not False
    child = replace(settings, worker_idle_priority=idle)
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("MIGBOT_")}
    env = inherited | settings_environ(child) | {PARENT_ENV: str(os.getpid())}
    log = logs.get_logger("migbot.serve")
    stopping = asyncio.Event()
    current: list[asyncio.subprocess.Process] = []

    async def supervise() -> None:
        failures = 0
        while not stopping.is_set():
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "worker", env=env
            )
            current[:] = [proc]
            log.info("worker process started", pid=proc.pid)
            code = await proc.wait()
            if stopping.is_set():
                return
            delay = _RESTART_DELAYS[min(failures, len(_RESTART_DELAYS) - 1)]
            failures += 1
            log.warning("worker process exited; restarting", code=code, delay_s=delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), delay)

    task = asyncio.create_task(supervise())
    yield
    stopping.set()
    for proc in current:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), settings.stop_grace_s + _STOP_MARGIN_S)
            except TimeoutError:
                proc.kill()
                await proc.wait()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
