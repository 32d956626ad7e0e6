"""The pure webhook parsers: verify, decode, normalise; typed errors with statuses."""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

import pytest

from bot.forges.events import (
    EventKind,
    ForgeEvent,
    MalformedDelivery,
    MergeRequestRef,
    SignatureError,
)
from bot.forges.github import events as github_events
from bot.forges.gitlab import events as gitlab_events

SECRET = "s3cret"


def gl(payload: dict[str, Any], **headers: str) -> tuple[dict[str, str], bytes]:
    body = json.dumps(payload).encode()
    base = {
        "X-Gitlab-Event": "Merge Request Hook",
        "X-Gitlab-Token": SECRET,
        "Idempotency-Key": "k1",
    }
    return {**base, **headers}, body


def mr(action: str, **attrs: Any) -> dict[str, Any]:
    return {
        "object_kind": "merge_request",
        "user": {"username": "alice"},
        "project": {"id": 3, "path_with_namespace": "g/p"},
        "object_attributes": {"iid": 5, "action": action, "state": "opened", **attrs},
        "labels": [{"title": "a"}],
    }


def parse_gl(payload: dict[str, Any], **kw: Any) -> ForgeEvent:
    headers, body = gl(payload)
    return gitlab_events.from_http(headers, body, secret=SECRET, now=time.time(), **kw)


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        (mr("open"), EventKind.REVIEW),
        (mr("reopen"), EventKind.REVIEW),
        (mr("update", oldrev="f" * 40), EventKind.REVIEW),
        (
            mr("update") | {"changes": {"labels": {"previous": [], "current": [{"title": "x"}]}}},
            EventKind.LABELS,
        ),
        (
            mr("update") | {"changes": {"title": {"previous": "a", "current": "b"}}},
            EventKind.IGNORED,
        ),
        (mr("close"), EventKind.CLOSED),
        (mr("merge"), EventKind.MERGED),
        (mr("approved"), EventKind.IGNORED),
    ],
)
def test_gitlab_actions(payload: dict[str, Any], kind: EventKind) -> None:
    event = parse_gl(payload)
    assert event.kind is kind
    assert event.delivery_id == "k1"
    if kind is not EventKind.IGNORED:
        assert event.ref is not None
        assert (event.ref.key, event.ref.project_id) == ("gitlab:g/p!5", 3)
    assert ForgeEvent.from_json(json.loads(json.dumps(event.to_json()))) == event


def test_gitlab_label_diff_and_bot_events() -> None:
    changes = {"labels": {"previous": [{"title": "a"}], "current": [{"title": "b"}]}}
    event = parse_gl(mr("update") | {"changes": changes})
    assert (event.labels_added, event.labels_removed) == (("b",), ("a",))
    assert parse_gl(mr("open"), bot_users=frozenset({"alice"})).kind is EventKind.IGNORED


def test_gitlab_unknown_event_and_errors() -> None:
    headers, body = gl({"object_kind": "push"}, **{"X-Gitlab-Event": "Push Hook"})
    assert gitlab_events.from_http(headers, body, secret=SECRET, now=0).kind is EventKind.IGNORED
    with pytest.raises(SignatureError) as err:
        gitlab_events.from_http(headers, body, secret=None, now=0)
    assert err.value.http_status == 401  # a token without a secret configured fails
    with pytest.raises(MalformedDelivery) as bad:
        gitlab_events.from_http(headers, b"{", secret=SECRET, now=0)
    assert bad.value.http_status == 400
    headers, body = gl(mr("open") | {"object_attributes": {"action": "open"}})
    with pytest.raises(MalformedDelivery):
        gitlab_events.from_http(headers, body, secret=SECRET, now=0)
    headers, body = gl(mr("open"))
    del headers["X-Gitlab-Token"]
    assert (
        gitlab_events.from_http(headers, body, secret=SECRET, now=0, verify_signature=False).kind
        is EventKind.REVIEW
    )


def test_gitlab_signing_token_only() -> None:
    token = "whsec_" + "a2V5LWtleS1rZXkta2V5LWtleS1rZXkta2V5LWtleSE="
    headers, body = gl(mr("open"))
    del headers["X-Gitlab-Token"]
    with pytest.raises(SignatureError):  # signing configured, delivery unsigned
        gitlab_events.from_http(headers, body, secret=None, signing_token=token, now=0)
    now = int(time.time())
    signed = headers | {
        "webhook-id": "m",
        "webhook-timestamp": str(now),
        "webhook-signature": "v1,bogus " + gitlab_events.sign(token, "m", str(now), body),
    }
    event = gitlab_events.from_http(signed, body, secret=None, signing_token=token, now=now)
    assert event.kind is EventKind.REVIEW


