"""GitHub webhook deliveries: verify, decode and normalise in one call.

``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>``; the event
name in ``X-GitHub-Event``, the delivery id in ``X-GitHub-Delivery``. Payloads:
https://docs.github.com/en/webhooks/webhook-events-and-payloads#pull_request
"""

from __future__ import annotations

import hashlib
import hmac
import urllib.parse
from collections.abc import Mapping
from typing import Any

from bot.forges.events import (
    EventKind,
    ForgeEvent,
    MalformedDelivery,
    MergeRequestRef,
    SignatureError,
    as_int,
    as_str,
    body_digest,
    decode_json,
    header,
    header_bytes,
)

FORGE = "github"
_REVIEW_ACTIONS = {"opened": "opened", "reopened": "reopened", "synchronize": "new commits"}


def sign(secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value GitHub sends (used by fakes and tests)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(headers: Mapping[str, str], body: bytes, *, secret: str | None) -> None:
    """Raise `SignatureError` unless the body carries a valid signature."""
    signature = header_bytes(headers, "X-Hub-Signature-256")
    if not secret:
        raise SignatureError("no GitHub webhook secret is configured to check this delivery")
    if signature is None:
        raise SignatureError("X-Hub-Signature-256 missing")
    if not hmac.compare_digest(sign(secret, body).encode(), signature):
        raise SignatureError("X-Hub-Signature-256 does not match")


def _decode(headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    content_type = (header(headers, "Content-Type") or "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        try:
            form = urllib.parse.parse_qs(body.decode(), strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            raise MalformedDelivery("form body cannot be decoded") from None
        payload = form.get("payload")
        if not payload:
            raise MalformedDelivery("form body without payload")
        return decode_json(payload[0].encode())
    return decode_json(body)


def _login(value: Any) -> str | None:
    return as_str(value.get("login")) if isinstance(value, Mapping) else None


def from_http(
    headers: Mapping[str, str],
    body: bytes,
    *,
    secret: str | None,
    bot_users: frozenset[str] = frozenset(),
    verify_signature: bool = True,
) -> ForgeEvent:
    """Verify, decode and normalise one GitHub delivery.

    Raises `SignatureError` (401) or `MalformedDelivery` (400); any event this
    bot does not act on comes back as kind ``ignored``, never as an exception.
    """
    if verify_signature:
        verify(headers, body, secret=secret)
    event = header(headers, "X-GitHub-Event")
    if not event:
        raise MalformedDelivery("X-GitHub-Event missing")
    payload = _decode(headers, body)
    ident = (header(headers, "X-GitHub-Delivery") or "")[:128] or body_digest(body)
    action = as_str(payload.get("action")) or ""

    def ignored(reason: str, **kw: Any) -> ForgeEvent:
        return ForgeEvent(FORGE, ident, event, action, EventKind.IGNORED, reason=reason, **kw)

    if event != "pull_request":
        return ignored(f"event {event!r} is not handled")
    pr = payload.get("pull_request")
    repo = payload.get("repository")
    if not isinstance(pr, Mapping) or not isinstance(repo, Mapping):
        raise MalformedDelivery("pull_request payload without pull_request or repository")
    number = as_int(payload.get("number", pr.get("number")))
    full_name = as_str(repo.get("full_name"))
    if number is None or full_name is None:
        raise MalformedDelivery("pull_request payload without number or repository name")
    installation = payload.get("installation")
    ref = MergeRequestRef(
        FORGE,
        full_name,
        number,
        project_id=as_int(repo.get("id")),
        installation_id=as_int(installation.get("id"))
        if isinstance(installation, Mapping)
        else None,
    )
    head = pr.get("head")
    labels = pr.get("labels")
    merged = bool(pr.get("merged"))
    state = "merged" if merged else ("open" if pr.get("state") == "open" else "closed")
    actor = _login(payload.get("sender"))
    common: dict[str, Any] = {
        "ref": ref,
        "head_sha": as_str(head.get("sha")) if isinstance(head, Mapping) else None,
        "actor": actor,
        "title": as_str(pr.get("title")) or "",
        "author": _login(pr.get("user")),
        "url": as_str(pr.get("html_url")),
        "labels": tuple(
            lb["name"]
            for lb in (labels if isinstance(labels, list) else [])
            if isinstance(lb, Mapping) and isinstance(lb.get("name"), str)
        ),
        "state": state,
    }
    if actor is not None and actor in bot_users:
        return ignored("the bot's own event", **common)
    if action in _REVIEW_ACTIONS:
        extra = {"before": payload.get("before")} if action == "synchronize" else {}
        return ForgeEvent(
            FORGE,
            ident,
            event,
            action,
            EventKind.REVIEW,
            reason=_REVIEW_ACTIONS[action],
            extra=extra,
            **common,
        )
    if action in {"labeled", "unlabeled"}:
        label = payload.get("label")
        name = as_str(label.get("name")) if isinstance(label, Mapping) else None
        names = (name,) if name else ()
        return ForgeEvent(
            FORGE,
            ident,
            event,
            action,
            EventKind.LABELS,
            reason="labels changed",
            labels_added=names if action == "labeled" else (),
            labels_removed=names if action == "unlabeled" else (),
            **common,
        )
    if action == "closed":
        kind = EventKind.MERGED if merged else EventKind.CLOSED
        return ForgeEvent(FORGE, ident, event, action, kind, reason=str(kind), **common)
    return ignored(f"pull_request action {action!r} needs no review", **common)
