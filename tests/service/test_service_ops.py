"""What an operator sees: deliveries for an unconfigured forge refused, queue metrics."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.service.app import create_app
from bot.store.jobs import count_deliveries, list_jobs
from bot.store.models import Job, JobState, utcnow
from tests.fakes.service import Service, make_settings
from tests.service.test_service_intake import (
    GH_SECRET,
    GL_SECRET,
    SIGNING,
    gh_headers,
    gitlab_mr,
    gl_headers,
    post,
)


async def _service(db_url: str, aiohttp_client: Callable[..., Any], **settings: Any) -> Service:
    made = make_settings(
        db_url,
        gitlab_webhook_token=GL_SECRET,
        gitlab_signing_token=SIGNING,
        github_webhook_secret=GH_SECRET,
        run_worker=False,
        **settings,
    )
    app = create_app(made, forges={})
    client: TestClient[Any, Any] = await aiohttp_client(app)
    return Service(app, client, made)


async def test_a_delivery_for_an_unconfigured_forge_is_refused(
    db_url: str, aiohttp_client: Callable[..., Any]
) -> None:
    service = await _service(
        db_url, aiohttp_client, gitlab_url="https://gitlab.example", gitlab_token="t"
    )
    body = json.dumps({"action": "opened", "number": 1}).encode()
    status, answer = await post(service, "/webhooks/github", body, gh_headers(body))
    assert status == 404
    assert answer["error"].startswith("GitHub is not configured on this migbot")
    assert list_jobs(service.engine) == [] and count_deliveries(service.engine) == {}
    gl_body = json.dumps(gitlab_mr()).encode()
    status, _ = await post(service, "/webhooks/gitlab", gl_body, gl_headers(gl_body))
    assert status == 202


def _metric(text: str, name: str) -> float:
    match = re.search(rf"^{name} (\S+)$", text, re.M)
    assert match, name
    return float(match.group(1))


async def test_metrics_show_queue_depth_parked_and_oldest_age(
    db_url: str, aiohttp_client: Callable[..., Any]
) -> None:
    service = await _service(
        db_url, aiohttp_client, gitlab_url="https://gitlab.example", gitlab_token="t"
    )
    text = await (await service.client.get("/metrics")).text()
    assert _metric(text, "migbot_queue_depth") == 0
    assert _metric(text, "migbot_oldest_queued_job_age_seconds") == 0
    for iid in (7, 8, 9):
        body = json.dumps(gitlab_mr(iid=iid)).encode()
        assert (await post(service, "/webhooks/gitlab", body, gl_headers(body)))[0] == 202
    jobs = list_jobs(service.engine)
    with Session(service.engine) as s:
        s.execute(update(Job).where(Job.id == jobs[0].id).values(state=JobState.PARKED))
        s.execute(
            update(Job)
            .where(Job.id == jobs[1].id)
            .values(created_at=utcnow() - timedelta(minutes=10))
        )
        s.commit()
    text = await (await service.client.get("/metrics")).text()
    assert _metric(text, "migbot_queue_depth") == 2
    assert _metric(text, "migbot_parked_jobs") == 1
    assert 599 <= _metric(text, "migbot_oldest_queued_job_age_seconds") < 700
