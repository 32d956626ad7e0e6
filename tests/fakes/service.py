"""The service under test, in process: app + aiohttp test client + helpers."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import Engine

from bot.service.keys import ENGINE
from bot.settings import Settings


def make_settings(database_url: str, **overrides: Any) -> Settings:
    base = Settings(
        database_url=database_url,
        poll_interval_s=0.05,
        lease_seconds=10.0,
        retry_backoff_s=0.05,
        forge_retries=3,
        forge_backoff_s=0.05,
        forge_timeout_s=10.0,
        max_attempts=3,
        # A loaded CI machine is slow, not stuck: the 2 s intake deadline has its own test.
        db_timeout_s=10.0,
        # The in-process digest schedule runs only in the tests that ask for it.
        digest_schedule="off",
    )
    return replace(base, **overrides)


@dataclass
class Service:
    app: web.Application
    client: TestClient[Any, Any]
    settings: Settings

    @property
    def engine(self) -> Engine:
        return self.app[ENGINE]

    async def deliver(self, path: str, delivery: Any) -> tuple[int, dict[str, Any]]:
        response = await self.client.post(path, data=delivery.body, headers=delivery.headers)
        try:
            data = await response.json()
        except Exception:
            data = {"text": await response.text()}
        return response.status, data
