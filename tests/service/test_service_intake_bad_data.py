"""Data that can never be stored, and bytes that used to become 500: each gets a
4xx with a JSON error body (the forge stops retrying), and nothing is stored."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.fakes.service import Service
from tests.service.test_service_intake import (
    gh_headers,
    gitlab_mr,
    gl_headers,
    nothing_stored,
    post,
    service,  # noqa: F401 - the fixture
)

HOOK = "/webhooks/gitlab"


def _with_project(path: str) -> dict[str, Any]:
    payload = gitlab_mr()
    payload["project"]["path_with_namespace"] = path
    return payload


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(_with_project("qemu/" + "p" * 400), id="long-project-path"),
        pytest.param(gitlab_mr(iid=2**31), id="iid-2^31"),
        pytest.param(gitlab_mr(iid=-3), id="negative-iid"),
        pytest.param(_with_project("qemu/q\x00emu"), id="nul-in-project"),
        pytest.param(gitlab_mr(title="fix \x00 it"), id="nul-in-title"),
        pytest.param(gitlab_mr(last_commit={"id": "a" * 200}), id="long-head-sha"),
    ],
)
async def test_unstorable_delivery_is_refused_not_retried(
    service: Service,  # noqa: F811
    payload: dict[str, Any],
) -> None:
    body = json.dumps(payload).encode()
    status, data = await post(service, HOOK, body, gl_headers(body))
    assert status in (400, 422), (status, data)
    assert isinstance(data, dict) and data["error"]
    assert nothing_stored(service)


async def test_lone_surrogate_is_refused(service: Service) -> None:  # noqa: F811
    body = json.dumps(gitlab_mr()).replace('"title": "t"', '"title": "t\\ud800"').encode()
    assert b"\\ud800" in body
    status, data = await post(service, HOOK, body, gl_headers(body))
    assert status in (400, 422), (status, data)
    assert data["error"]
    assert nothing_stored(service)


async def _raw(svc: Service, request: bytes) -> tuple[int, bytes, bytes]:
    """One request written byte for byte (clients refuse to send such headers)."""
    server = svc.client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    body = await reader.readexactly(length)
    writer.close()
    status = int(head.split(b" ", 2)[1])
    return status, head, body


@pytest.mark.parametrize("name", [b"X-Gitlab-Token", b"X-Hub-Signature-256"])
async def test_non_utf8_secret_header_is_401_with_json(
    service: Service,  # noqa: F811
    name: bytes,
) -> None:
    body = json.dumps(gitlab_mr()).encode()
    path, event = (
        (b"/webhooks/gitlab", b"X-Gitlab-Event: Merge Request Hook")
        if name == b"X-Gitlab-Token"
        else (b"/webhooks/github", b"X-GitHub-Event: pull_request")
    )
    request = (
        b"POST " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\n" + event + b"\r\n" + name + b": sec\xffret\xc3\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
    )
    status, head, data = await _raw(service, request)
    assert 400 <= status < 500, head
    assert b"application/json" in head.lower()
    assert json.loads(data)["error"]
    assert nothing_stored(service)


async def test_deeply_nested_json_is_400(service: Service) -> None:  # noqa: F811
    """30,000 deep: what fits the 64 KiB body limit of these tests."""
    body = b'{"object_kind": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"
    for path, headers in ((HOOK, gl_headers(body)), ("/webhooks/github", gh_headers(body))):
        status, data = await post(service, path, body, headers)
        assert status == 400, (status, data)
        assert data["error"]
    assert nothing_stored(service)


async def test_five_thousand_digit_iid_is_4xx(service: Service) -> None:  # noqa: F811
    digits = "9" * 5000
    as_number = json.dumps(gitlab_mr()).replace('"iid": 7', f'"iid": {digits}').encode()
    as_text = json.dumps(gitlab_mr(iid=digits)).encode()
    for body in (as_number, as_text):
        status, data = await post(service, HOOK, body, gl_headers(body))
        assert 400 <= status < 500, (status, data)
        assert data["error"]
    gh = {
        "action": "opened",
        "number": 1,
        "pull_request": {"number": 1, "head": {"sha": "a" * 40}, "state": "open"},
        "repository": {"full_name": "qemu/qemu", "id": 1},
    }
    body = json.dumps(gh).replace('"number": 1,', f'"number": {digits},', 1).encode()
    status, data = await post(service, "/webhooks/github", body, gh_headers(body))
    assert 400 <= status < 500, (status, data)
    assert nothing_stored(service)
