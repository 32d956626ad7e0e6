"""What a webhook delivery means, whichever forge sent it.

The per-forge parsers (`gitlab_events`, `github_events`) verify, decode and
normalise a delivery into a `ForgeEvent` in one call, or raise a `DeliveryError`
that carries the HTTP status to answer with. Pure: bytes and mappings in,
frozen values out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.errors import MigbotError


class DeliveryError(MigbotError):
    """A delivery refused; ``http_status`` is the status to answer with."""

    http_status = 400

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.http_status = status


class SignatureError(DeliveryError):
    """Missing, unexpected or wrong signature or token."""

    http_status = 401


class MalformedDelivery(DeliveryError):
    """The body or a required header cannot be decoded."""

    http_status = 400


class UnstorableDelivery(DeliveryError):
    """Well-formed, but holding data the store can never keep (a retry would not help)."""

    status = 422


class EventKind(StrEnum):
    REVIEW = "review"
    """New commits, open or reopen: review the head."""
    LABELS = "labels"
    """Labels changed: re-evaluate overrides (a review of the same head)."""
    CLOSED = "closed"
    MERGED = "merged"
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class MergeRequestRef:
    """Which merge request or pull request, on which forge."""

    forge: str
    project: str
    """``group/project`` (GitLab) or ``owner/repo`` (GitHub)."""
    number: int
    project_id: int | None = None
    """GitLab's numeric project id; GitHub's repository id."""
    installation_id: int | None = None
    """GitHub App installation that delivered the event."""

    @property
    def key(self) -> str:
        return f"{self.forge}:{self.project}!{self.number}"


@dataclass(frozen=True, slots=True)
class ForgeEvent:
    """One delivery, normalised."""

    forge: str
    delivery_id: str
    event: str
    action: str
    kind: EventKind
    ref: MergeRequestRef | None = None
    head_sha: str | None = None
    actor: str | None = None
    title: str = ""
    author: str | None = None
    url: str | None = None
    labels: tuple[str, ...] = ()
    state: str | None = None
    """``open``, ``closed`` or ``merged``."""
    labels_added: tuple[str, ...] = ()
    labels_removed: tuple[str, ...] = ()
    reason: str = ""
    """Why an event is ignored, or what triggered a review."""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        # Spelt out rather than dataclasses.asdict: asdict deep-copies every value
        # of ``extra``, a third of the intake's CPU per delivery.
        ref = self.ref
        return {
            "forge": self.forge,
            "delivery_id": self.delivery_id,
            "event": self.event,
            "action": self.action,
            "kind": str(self.kind),
            "ref": None
            if ref is None
            else {
                "forge": ref.forge,
                "project": ref.project,
                "number": ref.number,
                "project_id": ref.project_id,
                "installation_id": ref.installation_id,
            },
            "head_sha": self.head_sha,
            "actor": self.actor,
            "title": self.title,
            "author": self.author,
            "url": self.url,
            "labels": self.labels,
            "state": self.state,
            "labels_added": self.labels_added,
            "labels_removed": self.labels_removed,
            "reason": self.reason,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ForgeEvent:
        ref = data.get("ref")
        return cls(
            forge=data["forge"],
            delivery_id=data["delivery_id"],
            event=data["event"],
            action=data["action"],
            kind=EventKind(data["kind"]),
            ref=MergeRequestRef(**ref) if ref else None,
            head_sha=data.get("head_sha"),
            actor=data.get("actor"),
            title=data.get("title", ""),
            author=data.get("author"),
            url=data.get("url"),
            labels=tuple(data.get("labels", ())),
            state=data.get("state"),
            labels_added=tuple(data.get("labels_added", ())),
            labels_removed=tuple(data.get("labels_removed", ())),
            reason=data.get("reason", ""),
            extra=dict(data.get("extra", {})),
        )


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by case-insensitive name (aiohttp's mapping already is)."""
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, val in headers.items():
        if key.lower() == lowered:
            return val
    return None


def decode_json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except RecursionError:
        raise MalformedDelivery("body is not JSON this service reads: nested too deeply") from None
    except ValueError as exc:  # also JSONDecodeError, UnicodeDecodeError, a huge integer
        raise MalformedDelivery(f"body is not JSON: {str(exc)[:200]}") from None
    if not isinstance(data, dict):
        raise MalformedDelivery("body is not a JSON object")
    return data


def body_digest(body: bytes) -> str:
    """A delivery id for forges that send none: the same body is the same delivery."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    # ASCII digits only ("²".isdigit() is true), and few: int() refuses 5,000 digits.
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 20:
        return int(value)
    return None


def header_bytes(headers: Mapping[str, str], name: str) -> bytes | None:
    """A secret-bearing header as bytes; `SignatureError` when it is not text.

    aiohttp hands over undecodable header bytes as lone surrogates, which no
    secret can match: refuse them as a wrong secret, not as a server error."""
    value = header(headers, name)
    if value is None:
        return None
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise SignatureError(f"{name} is not UTF-8 text") from None


MAX_NUMBER = 2**31 - 1
"""Merge request numbers are 32-bit integers in the store (and on both forges)."""
_LIMITS = {"project": 300, "key": 400, "head_sha": 64, "person": 200}


def _bad_text(value: Any) -> str | None:
    """Why a decoded value cannot be stored as text (NUL, a lone surrogate), if so."""
    if isinstance(value, str):
        if "\x00" in value:
            return "a NUL character"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "a lone surrogate (not Unicode text)"
        return None
    if isinstance(value, Mapping):
        for key, item in value.items():
            why = _bad_text(key) or _bad_text(item)
            if why:
                return why
    elif isinstance(value, list | tuple):
        for item in value:
            why = _bad_text(item)
            if why:
                return why
    return None


def _bad_text_anywhere(value: dict[str, Any]) -> str | None:
    """`_bad_text`, with one pass in C for the usual clean delivery.

    Serialised, a NUL can only appear as the escape ``\\u0000`` and a lone
    surrogate fails to encode; only when either shows does the exact walk run
    (a string that spells that escape itself is judged by the walk too)."""
    text = json.dumps(value, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _bad_text(value)
    return _bad_text(value) if "\\u0000" in text else None


def check_storable(event: ForgeEvent) -> ForgeEvent:
    """``event`` when the store can keep it; else `UnstorableDelivery` (422).

    Without this a delivery the database refuses gets 503, and the forge retries
    it forever."""
    why = _bad_text_anywhere(event.to_json())
    if why:
        raise UnstorableDelivery(f"the delivery holds {why}")
    ref = event.ref
    if ref is not None:
        if not 1 <= ref.number <= MAX_NUMBER:
            raise UnstorableDelivery(f"merge request number {ref.number} is out of range")
        if len(ref.project) > _LIMITS["project"] or len(ref.key) > _LIMITS["key"]:
            raise UnstorableDelivery(f"project path longer than {_LIMITS['project']} characters")
    if event.head_sha is not None and len(event.head_sha) > _LIMITS["head_sha"]:
        raise UnstorableDelivery("head commit id is too long")
    for person in (event.actor, event.author):
        if person is not None and len(person) > _LIMITS["person"]:
            raise UnstorableDelivery("user name is too long")
    return event
