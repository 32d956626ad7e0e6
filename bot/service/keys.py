"""Typed application keys: everything the handlers and the worker share."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web
from sqlalchemy import Engine

from bot.change import Change
from bot.findings import Report
from bot.forges.contract import Forge
from bot.pipeline import ReviewOptions
from bot.service.intake_writer import IntakeWriter
from bot.service.metrics import Metrics
from bot.settings import Settings

ReviewFn = Callable[[Change, ReviewOptions], Report]

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", Engine)
METRICS = web.AppKey("metrics", Metrics)
DB_POOL = web.AppKey("db_pool", ThreadPoolExecutor)
INTAKE_POOL = web.AppKey("intake_pool", ThreadPoolExecutor)
"""Threads that store deliveries, apart from the worker's database calls."""
FORGES: web.AppKey[Mapping[str, Forge]] = web.AppKey("forges")
BOT_USERS: web.AppKey[dict[str, frozenset[str]]] = web.AppKey("bot_users")
WAKE = web.AppKey("wake", asyncio.Event)
REVIEW_FN: web.AppKey[ReviewFn] = web.AppKey("review_fn")
INTAKE_WRITER = web.AppKey("intake_writer", IntakeWriter)
