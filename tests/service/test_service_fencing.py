"""Real processes, real signals: a worker that lost its lease writes nothing
more, and the worker child of ``serve --worker-process`` dies with its parent."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from pathlib import Path

from bot.forges.gitlab import events as gitlab_events
from bot.store import jobs
from bot.store.db import make_engine, migrate
from tests.fakes import qemu
from tests.fakes.fake_gitlab import FakeGitLab
from tests.service.test_service_crash import (
    ROOT,
    _children,
    _free_port,
    _spawn,
    _until,
    _wait_healthy,
)


def _env(fake: FakeGitLab, db_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "MIGBOT_DATABASE_URL": db_url,
        "MIGBOT_GITLAB_URL": fake.base_url,
        "MIGBOT_GITLAB_TOKEN": fake.bot.token,
        "MIGBOT_GITLAB_WEBHOOK_TOKEN": fake.webhook_token or "",
        "MIGBOT_POLL_INTERVAL_S": "0.1",
        "MIGBOT_LOG_FORMAT": "console",
        **extra,
    }


def _state(engine: object, job_id: int) -> str:
    record = jobs.get_job(engine, job_id)  # type: ignore[arg-type]
    assert record is not None
    return record.state


async def test_sigterm_after_grace_hands_back_a_fenced_job(
    fake_gitlab: FakeGitLab, pg_url: str, tmp_path: Path
) -> None:
    """Worker A is stopped mid-job (SIGTERM, grace over) and gives the job back;
    worker B runs it and publishes. A's thread, let go afterwards with the notes
    it read before B published, must not post a second summary or threads."""
    fake = fake_gitlab
    project = fake.create_project("qemu/qemu", qemu.BASE_TREE)
    mr, delivery = fake.open_mr(
        project, title="foo", author=fake.user("alice"), changes={qemu.FOO_C: qemu.TWO_FINDINGS}
    )
    engine = make_engine(pg_url)
    migrate(engine)
    event = gitlab_events.from_http(
        delivery.headers, delivery.body, secret=fake.webhook_token, now=time.time()
    )
    job_id = jobs.accept(engine, event).job_id
    assert job_id is not None
    env = _env(fake, pg_url, MIGBOT_STOP_GRACE_S="0.3", MIGBOT_LEASE_SECONDS="3")
    log = tmp_path / "workers.log"
    # A reads the MR's (empty) notes; the answer reaches it only when released.
    stale = fake.hold(r"/discussions$", method="GET", after=True)
    a = _spawn(["worker"], env, log)
    b: subprocess.Popen[bytes] | None = None
    try:
        await asyncio.wait_for(stale.seen.wait(), timeout=60)
        a.send_signal(signal.SIGTERM)
        await _until(lambda: _state(engine, job_id) == "queued", "the job handed back", 30)
        b = _spawn(["worker"], env, log)
        await _until(lambda: _state(engine, job_id) == "done", "worker B's review", 60)
        assert len(fake.summary_notes(mr)) == 1
        stale.release.set()
        loop = asyncio.get_running_loop()
        assert await loop.run_in_executor(None, a.wait, 30) == 0, log.read_text()
    finally:
        for proc in (a, b):
            if proc is not None and proc.poll() is None:
                proc.kill()
        engine.dispose()
    assert len(fake.summary_notes(mr)) == 1, log.read_text()
    assert len(fake.threads(mr)) == 2


async def test_worker_child_dies_with_a_killed_serve(
    fake_gitlab: FakeGitLab, sqlite_url: str, tmp_path: Path
) -> None:
    """``kill -9`` of ``serve --worker-process`` leaves no worker behind under PID 1."""
    port = _free_port()
    log = tmp_path / "service.log"
    args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--worker-process"]
    server = _spawn(args, _env(fake_gitlab, sqlite_url), log)
    try:
        await _wait_healthy(f"http://127.0.0.1:{port}", server)
        await _until(lambda: _children(server.pid), "the worker process")
        [child] = _children(server.pid)
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
        await _until(lambda: not _alive(child), "the orphaned worker to exit", 15)
    finally:
        if server.poll() is None:
            server.kill()


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
