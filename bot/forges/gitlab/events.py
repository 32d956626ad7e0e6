"""GitLab webhook deliveries: verify, decode and normalise in one call.

GitLab authenticates a delivery with the shared secret in ``X-Gitlab-Token``
and, when a signing token is configured on the hook, a Standard-Webhooks HMAC
(``webhook-id``, ``webhook-timestamp``, ``webhook-signature: v1,<base64>`` over
``"{id}.{timestamp}.{body}"``). Merge Request Hook payloads are documented at
https://docs.gitlab.com/user/project/integrations/webhook_events/#merge-request-events
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from bot.forges.events import (
    DeliveryError,
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

FORGE = "gitlab"
MR_HOOK = "Merge Request Hook"
_REVIEW_ACTIONS = {"open": "opened", "reopen": "reopened"}


def signing_key(signing_token: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` signing token."""
    raw = signing_token.removeprefix("whsec_")
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return raw.encode()


def sign(signing_token: str, webhook_id: str, timestamp: str, body: bytes) -> str:
    """The ``webhook-signature`` value GitLab sends (used by fakes and tests)."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(signing_token), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def _check_signature(
    headers: Mapping[str, str], body: bytes, signing_token: str, now: float, tolerance: float
) -> None:
    webhook_id = (header_bytes(headers, "webhook-id") or b"").decode()
    timestamp = (header_bytes(headers, "webhook-timestamp") or b"").decode()
    signature = (header_bytes(headers, "webhook-signature") or b"").decode()
    if not webhook_id or not timestamp:
        raise SignatureError("signed delivery without webhook-id or webhook-timestamp")
    try:
        sent = int(timestamp)
    except ValueError:
        raise SignatureError("webhook-timestamp is not a number") from None
    if abs(now - sent) > tolerance:
        raise SignatureError("webhook-timestamp outside the accepted window")
    expected = sign(signing_token, webhook_id, timestamp, body).encode()
    # The header may carry several space-separated signatures (key rotation).
    if not any(hmac.compare_digest(expected, part.encode()) for part in signature.split()):
        raise SignatureError("webhook-signature does not match")


def verify(
    headers: Mapping[str, str],
    body: bytes,
    *,
    secret: str | None,
    signing_token: str | None = None,
    now: float,
    tolerance: float = 300.0,
) -> None:
    """Raise `SignatureError` unless the delivery is authenticated."""
    token = header_bytes(headers, "X-Gitlab-Token")
    signature = header(headers, "webhook-signature")
    if not secret and not signing_token:
        raise SignatureError("no GitLab webhook secret is configured to check this delivery")
    signed_ok = False
    if signing_token and signature is not None:
        _check_signature(headers, body, signing_token, now, tolerance)
        signed_ok = True
    elif signing_token and not secret:
        raise SignatureError("delivery is not signed (webhook-signature missing)")
    if secret and (token is not None or not signed_ok):
        if token is None:
            raise SignatureError("X-Gitlab-Token missing")
        if not hmac.compare_digest(token, secret.encode()):
            raise SignatureError("X-Gitlab-Token does not match")


def delivery_id(headers: Mapping[str, str], body: bytes) -> str:
    for name in ("Idempotency-Key", "X-Gitlab-Event-UUID", "webhook-id"):
        value = header(headers, name)
        if value:
            return value[:128]
    return body_digest(body)


def _label_titles(labels: Any) -> tuple[str, ...]:
    if not isinstance(labels, list):
        return ()
    out = []
    for label in labels:
        if isinstance(label, Mapping) and isinstance(label.get("title"), str):
            out.append(label["title"])
        elif isinstance(label, str):
            out.append(label)
    return tuple(out)


def _state(attrs: Mapping[str, Any]) -> str | None:
    state = attrs.get("state")
    return {"opened": "open", "closed": "closed", "merged": "merged", "locked": "open"}.get(
        state if isinstance(state, str) else ""
    )


def from_http(
    headers: Mapping[str, str],
    body: bytes,
    *,
    secret: str | None,
    signing_token: str | None = None,
    now: float,
    tolerance: float = 300.0,
    bot_users: frozenset[str] = frozenset(),
    verify_signature: bool = True,
) -> ForgeEvent:
    """Verify, decode and normalise one GitLab delivery.

    Raises `SignatureError` (401) or `MalformedDelivery` (400); any event this
    bot does not act on comes back as kind ``ignored``, never as an exception.
    """
    if verify_signature:
        verify(
            headers,
            body,
            secret=secret,
            signing_token=signing_token,
            now=now,
            tolerance=tolerance,
        )
    event = header(headers, "X-Gitlab-Event")
    if not event:
        raise MalformedDelivery("X-Gitlab-Event missing")
    payload = decode_json(body)
    ident = delivery_id(headers, body)

    def ignored(action: str, reason: str, **kw: Any) -> ForgeEvent:
        return ForgeEvent(FORGE, ident, event, action, EventKind.IGNORED, reason=reason, **kw)

    if event != MR_HOOK or payload.get("object_kind") != "merge_request":
        return ignored("", f"event {event!r} is not handled")
    attrs = payload.get("object_attributes")
    project = payload.get("project")
    if not isinstance(attrs, Mapping) or not isinstance(project, Mapping):
        raise MalformedDelivery("merge request payload without object_attributes or project")
    iid = as_int(attrs.get("iid"))
    path = as_str(project.get("path_with_namespace"))
    if iid is None or path is None:
        raise MalformedDelivery("merge request payload without iid or project path")
    action = as_str(attrs.get("action")) or ""
    user = payload.get("user")
    actor = as_str(user.get("username")) if isinstance(user, Mapping) else None
    ref = MergeRequestRef(FORGE, path, iid, project_id=as_int(project.get("id")))
    last_commit = attrs.get("last_commit")
    head = as_str(last_commit.get("id")) if isinstance(last_commit, Mapping) else None
    labels = _label_titles(payload.get("labels", attrs.get("labels")))
    raw_changes = payload.get("changes")
    changes: Mapping[str, Any] = raw_changes if isinstance(raw_changes, Mapping) else {}
    common: dict[str, Any] = {
        "ref": ref,
        "head_sha": head,
        "actor": actor,
        "title": as_str(attrs.get("title")) or "",
        "url": as_str(attrs.get("url")),
        "labels": labels,
        "state": _state(attrs),
    }
    if actor is not None and actor in bot_users:
        return ignored(action, "the bot's own event", **common)
    if action in _REVIEW_ACTIONS:
        return ForgeEvent(
            FORGE, ident, event, action, EventKind.REVIEW, reason=_REVIEW_ACTIONS[action], **common
        )
    if action == "update" and attrs.get("oldrev"):
        return ForgeEvent(
            FORGE,
            ident,
            event,
            action,
            EventKind.REVIEW,
            reason="new commits",
            extra={"oldrev": attrs.get("oldrev")},
            **common,
        )
    label_change = changes.get("labels")
    if action == "update" and isinstance(label_change, Mapping):
        before = set(_label_titles(label_change.get("previous")))
        after = set(_label_titles(label_change.get("current")))
        return ForgeEvent(
            FORGE,
            ident,
            event,
            action,
            EventKind.LABELS,
            reason="labels changed",
            labels_added=tuple(sorted(after - before)),
            labels_removed=tuple(sorted(before - after)),
            **common,
        )
    if action == "close":
        return ForgeEvent(FORGE, ident, event, action, EventKind.CLOSED, reason="closed", **common)
    if action == "merge":
        return ForgeEvent(FORGE, ident, event, action, EventKind.MERGED, reason="merged", **common)
    return ignored(action, f"merge request action {action!r} needs no review", **common)


__all__ = ["DeliveryError", "from_http", "sign", "verify"]
