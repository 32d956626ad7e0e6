"""Deliveries on their way to the database: batched, bounded, with a deadline.

Each request hands its delivery to the writer and waits for the batch it went
into to commit. Many deliveries share one transaction (see
`bot.store.intake_batch`), so the cost per delivery stays small at hundreds a
second. What is not stored is not acknowledged: past ``max_in_flight``
deliveries not yet stored, or past the deadline, the answer is 503 and the
forge delivers again (a replay is recognised, so nothing is stored twice).
"""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from bot.service.logs import get_logger
from bot.store.intake_batch import Incoming, accept_batch
from bot.store.jobs import Accepted

log = get_logger("migbot.intake")
_WRITERS = 1
"""Batches being written at once. One: while it commits, the next batch fills."""
_LINGER_S = 0.002
"""How long a batch waits for company before it is written: each transaction
costs a few round trips to the database, shared by all in the batch."""


class IntakeBusy(Exception):
    """Too many deliveries not yet stored: answer 503 with Retry-After."""


class IntakeWriter:
    def __init__(
        self,
        engine: Engine,
        pool: ThreadPoolExecutor,
        *,
        max_batch: int,
        max_in_flight: int,
        max_attempts: int,
        timeout: float,
    ) -> None:
        self._engine = engine
        self._pool = pool
        self._max_batch = max(1, max_batch)
        self._max_in_flight = max(1, max_in_flight)
        self._max_attempts = max_attempts
        self.timeout = timeout
        self._pending: list[tuple[Incoming, asyncio.Future[Accepted]]] = []
        self._in_flight = 0
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(_WRITERS)
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def submit(self, item: Incoming) -> Accepted:
        """Store one delivery; `IntakeBusy` when full, `TimeoutError` past the deadline."""
        if self._in_flight >= self._max_in_flight:
            raise IntakeBusy(f"{self._in_flight} deliveries are waiting for the database")
        self._in_flight += 1  # until its batch ends, answered or not
        future: asyncio.Future[Accepted] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        self._wake.set()
        # A timeout cancels the wait, never the batch's own future.
        async with asyncio.timeout(self.timeout):
            return await asyncio.shield(future)

    async def run(self) -> None:
        """Write batches until cancelled."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                await self._slots.acquire()
                if len(self._pending) < self._max_batch:
                    await asyncio.sleep(_LINGER_S)
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                task = asyncio.create_task(self._write(batch))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _write(self, batch: list[tuple[Incoming, asyncio.Future[Accepted]]]) -> None:
        loop = asyncio.get_running_loop()
        items = [item for item, _future in batch]
        try:
            for attempt in (1, 2):
                try:
                    results = await loop.run_in_executor(
                        self._pool,
                        lambda: accept_batch(self._engine, items, max_attempts=self._max_attempts),
                    )
                    break
                except DBAPIError as exc:
                    # A deadlock with another replica's batch: the loser tries once more.
                    if attempt == 2 or "deadlock" not in str(exc.orig).lower():
                        raise
        except Exception as exc:
            log.error("deliveries not stored", count=len(batch), error=type(exc).__name__)
            for _item, future in batch:
                if not future.done():
                    future.set_exception(exc)
                    future.exception()  # retrieved: a timed-out request never reads it
        else:
            for (_item, future), accepted in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(accepted)
        finally:
            self._in_flight -= len(batch)
            self._slots.release()

    async def close(self, wait: float = 5.0) -> None:
        """Let the batches being written finish (bounded)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=wait)
        for _item, future in self._pending:
            if not future.done():
                future.cancel()
        self._pending.clear()


async def writer_task(writer: IntakeWriter) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        await writer.run()
