"""The weekly digest's built-in schedule, run while the service runs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from bot.digest.schedule import DigestScheduler
from bot.service.keys import DB_POOL, ENGINE, FORGES, SETTINGS
from bot.settings.timespec import parse_schedule

SCHEDULER = web.AppKey("digest_scheduler", DigestScheduler)


async def scheduler_context(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: run the schedule while the app runs (when it is not off)."""
    settings = app[SETTINGS]
    if parse_schedule(settings.digest_schedule) is None:
        yield
        return
    scheduler = DigestScheduler(settings, app[ENGINE], app[FORGES], pool=app[DB_POOL])
    app[SCHEDULER] = scheduler
    task = asyncio.create_task(scheduler.run())
    yield
    scheduler.stop()
    # A post under way finishes (its thread cannot be interrupted); give it a while.
    with contextlib.suppress(asyncio.CancelledError, TimeoutError):
        await asyncio.wait_for(task, timeout=30)
