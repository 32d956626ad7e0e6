"""``GET /digest`` (HTML page, chart drawn inline as SVG: no script, no CDN) and
``GET /digest.json``: the latest digest the schedule or ``migbot digest --post``
stored; ``?period=2026-W06`` for an earlier one. Before any was stored, one is
built from the store for the last ``digest_period``."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from sqlalchemy import Engine

from bot.digest.codec import digest_from_json, digest_to_json
from bot.digest.model import Digest
from bot.digest.period import Period
from bot.digest.render import render_html
from bot.digest.stored import digest_from_store
from bot.service.keys import DB_POOL, ENGINE, SETTINGS
from bot.settings import Settings
from bot.store.digests import get_digest, latest_digest
from bot.store.models import utcnow

routes = web.RouteTableDef()


def _load(engine: Engine, settings: Settings, key: str | None) -> Digest | None:
    row = get_digest(engine, key) if key else latest_digest(engine)
    if row is not None:
        return digest_from_json(row.data)
    if key:
        return None
    now = utcnow()
    period = Period.parse(settings.digest_period, None, now)
    return digest_from_store(engine, period, weeks=settings.digest_weeks, now=now)


async def _digest(request: web.Request) -> Digest:
    key = request.query.get("period") or None
    loop = asyncio.get_running_loop()
    app = request.app
    digest = await loop.run_in_executor(app[DB_POOL], _load, app[ENGINE], app[SETTINGS], key)
    if digest is None:
        raise web.HTTPNotFound(text=f"no digest for period {key}\n")
    return digest


_HEADERS = {
    # Everything the page needs is in it: forbid loading anything else.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


@routes.get("/digest")
async def digest_page(request: web.Request) -> web.Response:
    digest = await _digest(request)
    return web.Response(
        text=render_html(digest), content_type="text/html", charset="utf-8", headers=_HEADERS
    )


@routes.get("/digest.json")
async def digest_json(request: web.Request) -> web.Response:
    digest = await _digest(request)
    data: dict[str, Any] = digest_to_json(digest)
    return web.json_response(data, headers={"Cache-Control": "no-cache"})
