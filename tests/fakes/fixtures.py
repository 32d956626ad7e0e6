"""Fixtures shared by tests/service, tests/forges and tests/store (imported by
their conftest.py files): databases (SQLite, and PostgreSQL in a schema of its
own), the fake forges, and the @octokit webhook examples and schemas."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from bot.store import jobs as jobstore
from bot.store.db import make_engine, migrate
from tests.fakes.fake_github import FakeGitHub
from tests.fakes.fake_gitlab import FakeGitLab

IN_CI = bool(os.environ.get("CI"))
OCTOKIT_VERSION = "7.6.1"
_PG_CANDIDATES = (
    "postgresql://root@127.0.0.1:5432/test",
    "postgresql://postgres@127.0.0.1:5432/test",
)


def _admin_url() -> str | None:
    explicit = os.environ.get("MIGBOT_TEST_POSTGRES_URL")
    for url in (explicit,) if explicit else _PG_CANDIDATES:
        try:
            engine = make_engine(url, pool_size=1)
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
            return url
        except Exception:
            continue
    return None


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    url = _admin_url()
    if url is None:
        message = "PostgreSQL is not reachable on 127.0.0.1:5432"
        if IN_CI:
            pytest.fail(message + " (CI=true: PostgreSQL tests must run)")
        pytest.skip(message)
    return url


@pytest.fixture
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    schema = f"migbot_t_{uuid.uuid4().hex[:10]}"
    admin = make_engine(pg_admin_url, pool_size=1)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in pg_admin_url else "?"
    try:
        yield f"{pg_admin_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'migbot.sqlite3'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
async def fake_gitlab() -> AsyncIterator[FakeGitLab]:
    fake = FakeGitLab()
    await fake.start()
    yield fake
    await fake.stop()


# --- @octokit/webhooks examples and schemas -------------------------------------


def _npm_dir() -> Path:
    root = os.environ.get("MIGBOT_NPM_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "migbot-tests"
    )
    return Path(root) / f"octokit-{OCTOKIT_VERSION}"


def install_octokit() -> Path:
    """Install the two npm packages once into a cache folder; returns node_modules/@octokit."""
    target = _npm_dir()
    mods = target / "node_modules" / "@octokit"
    done = (mods / "webhooks-examples" / "api.github.com" / "index.json").exists() and (
        mods / "webhooks-schemas" / "schema.json"
    ).exists()
    if done:
        return mods
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed")
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            npm,
            "install",
            "--no-audit",
            "--no-fund",
            "--no-save",
            "--prefix",
            str(target),
            f"@octokit/webhooks-examples@{OCTOKIT_VERSION}",
            f"@octokit/webhooks-schemas@{OCTOKIT_VERSION}",
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return mods


class Octokit:
    """Examples by (event, action) and a validator per event definition."""

    def __init__(self, mods: Path) -> None:
        self.examples: dict[str, Any] = {
            e["name"]: e
            for e in json.loads((mods / "webhooks-examples/api.github.com/index.json").read_text())
        }
        self.schema: dict[str, Any] = json.loads(
            (mods / "webhooks-schemas/schema.json").read_text()
        )
        self._validators: dict[str, Any] = {}

    def example(self, event: str, action: str | None) -> dict[str, Any]:
        """The first example of this action that the schema accepts as it is."""
        from jsonschema import ValidationError

        for ex in self.examples[event]["examples"]:
            if ex.get("action") != action:
                continue
            try:
                self.validate(event, action, ex)
            except ValidationError:
                continue  # a few older examples lack fields the schema now requires
            return json.loads(json.dumps(ex))
        raise KeyError(f"no schema-valid example for {event}.{action}")

    def validate(self, event: str, action: str | None, payload: dict[str, Any]) -> None:
        from jsonschema import Draft7Validator

        name = f"{event}${action}" if action else f"{event}_event"
        if name not in self._validators:
            schema = {"$ref": f"#/definitions/{name}", "definitions": self.schema["definitions"]}
            self._validators[name] = Draft7Validator(schema)
        self._validators[name].validate(payload)


@pytest.fixture(scope="session")
def octokit() -> Octokit:
    try:
        mods = install_octokit()
    except Exception as exc:
        message = f"cannot install @octokit/webhooks-examples and -schemas with npm: {exc}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return Octokit(mods)


@pytest.fixture
async def fake_github(octokit: Octokit) -> AsyncIterator[FakeGitHub]:
    fake = FakeGitHub(octokit)
    await fake.start()
    yield fake
    await fake.stop()


async def wait_for_jobs(
    engine: Engine,
    *,
    timeout: float = 60.0,
    settled: Callable[[dict[str, int]], bool] | None = None,
) -> dict[str, int]:
    """Wait until no job is queued or running; returns the counts by state."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    counts: dict[str, int] = {}
    while loop.time() < deadline:
        counts = await loop.run_in_executor(None, jobstore.count_by_state, engine)
        done = settled(counts) if settled else counts["queued"] + counts["running"] == 0
        if done:
            return counts
        await asyncio.sleep(0.05)
    raise AssertionError(f"jobs did not settle in {timeout}s: {counts}")
