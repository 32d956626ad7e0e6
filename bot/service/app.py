"""The app factory: receives settings (and, for tests, ready-made parts), imports
nothing stateful. Resources and the background worker are cleanup contexts."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web
from sqlalchemy import Engine

from bot.forges import build_forges
from bot.forges.contract import Forge
from bot.service import digest, health, intake, rules
from bot.service.errors import json_errors
from bot.service.intake_writer import IntakeWriter, writer_task
from bot.service.keys import (
    BOT_USERS,
    DB_POOL,
    ENGINE,
    FORGES,
    INTAKE_POOL,
    INTAKE_WRITER,
    METRICS,
    REVIEW_FN,
    SETTINGS,
    WAKE,
    ReviewFn,
)
from bot.service.listener import request_deadlines
from bot.service.logs import get_logger
from bot.service.metrics import Metrics
from bot.service.review_job import JobContext
from bot.service.schedule import scheduler_context
from bot.service.worker import Worker
from bot.service.worker_child import worker_child
from bot.settings import Settings
from bot.store.db import make_engine, migrate

log = get_logger("migbot.service")
WORKER = web.AppKey("worker", Worker)


def default_review() -> ReviewFn:
    """The pipeline with the shipped rules and policy bound (loaded once, here)."""
    from bot.judge.catalogue import load_catalogue
    from bot.judge.policy import load_policy
    from bot.pipeline import review

    return functools.partial(review, catalogue=load_catalogue(), policy=load_policy())


def initial_bot_users(settings: Settings) -> dict[str, frozenset[str]]:
    users: dict[str, frozenset[str]] = {}
    if settings.gitlab_bot_username:
        users["gitlab"] = frozenset({settings.gitlab_bot_username})
    if settings.github_bot_login:
        users["github"] = frozenset({settings.github_bot_login})
    return users


async def learn_bot_users(
    forges: Mapping[str, Forge], users: dict[str, frozenset[str]], pool: ThreadPoolExecutor
) -> None:
    """Ask each forge who the bot is, so its own events are ignored at intake."""
    loop = asyncio.get_running_loop()
    for name, forge in forges.items():
        if name in users:
            continue
        try:
            login = await loop.run_in_executor(pool, forge.bot_username)
        except Exception as exc:
            log.warning("cannot learn the bot account", forge=name, error=str(exc))
            continue
        users[name] = frozenset({login})


async def _resources(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    db_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="migbot-db")
    app[DB_POOL] = db_pool
    intake_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="migbot-intake")
    app[INTAKE_POOL] = intake_pool
    owns_engine = ENGINE not in app
    if owns_engine:
        app[ENGINE] = make_engine(
            settings.database_url,
            sqlite_synchronous=settings.sqlite_synchronous,
            timeout_s=settings.db_timeout_s,
        )
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(db_pool, migrate, app[ENGINE])
    writer = app[INTAKE_WRITER] = IntakeWriter(
        app[ENGINE],
        intake_pool,
        max_batch=settings.intake_batch,
        max_in_flight=settings.intake_max_in_flight,
        max_attempts=settings.max_attempts,
        timeout=settings.db_timeout_s,
    )
    writing = asyncio.create_task(writer_task(writer))
    learner = asyncio.create_task(learn_bot_users(app[FORGES], app[BOT_USERS], db_pool))
    # Know the bot's own accounts before the first delivery, if the forges answer soon.
    await asyncio.wait({learner}, timeout=5)
    yield
    learner.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await learner
    await writer.close()
    writing.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await writing
    db_pool.shutdown(wait=True)
    intake_pool.shutdown(wait=True)
    for forge in app[FORGES].values():
        close = getattr(forge, "close", None)
        if close is not None:
            close()
    if owns_engine:
        app[ENGINE].dispose()


async def _worker(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    job_pool = ThreadPoolExecutor(settings.forge_threads, thread_name_prefix="migbot-job")
    context = JobContext.build(settings, app[ENGINE], app[FORGES], app[REVIEW_FN])
    worker = Worker(
        settings=settings,
        engine=app[ENGINE],
        context=context,
        metrics=app[METRICS],
        db_pool=app[DB_POOL],
        job_pool=job_pool,
        wake=app[WAKE],
    )
    app[WORKER] = worker
    task = asyncio.create_task(worker.run())
    yield
    await worker.stop()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    job_pool.shutdown(wait=False, cancel_futures=True)


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    forges: Mapping[str, Forge] | None = None,
    review_fn: ReviewFn | None = None,
    run_worker: bool | None = None,
) -> web.Application:
    app = web.Application(
        client_max_size=settings.max_body_bytes, middlewares=[request_deadlines, json_errors]
    )
    app[SETTINGS] = settings
    app[METRICS] = Metrics()
    app[WAKE] = asyncio.Event()
    app[FORGES] = dict(forges) if forges is not None else build_forges(settings)
    app[BOT_USERS] = initial_bot_users(settings)
    app[REVIEW_FN] = review_fn or default_review()
    if engine is not None:
        app[ENGINE] = engine
    app.cleanup_ctx.append(_resources)
    if settings.run_worker if run_worker is None else run_worker:
        app.cleanup_ctx.append(worker_child if settings.worker_process else _worker)
    app.cleanup_ctx.append(scheduler_context)
    app.add_routes(intake.routes)
    app.add_routes(health.routes)
    app.add_routes(digest.routes)
    app.add_routes(rules.routes)
    return app
