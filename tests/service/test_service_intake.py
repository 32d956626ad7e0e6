"""Intake: what a bad, odd or repeated delivery gets, and that nothing is stored for it."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.forges.gitlab.events import sign as gitlab_sign
from bot.service.app import create_app
from bot.store.jobs import count_by_state, count_deliveries
from tests.fakes.service import Service, make_settings

GL_SECRET = "gl-secret-token"
GH_SECRET = "gh-secret"
SIGNING = "whsec_" + "c2lnbmluZy1rZXktZm9yLXRlc3RzLTMyLWJ5dGVzISE="


@pytest.fixture
async def service(db_url: str, aiohttp_client: Callable[..., Any]) -> Service:
    settings = make_settings(
        db_url,
        gitlab_webhook_token=GL_SECRET,
        gitlab_signing_token=SIGNING,
        github_webhook_secret=GH_SECRET,
        gitlab_url="https://gitlab.example",
        gitlab_token="glpat-test",
        github_token="ghp-test",
        max_body_bytes=64 * 1024,
        run_worker=False,
    )
    app = create_app(settings, forges={})
    client: TestClient[Any, Any] = await aiohttp_client(app)
    return Service(app, client, settings)


def gitlab_mr(action: str = "open", iid: int = 7, **attrs: Any) -> dict[str, Any]:
    return {
        "object_kind": "merge_request",
        "event_type": "merge_request",
        "user": {"id": 1, "username": "alice", "name": "Alice"},
        "project": {"id": 42, "path_with_namespace": "qemu/qemu"},
        "object_attributes": {
            "iid": iid,
            "action": action,
            "state": "opened",
            "title": "t",
            "url": "https://gitlab.example/qemu/qemu/-/merge_requests/7",
            "last_commit": {"id": "a" * 40},
            **attrs,
        },
        "labels": [],
        "changes": {},
    }


def gl_headers(body: bytes, **extra: str) -> dict[str, str]:
    ident = hashlib.sha1(body + str(time.time_ns()).encode()).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Gitlab-Event": "Merge Request Hook",
        "X-Gitlab-Token": GL_SECRET,
        "X-Gitlab-Event-UUID": ident,
        "Idempotency-Key": ident,
        **extra,
    }


def gh_headers(body: bytes, event: str = "pull_request", **extra: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": hashlib.md5(body).hexdigest(),
        "X-Hub-Signature-256": "sha256="
        + hmac.new(GH_SECRET.encode(), body, hashlib.sha256).hexdigest(),
        **extra,
    }


async def post(s: Service, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    r = await s.client.post(path, data=body, headers=headers)
    text = await r.text()
    try:
        return r.status, json.loads(text)
    except ValueError:
        return r.status, text


def nothing_stored(s: Service) -> bool:
    return count_deliveries(s.engine) == {} and sum(count_by_state(s.engine).values()) == 0


async def test_gitlab_token_missing_or_wrong(service: Service) -> None:
    body = json.dumps(gitlab_mr()).encode()
    headers = gl_headers(body)
    del headers["X-Gitlab-Token"]
    assert (await post(service, "/webhooks/gitlab", body, headers))[0] == 401
    headers = gl_headers(body, **{"X-Gitlab-Token": "wrong"})
    assert (await post(service, "/webhooks/gitlab", body, headers))[0] == 401
    assert nothing_stored(service)


async def test_github_signature_missing_or_wrong(service: Service) -> None:
    body = json.dumps({"action": "opened"}).encode()
    headers = gh_headers(body)
    del headers["X-Hub-Signature-256"]
    assert (await post(service, "/webhooks/github", body, headers))[0] == 401
    headers = gh_headers(body, **{"X-Hub-Signature-256": "sha256=" + "0" * 64})
    assert (await post(service, "/webhooks/github", body, headers))[0] == 401
    tampered = body.replace(b"opened", b"closed")
    assert (await post(service, "/webhooks/github", tampered, gh_headers(body)))[0] == 401
    assert nothing_stored(service)


async def test_gitlab_signed_webhooks(service: Service) -> None:
    body = json.dumps(gitlab_mr()).encode()
    stamp = str(int(time.time()))
    signed = {
        "webhook-id": "msg_1",
        "webhook-timestamp": stamp,
        "webhook-signature": gitlab_sign(SIGNING, "msg_1", stamp, body),
    }
    headers = gl_headers(body, **signed)
    del headers["X-Gitlab-Token"]
    status, data = await post(service, "/webhooks/gitlab", body, headers)
    assert (status, data["status"]) == (202, "queued")
    # A tampered body, and a replay far outside the time window.
    bad = gl_headers(body.replace(b'"t"', b'"x"'), **signed)
    del bad["X-Gitlab-Token"]
    assert (await post(service, "/webhooks/gitlab", body.replace(b'"t"', b'"x"'), bad))[0] == 401
    old = str(int(time.time()) - 3600)
    stale = {
        "webhook-id": "msg_2",
        "webhook-timestamp": old,
        "webhook-signature": gitlab_sign(SIGNING, "msg_2", old, body),
    }
    headers = gl_headers(body, **stale)
    del headers["X-Gitlab-Token"]
    assert (await post(service, "/webhooks/gitlab", body, headers))[0] == 401
    assert count_deliveries(service.engine) == {"queued": 1}


async def test_malformed_json_is_400(service: Service) -> None:
    body = b'{"object_kind": "merge_request", '
    assert (await post(service, "/webhooks/gitlab", body, gl_headers(body)))[0] == 400
    body = b"[1, 2]"
    assert (await post(service, "/webhooks/github", body, gh_headers(body)))[0] == 400
    assert nothing_stored(service)


async def test_oversized_body_is_413(service: Service) -> None:
    body = json.dumps(gitlab_mr(title="x" * 100_000)).encode()
    assert (await post(service, "/webhooks/gitlab", body, gl_headers(body)))[0] == 413
    assert nothing_stored(service)


async def test_unknown_events_are_ignored(service: Service) -> None:
    body = json.dumps({"object_kind": "push", "ref": "refs/heads/master"}).encode()
    headers = gl_headers(body, **{"X-Gitlab-Event": "Push Hook"})
    status, data = await post(service, "/webhooks/gitlab", body, headers)
    assert (status, data["status"]) == (202, "ignored")
    body = json.dumps({"zen": "Design for failure.", "hook_id": 1}).encode()
    status, data = await post(service, "/webhooks/github", body, gh_headers(body, "ping"))
    assert (status, data["status"]) == (202, "ignored")
    body = json.dumps(gitlab_mr("approved")).encode()
    status, data = await post(service, "/webhooks/gitlab", body, gl_headers(body))
    assert (status, data["status"]) == (202, "ignored")
    assert sum(count_by_state(service.engine).values()) == 0


async def test_replayed_delivery_makes_no_second_job(service: Service) -> None:
    body = json.dumps(gitlab_mr()).encode()
    headers = gl_headers(body)
    first = await post(service, "/webhooks/gitlab", body, headers)
    second = await post(service, "/webhooks/gitlab", body, headers)
    assert first[1]["status"] == "queued"
    assert second[1]["status"] == "duplicate"
    assert first[1]["job"] == second[1]["job"]
    assert count_by_state(service.engine)["queued"] == 1


async def test_newer_push_supersedes_queued_job(service: Service) -> None:
    for n, sha in enumerate(("a" * 40, "b" * 40, "c" * 40)):
        action = "open" if n == 0 else "update"
        payload = gitlab_mr(action, last_commit={"id": sha}, oldrev="0" * 40 if n else None)
        if not n:
            payload["object_attributes"].pop("oldrev")
        body = json.dumps(payload).encode()
        status, data = await post(service, "/webhooks/gitlab", body, gl_headers(body))
        assert (status, data["status"]) == (202, "queued" if n == 0 else "coalesced")
    from bot.store.jobs import list_jobs

    [job] = list_jobs(service.engine)
    assert (job.state, job.head_sha, job.deliveries) == ("queued", "c" * 40, 3)
    assert count_deliveries(service.engine) == {"queued": 1, "coalesced": 2}


async def test_health_ready_metrics(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    assert (await service.client.get("/healthz")).status == 200
    assert (await service.client.get("/readyz")).status == 200
    body = json.dumps(gitlab_mr()).encode()
    await post(service, "/webhooks/gitlab", body, gl_headers(body))
    text = await (await service.client.get("/metrics")).text()
    assert 'migbot_deliveries_total{forge="gitlab",outcome="queued"} 1.0' in text
    assert "migbot_ack_seconds_bucket" in text

    def down(_engine: object) -> None:
        raise ConnectionError("database down")

    monkeypatch.setattr("bot.service.health.ping", down)
    assert (await service.client.get("/readyz")).status == 503


async def test_secrets_never_logged(service: Service, capsys: pytest.CaptureFixture[str]) -> None:
    body = json.dumps(gitlab_mr()).encode()
    await post(service, "/webhooks/gitlab", body, gl_headers(body, **{"X-Gitlab-Token": "nope"}))
    await post(service, "/webhooks/gitlab", body, gl_headers(body))
    out = capsys.readouterr()
    assert GL_SECRET not in out.out + out.err
    assert "nope" not in out.out + out.err


async def test_redelivery_with_a_fresh_idempotency_key_is_a_duplicate(service: Service) -> None:
    """GitLab's "Resend request" sends the same body under new ids: one delivery."""
    body = json.dumps(gitlab_mr()).encode()
    first = await post(service, "/webhooks/gitlab", body, gl_headers(body))
    again = await post(service, "/webhooks/gitlab", body, gl_headers(body))  # fresh ids
    assert first[1]["status"] == "queued"
    assert again[1]["status"] == "duplicate"
    assert again[1]["job"] == first[1]["job"]
    assert count_deliveries(service.engine) == {"queued": 1}
    from bot.store.jobs import list_jobs

    [job] = list_jobs(service.engine)
    assert job.deliveries == 1
