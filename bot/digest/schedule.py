"""The in-process schedule: ``migbot serve`` posts the digest itself (default
Mondays 08:00 UTC, setting ``digest_schedule``), for deployments without a
CronJob or a systemd timer.

Several replicas may run it. A slot is done once: the replica that takes the
``digest`` lease checks the store for the period's digest, and posts only if
no one has (the CronJob's ``migbot digest --post`` records its post the same
way). A slot missed while the service was down is caught up within
`CATCH_UP` of its time; a failed post is retried until then.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from datetime import datetime, timedelta

import structlog
from sqlalchemy import Engine

from bot.digest.period import Period
from bot.digest.publish import LEASE, LEASE_SECONDS, publish, store, target_from_settings
from bot.digest.stored import digest_from_store
from bot.forges.contract import Forge
from bot.settings import ConfigError, Settings
from bot.settings.timespec import parse_moment, parse_schedule
from bot.store import leases
from bot.store.digests import get_digest, mark_posted
from bot.store.models import utcnow

CATCH_UP = timedelta(hours=12)
RETRY = timedelta(minutes=5)


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def run_slot(
    engine: Engine,
    settings: Settings,
    forges: Mapping[str, Forge],
    due: datetime,
    *,
    owner: str,
    now: datetime | None = None,
) -> str:
    """Post the digest of the period ending at ``due``, unless already done.

    Returns ``posted``, ``done`` (someone posted it) or ``busy`` (another
    process holds the lease: it is posting, or will be retried)."""
    if not leases.acquire(engine, LEASE, owner, seconds=LEASE_SECONDS):
        return "busy"
    try:
        period = Period(parse_moment(settings.digest_period, due), due)
        row = get_digest(engine, period.key)
        if row is not None and row.posted_at is not None:
            return "done"
        digest = digest_from_store(engine, period, weeks=settings.digest_weeks, now=now or utcnow())
        store(engine, digest)
        published = publish(digest, target_from_settings(settings, forges))
        mark_posted(
            engine, digest.key, issue_url=published.issue_url, page_path=published.page_path
        )
        return "posted"
    finally:
        leases.release(engine, LEASE, owner)


Clock = Callable[[], datetime]


class DigestScheduler:
    """Wakes at each slot of the schedule and runs `run_slot` in a thread."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        forges: Mapping[str, Forge],
        *,
        pool: Executor | None = None,
        clock: Clock = utcnow,
        owner: str | None = None,
        retry: timedelta = RETRY,
    ) -> None:
        schedule = parse_schedule(settings.digest_schedule)
        if schedule is None:
            raise ConfigError("digest_schedule is off")
        self.schedule = schedule
        self.settings = settings
        self.engine = engine
        self.forges = forges
        self.pool = pool
        self.clock = clock
        self.owner = owner or owner_id()
        self.retry = retry
        self.results: list[tuple[datetime, str]] = []
        self._done: set[datetime] = set()
        self._stop = asyncio.Event()

    async def _attempt(self, due: datetime) -> str:
        log = structlog.get_logger("migbot.digest")
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(
                self.pool,
                lambda: run_slot(self.engine, self.settings, self.forges, due, owner=self.owner),
            )
        except Exception as exc:
            log.warning("digest not posted, will retry", slot=due.isoformat(), error=str(exc))
            result = "failed"
        else:
            log.info("digest slot", slot=due.isoformat(), result=result)
        self.results.append((due, result))
        return result

    async def run(self) -> None:
        while not self._stop.is_set():
            now = self.clock()
            due = self.schedule.last_at_or_before(now)
            wake = self.schedule.next_after(now)
            if now - due <= CATCH_UP and due not in self._done:
                result = await self._attempt(due)
                if result in ("busy", "failed"):
                    wake = min(wake, self.clock() + self.retry)
                else:
                    self._done.add(due)
            delay = (wake - self.clock()).total_seconds()
            # Wake at least hourly: a suspended host's clock may have jumped.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=max(0.0, min(delay, 3600.0)))

    def stop(self) -> None:
        self._stop.set()
