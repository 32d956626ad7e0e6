"""Every error answer is JSON: aiohttp's own (413, 405, 404) and anything unforeseen.

A forge (and an operator with curl) gets ``{"error": ...}`` whatever went wrong;
an unforeseen exception is logged with its type and answered 500, never a page.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.service.logs import get_logger

log = get_logger("migbot.service")


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return web.json_response(
            {"error": exc.reason}, status=exc.status, headers=_kept_headers(exc)
        )
    except Exception as exc:
        log.error("request failed", path=request.path, error=type(exc).__name__)
        return web.json_response({"error": "internal error"}, status=500)


def _kept_headers(exc: web.HTTPException) -> dict[str, str]:
    return {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