def gh(event: str, payload: dict[str, Any], secret: str = SECRET) -> tuple[dict[str, str], bytes]:
    body = json.dumps(payload).encode()
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": "d-1",
        "X-Hub-Signature-256": github_events.sign(secret, body),
        "Content-Type": "application/json",
    }, body


def pr(action: str, **extra: Any) -> dict[str, Any]:
    return {
        "action": action,
        "number": 9,
        "pull_request": {
            "number": 9,
            "state": "open",
            "title": "t",
            "merged": False,
            "user": {"login": "alice"},
            "head": {"sha": "h" * 40},
            "labels": [{"name": "x"}],
            "html_url": "https://github.example/o/r/pull/9",
        },
        "repository": {"id": 1, "full_name": "o/r"},
        "sender": {"login": "bob"},
        **extra,
    }


@pytest.mark.parametrize(
    ("action", "kind"),
    [
        ("opened", EventKind.REVIEW),
        ("reopened", EventKind.REVIEW),
        ("synchronize", EventKind.REVIEW),
        ("labeled", EventKind.LABELS),
        ("unlabeled", EventKind.LABELS),
        ("closed", EventKind.CLOSED),
        ("edited", EventKind.IGNORED),
    ],
)
def test_github_actions(action: str, kind: EventKind) -> None:
    headers, body = gh("pull_request", pr(action, label={"name": "migration::ack"}))
    event = github_events.from_http(headers, body, secret=SECRET)
    assert event.kind is kind
    assert event.actor == "bob"
    assert event.ref is not None
    assert event.ref.key == "github:o/r!9"


def test_github_merged_close_form_body_and_errors() -> None:
    payload = pr("closed")
    payload["pull_request"]["merged"] = True
    headers, body = gh("pull_request", payload)
    assert github_events.from_http(headers, body, secret=SECRET).kind is EventKind.MERGED
    import urllib.parse

    form = urllib.parse.urlencode({"payload": json.dumps(pr("opened"))}).encode()
    headers = {
        "X-GitHub-Event": "pull_request",
        "X-Hub-Signature-256": github_events.sign(SECRET, form),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    assert github_events.from_http(headers, form, secret=SECRET).kind is EventKind.REVIEW
    headers, body = gh("pull_request", pr("opened"), secret="other")
    with pytest.raises(SignatureError):
        github_events.from_http(headers, body, secret=SECRET)
    with pytest.raises(SignatureError):  # a signature but no secret configured
        github_events.from_http(headers, body, secret=None)
    headers, body = gh("issues", {"action": "opened"})
    assert github_events.from_http(headers, body, secret=SECRET).kind is EventKind.IGNORED
    headers, body = gh("pull_request", {"action": "opened"})
    with pytest.raises(MalformedDelivery):
        github_events.from_http(headers, body, secret=SECRET)
    headers, body = gh("pull_request", pr("opened"))
    event = github_events.from_http(headers, body, secret=SECRET, bot_users=frozenset({"bob"}))
    assert event.kind is EventKind.IGNORED


def test_every_field_survives_the_store_round_trip() -> None:
    """The stored JSON is written field by field: a field added later must be too."""
    event = ForgeEvent(
        forge="github",
        delivery_id="d-1",
        event="pull_request",
        action="labeled",
        kind=EventKind.LABELS,
        ref=MergeRequestRef("github", "qemu/qemu", 7, project_id=11, installation_id=13),
        head_sha="a" * 40,
        actor="maint",
        title="hw/net: fix",
        author="dev",
        url="https://github.example/qemu/qemu/pull/7",
        labels=("migration::ack",),
        state="open",
        labels_added=("migration::ack",),
        labels_removed=("migration::affected",),
        reason="labels changed",
        extra={"sender_id": 5, "nested": {"a": [1, 2]}},
    )
    stored = json.loads(json.dumps(event.to_json()))
    assert set(stored) == {f.name for f in dataclasses.fields(ForgeEvent)}
    assert ForgeEvent.from_json(stored) == event
