"""Two ``serve`` replicas on one PostgreSQL, behind a load balancer that sends
deliveries and their replays to either: every delivery stored once, one queued
job per merge request, no error answers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient

from bot.service.app import create_app
from bot.store.jobs import count_deliveries, list_jobs
from tests.fakes.service import Service, make_settings
from tests.service.test_service_intake import GL_SECRET, gitlab_mr, gl_headers


async def test_two_replicas_share_one_queue(
    pg_url: str, aiohttp_client: Callable[..., Any]
) -> None:
    replicas = []
    for _ in range(2):
        settings = make_settings(
            pg_url,
            gitlab_webhook_token=GL_SECRET,
            gitlab_url="https://gitlab.example",
            gitlab_token="glpat-test",
            run_worker=False,
        )
        client: TestClient[Any, Any] = await aiohttp_client(create_app(settings, forges={}))
        replicas.append(Service(client.server.app, client, settings))
    bodies = [
        json.dumps(gitlab_mr("update", iid=1 + n % 5, oldrev=f"{n:040x}")).encode()
        for n in range(40)
    ]

    async def send(replica: Service, body: bytes) -> int:
        r = await replica.client.post("/webhooks/gitlab", data=body, headers=gl_headers(body))
        await r.read()
        return r.status

    # Each delivery goes to both replicas at once (a forge retry racing the first try).
    statuses = await asyncio.gather(
        *(send(replica, body) for body in bodies for replica in replicas)
    )
    assert set(statuses) == {202}
    stored = count_deliveries(replicas[0].engine)
    assert sum(stored.values()) == 40, stored
    queued = list_jobs(replicas[0].engine, states=("queued",))
    assert sorted(j.number for j in queued) == [1, 2, 3, 4, 5]
    assert sum(j.deliveries for j in queued) == 40
