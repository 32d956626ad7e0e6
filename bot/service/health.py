"""Liveness, readiness (the database answers) and Prometheus metrics."""

from __future__ import annotations

import asyncio

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.service.keys import DB_POOL, ENGINE, METRICS
from bot.store.db import ping
from bot.store.queuestats import queue_stats

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    loop = asyncio.get_running_loop()
    try:
        await asyncio.wait_for(
            loop.run_in_executor(request.app[DB_POOL], ping, request.app[ENGINE]), timeout=5
        )
    except Exception as exc:
        return web.json_response({"status": "unavailable", "error": type(exc).__name__}, status=503)
    return web.json_response({"status": "ready"})


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    registry = request.app[METRICS]
    loop = asyncio.get_running_loop()
    try:
        # Read from the store at scrape time: other processes (workers) change it.
        stats = await asyncio.wait_for(
            loop.run_in_executor(request.app[DB_POOL], queue_stats, request.app[ENGINE]),
            timeout=5,
        )
    except Exception:  # the scrape still answers; readyz says the store is down
        stats = None
    if stats is not None:
        registry.queue_depth.set(stats.queued)
        registry.parked_jobs.set(stats.parked)
        registry.oldest_queued_age.set(stats.oldest_queued_age_s)
    data = generate_latest(registry.registry)
    return web.Response(body=data, headers={"Content-Type": CONTENT_TYPE_LATEST})
