"""A real ``migbot serve`` killed with SIGKILL mid-job; a real ``migbot worker``
started afterwards finishes the job. Nothing accepted is lost."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp

from bot.store import jobs
from bot.store.db import make_engine
from tests.fakes import qemu
from tests.fakes.fake_gitlab import FakeGitLab

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli.service", *args],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


async def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with aiohttp.ClientSession() as http:
        while loop.time() < deadline:
            assert proc.poll() is None, "server exited"
            try:
                async with http.get(url + "/readyz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("server did not become ready")


async def test_sigkill_mid_job_then_restart_finishes(
    fake_gitlab: FakeGitLab, db_url: str, tmp_path: Path
) -> None:
    fake = fake_gitlab
    project = fake.create_project("qemu/qemu", qemu.BASE_TREE)
    mr, delivery = fake.open_mr(
        project, title="foo", author=fake.user("alice"), changes={qemu.FOO_C: qemu.TWO_FINDINGS}
    )
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "MIGBOT_DATABASE_URL": db_url,
        "MIGBOT_GITLAB_URL": fake.base_url,
        "MIGBOT_GITLAB_TOKEN": fake.bot.token,
        "MIGBOT_GITLAB_WEBHOOK_TOKEN": fake.webhook_token or "",
        "MIGBOT_LEASE_SECONDS": "2",
        "MIGBOT_POLL_INTERVAL_S": "0.1",
        "MIGBOT_LOG_FORMAT": "console",
    }
    log = tmp_path / "service.log"
    hold = fake.hold(r"/repository/files/.+/raw$", times=1000)
    server = _spawn(["serve", "--host", "127.0.0.1", "--port", str(port)], env, log)
    try:
        base = f"http://127.0.0.1:{port}"
        await _wait_healthy(base, server)
        async with (
            aiohttp.ClientSession() as http,
            http.post(base + "/webhooks/gitlab", data=delivery.body, headers=delivery.headers) as r,
        ):
            assert r.status == 202
            job_id = (await r.json())["job"]
        await asyncio.wait_for(hold.seen.wait(), timeout=30)  # the worker is mid-job
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
    hold.times = 0
    hold.release.set()
    assert fake.summary_notes(mr) == []

    engine = make_engine(db_url)
    record = jobs.get_job(engine, job_id)
    assert record is not None
    assert record.state == "running"  # stored before the answer, then claimed

    worker = _spawn(["worker"], env, log)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while loop.time() < deadline:
            record = jobs.get_job(engine, job_id)
            assert record is not None
            if record.state == "done":
                break
            assert worker.poll() is None, log.read_text()
            await asyncio.sleep(0.1)
        assert record.state == "done", log.read_text()
        assert record.attempts == 2
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        engine.dispose()
    assert len(fake.summary_notes(mr)) == 1
    assert len(fake.threads(mr)) == 2
    assert worker.returncode == 0, log.read_text()


def _children(pid: int) -> list[int]:
    """Live child processes of ``pid`` (from /proc, which this Linux host has)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces, so split after ')'.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(entry.name))
    return out


async def _until(check: object, what: str, timeout: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def test_worker_process_reviews_is_restarted_and_stops_with_serve(
    fake_gitlab: FakeGitLab, db_url: str, tmp_path: Path
) -> None:
    """``serve --worker-process``: reviews happen in a supervised child process."""
    fake = fake_gitlab
    project = fake.create_project("qemu/qemu", qemu.BASE_TREE)
    mr, delivery = fake.open_mr(
        project, title="foo", author=fake.user("alice"), changes={qemu.FOO_C: qemu.TWO_FINDINGS}
    )
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "MIGBOT_DATABASE_URL": db_url,
        "MIGBOT_GITLAB_URL": fake.base_url,
        "MIGBOT_GITLAB_TOKEN": fake.bot.token,
        "MIGBOT_GITLAB_WEBHOOK_TOKEN": fake.webhook_token or "",
        "MIGBOT_POLL_INTERVAL_S": "0.1",
        "MIGBOT_LOG_FORMAT": "console",
    }
    log = tmp_path / "service.log"
    args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--worker-process"]
    server = _spawn(args, env, log)
    try:
        base = f"http://127.0.0.1:{port}"
        await _wait_healthy(base, server)
        await _until(lambda: _children(server.pid), "the worker process")
        [first] = _children(server.pid)
        os.kill(first, signal.SIGKILL)  # the supervisor starts another one
        await _until(
            lambda: _children(server.pid) not in ([], [first]), "a restarted worker", timeout=30
        )
        async with (
            aiohttp.ClientSession() as http,
            http.post(base + "/webhooks/gitlab", data=delivery.body, headers=delivery.headers) as r,
        ):
            assert r.status == 202
        await _until(lambda: len(fake.threads(mr)) == 2, "the review", timeout=60)
        assert len(fake.summary_notes(mr)) == 1
        [worker] = _children(server.pid)
        # Reviews take only the CPU acknowledgements leave; serve itself does not.
        assert os.sched_getscheduler(worker) == os.SCHED_IDLE
        # (serve keeps the policy it was started with: the test's own)
        assert os.sched_getscheduler(server.pid) == os.sched_getscheduler(0)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        await _until(lambda: not Path(f"/proc/{worker}").exists(), "the worker to stop", 10)
    finally:
        if server.poll() is None:
            server.kill()
    assert "worker process exited; restarting" in log.read_text()
