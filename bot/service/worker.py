"""The background worker: claims jobs, runs them in a bounded thread pool.

Runs inside ``migbot serve`` (a cleanup context starts and stops it) or alone
(``migbot worker``). A lease, renewed while a job runs, is what makes a job
survive a killed worker: once it expires, any worker claims the job again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Engine

from bot.forges.fence import LeaseLost, fenced
from bot.service.lease_fence import LeaseFence
from bot.service.logs import get_logger
from bot.service.metrics import Metrics
from bot.service.review_job import JobContext, JobOutcome, run_review
from bot.settings import Settings
from bot.store import jobs
from bot.store.jobs import JobRecord
from bot.store.models import utcnow

log = get_logger("migbot.worker")
T = TypeVar("T")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    def __init__(
        self,
        *,
        settings: Settings,
        engine: Engine,
        context: JobContext,
        metrics: Metrics,
        db_pool: ThreadPoolExecutor,
        job_pool: ThreadPoolExecutor,
        wake: asyncio.Event | None = None,
        worker_id: str | None = None,
        run_job: Callable[[JobContext, JobRecord], JobOutcome] | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.context = context
        self.metrics = metrics
        self.db_pool = db_pool
        self.job_pool = job_pool
        self.wake = wake or asyncio.Event()
        self.worker_id = worker_id or worker_name()
        self._run_job = run_job or (lambda ctx, job: run_review(ctx, job, started_at=utcnow()))
        self._stopping = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._running: dict[int, JobRecord] = {}
        self._fences: dict[int, LeaseFence] = {}

    async def _db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.db_pool, lambda: fn(*args, **kwargs))

    async def run(self) -> None:
        """Claim and run jobs until `stop`."""
        slots = asyncio.Semaphore(self.settings.worker_concurrency)
        log.info("worker started", worker=self.worker_id)
        while not self._stopping:
            await slots.acquire()
            if self._stopping:
                slots.release()
                break
            try:
                job = await self._db(
                    jobs.claim,
                    self.engine,
                    self.worker_id,
                    lease_seconds=self.settings.lease_seconds,
                )
            except Exception as exc:
                slots.release()
                log.error("claim failed", error=str(exc))
                await self._idle()
                continue
            if job is None:
                slots.release()
                await self._idle()
                continue
            task = asyncio.create_task(self._process(job))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            task.add_done_callback(lambda _t: slots.release())

    async def _idle(self) -> None:
        self.wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), timeout=self.settings.poll_interval_s)

    async def _heartbeat(self, job: JobRecord) -> None:
        interval = max(self.settings.lease_seconds / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            kept = await self._db(
                jobs.heartbeat,
                self.engine,
                job.id,
                self.worker_id,
                lease_seconds=self.settings.lease_seconds,
            )
            if not kept:
                # Someone else may run the job now: this worker must not write again.
                fence = self._fences.get(job.id)
                if fence is not None:
                    fence.revoke()
                log.warning("lease lost; the job stops at its next step", job=job.id)
                return

    def _fence(self, job: JobRecord) -> LeaseFence:
        def still_ours() -> bool:
            return jobs.heartbeat(
                self.engine, job.id, self.worker_id, lease_seconds=self.settings.lease_seconds
            )

        return LeaseFence(still_ours)

    def _run_fenced(self, fence: LeaseFence, job: JobRecord) -> JobOutcome:
        with fenced(fence):
            return self._run_job(self.context, job)

    async def _process(self, job: JobRecord) -> None:
        log.info("job claimed", job=job.id, mr=job.mr_key, attempt=job.attempts)
        self._running[job.id] = job
        fence = self._fences[job.id] = self._fence(job)
        self.metrics.jobs_in_flight.inc()
        beat = asyncio.create_task(self._heartbeat(job))
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            outcome = await loop.run_in_executor(self.job_pool, self._run_fenced, fence, job)
        except asyncio.CancelledError:
            raise
        except LeaseLost:
            # Not ours any more: nothing to record, the new holder does the job.
            self.metrics.jobs.labels(outcome="lease_lost").inc()
            log.warning("job abandoned: lease lost", job=job.id, mr=job.mr_key)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            state = await self._db(
                jobs.fail,
                self.engine,
                job.id,
                self.worker_id,
                error + "\n" + "".join(traceback.format_exception(exc)[-3:]),
                backoff_seconds=self.settings.retry_backoff_s,
            )
            self.metrics.jobs.labels(outcome=state or "lost").inc()
            log.warning("job failed", job=job.id, mr=job.mr_key, error=error, state=state)
        else:
            await self._db(jobs.complete, self.engine, job.id, self.worker_id)
            self.metrics.jobs.labels(outcome="done").inc()
            self.metrics.job_seconds.observe(loop.time() - started)
            log.info(
                "job done",
                job=job.id,
                mr=job.mr_key,
                head=outcome.head_sha,
                verdict=str(outcome.verdict),
                findings=outcome.findings,
                seconds=round(loop.time() - started, 3),
            )
        finally:
            beat.cancel()
            self._running.pop(job.id, None)
            self._fences.pop(job.id, None)
            self.metrics.jobs_in_flight.dec()

    async def stop(self, grace: float | None = None) -> None:
        """Stop claiming; wait ``grace`` seconds for running jobs, give back the rest.

        A job given back is fenced first: its thread (which cannot be killed)
        may finish a write in flight, but writes nothing after, so the worker
        that takes the job over is the only one to publish."""
        grace = self.settings.stop_grace_s if grace is None else grace
        self._stopping = True
        self.wake.set()
        pending = set(self._tasks)
        if pending:
            _done, still = await asyncio.wait(pending, timeout=grace)
            loop = asyncio.get_running_loop()
            for job in list(self._running.values()):
                fence = self._fences.get(job.id)
                if fence is not None:
                    idle = await loop.run_in_executor(None, fence.revoke, 5.0)
                    if not idle:
                        log.warning("a forge write is still in flight", job=job.id)
                await self._db(jobs.release, self.engine, job.id, self.worker_id)
                log.info("job released", job=job.id)
            for task in still:
                task.cancel()
        log.info("worker stopped", worker=self.worker_id)
