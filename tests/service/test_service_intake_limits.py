"""Intake answers fast or says it cannot: a database that holds a lock or
never answers gives 503 with Retry-After within the deadline; past the limit
of deliveries in flight, 503 at once; /healthz answers all along; nothing
acknowledged is lost."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.test_utils import TestClient

from bot.service.app import create_app
from bot.store.db import make_engine, migrate
from bot.store.jobs import count_deliveries
from tests.fakes.blackhole import StallingProxy
from tests.fakes.service import Service, make_settings
from tests.service.test_service_intake import GL_SECRET, gitlab_mr, gl_headers

HOOK = "/webhooks/gitlab"
ANSWER_WITHIN = aiohttp.ClientTimeout(total=8)
"""Far above the 0.5 s deadline set here, far below the old 25-30 s hangs."""


async def _service(db_url: str, aiohttp_client: Callable[..., Any], **kw: Any) -> Service:
    settings = make_settings(
        db_url,
        gitlab_webhook_token=GL_SECRET,
        gitlab_url="https://gitlab.example",
        gitlab_token="glpat-test",
        run_worker=False,
        db_timeout_s=0.5,
        **kw,
    )
    client: TestClient[Any, Any] = await aiohttp_client(create_app(settings, forges={}))
    return Service(client.server.app, client, settings)


async def _post(s: Service, n: int) -> tuple[int, str | None]:
    body = json.dumps(gitlab_mr(iid=n)).encode()
    r = await s.client.post(HOOK, data=body, headers=gl_headers(body), timeout=ANSWER_WITHIN)
    await r.read()
    return r.status, r.headers.get("Retry-After")


async def test_held_sqlite_lock_gives_quick_503s_and_a_bounded_queue(
    sqlite_url: str, aiohttp_client: Callable[..., Any]
) -> None:
    service = await _service(sqlite_url, aiohttp_client, intake_max_in_flight=4)
    assert (await _post(service, 1))[0] == 202
    path = urlsplit(sqlite_url.replace("sqlite:///", "file:///")).path
    locker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    locker.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    try:
        answers = await asyncio.gather(*(_post(service, n) for n in range(2, 22)))
        health = await service.client.get("/healthz", timeout=ANSWER_WITHIN)
        assert health.status == 200
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert all(status == 503 and retry == "1" for status, retry in answers), repr(answers)
    # The forge delivers again, after Retry-After: all stored, once.
    for n in range(2, 22):
        for _attempt in range(50):
            status, retry = await _post(service, n)
            if status != 503:
                break
            await asyncio.sleep(float(retry or 1) / 10)  # a patient forge, sped up
        assert status == 202
    stored = count_deliveries(service.engine)
    assert sum(stored.values()) == 21, stored


async def test_database_that_never_answers_gives_503_in_time(
    pg_url: str, aiohttp_client: Callable[..., Any]
) -> None:
    parts = urlsplit(pg_url)
    proxy = StallingProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    port = await proxy.start()
    via_proxy = pg_url.replace(f"{parts.hostname}:{parts.port}", f"127.0.0.1:{port}")
    engine = make_engine(pg_url)
    migrate(engine)
    engine.dispose()
    try:
        service = await _service(via_proxy, aiohttp_client)
        assert (await _post(service, 1))[0] == 202
        proxy.stall()  # open connections and new ones: nothing comes back
        answers = [await _post(service, n) for n in (2, 3, 4)]
        assert all(status == 503 and retry == "1" for status, retry in answers), repr(answers)
        health = await service.client.get("/healthz", timeout=ANSWER_WITHIN)
        assert health.status == 200
    finally:
        await proxy.stop()
