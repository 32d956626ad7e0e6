"""Webhook intake: verify, store durably, answer 202. The worker does the rest."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable

from aiohttp import web

from bot.forges import github_events, gitlab_events
from bot.forges.events import DeliveryError, ForgeEvent, check_storable
from bot.service.intake_writer import IntakeBusy
from bot.service.keys import BOT_USERS, INTAKE_WRITER, METRICS, SETTINGS, WAKE
from bot.service.logs import get_logger
from bot.store.intake_batch import Incoming

log = get_logger("migbot.intake")
routes = web.RouteTableDef()


async def _accept(
    request: web.Request, forge: str, parse: Callable[[bytes], ForgeEvent]
) -> web.Response:
    app = request.app
    metrics = app[METRICS]
    started = time.perf_counter()
    try:
        # Over client_max_size aiohttp answers 413; a body trickled in too slowly, 408.
        body = await asyncio.wait_for(request.read(), app[SETTINGS].header_timeout_s)
    except TimeoutError:
        metrics.deliveries.labels(forge=forge, outcome="rejected_408").inc()
        return web.json_response({"error": "request body too slow"}, status=408)
    try:
        event = check_storable(parse(body))
    except DeliveryError as exc:
        metrics.deliveries.labels(forge=forge, outcome=f"rejected_{exc.status}").inc()
        log.warning("delivery refused", forge=forge, status=exc.status, reason=str(exc))
        return web.json_response({"error": str(exc)}, status=exc.status)
    try:
        accepted = await app[INTAKE_WRITER].submit(
            Incoming(event, hashlib.sha256(body).hexdigest())
        )
    except IntakeBusy:
        metrics.deliveries.labels(forge=forge, outcome="busy").inc()
        return _unavailable("too many deliveries in flight; retry later")
    except TimeoutError:
        metrics.deliveries.labels(forge=forge, outcome="store_timeout").inc()
        log.error("delivery not stored in time", forge=forge)
        return _unavailable("storage too slow; retry later")
    except Exception as exc:
        # Not stored, so not accepted: the forge will deliver it again.
        metrics.deliveries.labels(forge=forge, outcome="store_failed").inc()
        log.error("delivery not stored", forge=forge, error=type(exc).__name__)
        return _unavailable("storage unavailable")
    if accepted.outcome in ("queued", "coalesced"):
        app[WAKE].set()
    metrics.deliveries.labels(forge=forge, outcome=accepted.outcome).inc()
    metrics.ack_seconds.labels(forge=forge).observe(time.perf_counter() - started)
    log.info(
        "delivery accepted",
        forge=forge,
        delivery=event.delivery_id,
        hook_event=event.event,
        action=event.action,
        kind=str(event.kind),
        mr=event.ref.key if event.ref else None,
        outcome=accepted.outcome,
        job=accepted.job_id,
        reason=event.reason,
    )
    return web.json_response(
        {
            "status": accepted.outcome,
            "kind": str(event.kind),
            "job": accepted.job_id,
            "reason": event.reason,
        },
        status=202,
    )


def _unavailable(reason: str) -> web.Response:
    # Not stored, so not accepted: the forge delivers again (a replay is recognised).
    return web.json_response({"error": reason}, status=503, headers={"Retry-After": "1"})


@routes.post("/webhooks/gitlab")
async def gitlab_webhook(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    bots = request.app[BOT_USERS].get("gitlab", frozenset())

    def parse(body: bytes) -> ForgeEvent:
        return gitlab_events.from_http(
            request.headers,
            body,
            secret=settings.gitlab_webhook_token,
            signing_token=settings.gitlab_signing_token,
            now=time.time(),
            tolerance=settings.signature_tolerance_s,
            bot_users=bots,
            verify_signature=not settings.insecure_no_verify,
        )

    return await _accept(request, "gitlab", parse)


@routes.post("/webhooks/github")
async def github_webhook(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    bots = request.app[BOT_USERS].get("github", frozenset())

    def parse(body: bytes) -> ForgeEvent:
        return github_events.from_http(
            request.headers,
            body,
            secret=settings.github_webhook_secret,
            bot_users=bots,
            verify_signature=not settings.insecure_no_verify,
        )

    return await _accept(request, "github", parse)
