"""Webhook intake: verify, store durably, answer 202. The worker does the rest."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable

from aiohttp import web

from bot.forges.events import DeliveryError, ForgeEvent, check_storable
from bot.forges.github import events as github_events
from bot.forges.gitlab import events as gitlab_events
from bot.service.intake_writer import IntakeBusy
from bot.service.keys import BOT_USERS, INTAKE_WRITER, METRICS, SETTINGS, WAKE
from bot.service.logs import get_logger
from bot.settings import Settings
from bot.store.intake_batch import Incoming

log = get_logger("migbot.intake")
routes = web.RouteTableDef()


async def _accept(
    request: web.Request, forge: str, parse: Callable[[bytes], ForgeEvent]
) -> web.Response:
    app = request.app
    metrics = app[METRICS]
    started = time.perf_counter()
    refused = _unconfigured(app[SETTINGS], forge)
    if refused is not None:
        # Queued, it would fail on every attempt and be parked: say so now instead.
        metrics.deliveries.labels(forge=forge, outcome="rejected_404").inc()
        log.warning("delivery refused", forge=forge, status=404, reason=refused)
        return web.json_response({"error": refused}, status=404)
    try:
        # Over client_max_size aiohttp answers 413; a body trickled in too slowly, 408.
        async with asyncio.timeout(app[SETTINGS].header_timeout_s):
            body = await request.read()
    except TimeoutError:
        metrics.deliveries.labels(forge=forge, outcome="rejected_408").inc()
        return web.json_response({"error": "request body too slow"}, status=408)
    try:
        event = check_storable(parse(body))
    except DeliveryError as exc:
        metrics.deliveries.labels(forge=forge, outcome=f"rejected_{exc.http_status}").inc()
        log.warning("delivery refused", forge=forge, status=exc.http_status, reason=str(exc))
        return web.json_response({"error": str(exc)}, status=exc.http_status)
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


def _unconfigured(settings: Settings, forge: str) -> str | None:
    """Why this service cannot review for ``forge``; None when it can."""
    if forge == "gitlab" and not settings.gitlab_enabled:
        return (
            "GitLab is not configured on this migbot (MIGBOT_GITLAB_URL and "
            "MIGBOT_GITLAB_TOKEN): delivery refused, nothing queued"
        )
    if forge == "github" and not settings.github_enabled:
        return (
            "GitHub is not configured on this migbot (MIGBOT_GITHUB_APP_ID and "
            "MIGBOT_GITHUB_APP_KEY_FILE, or MIGBOT_GITHUB_TOKEN): delivery refused, nothing queued"
        )
    return None
