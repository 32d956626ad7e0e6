"""Slow clients cannot starve a real ``migbot serve``: 300 connections that
trickle their headers, on a process with 256 file descriptors, and /healthz
still answers; a body that never finishes gets 408."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp

from tests.service.test_service_crash import ROOT, _free_port, _wait_healthy

FDS = 256


def _few_fds() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (FDS, FDS))


async def _trickler(port: int, stop: asyncio.Event) -> None:
    """Sends a request line, then one header byte now and then, never the end."""
    try:
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return
    try:
        writer.write(b"POST /webhooks/gitlab HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        while not stop.is_set():
            writer.write(b"a")
            await writer.drain()
            await asyncio.sleep(0.5)
    except OSError:
        pass
    finally:
        writer.close()


async def test_trickling_connections_do_not_starve_healthz(sqlite_url: str, tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "MIGBOT_DATABASE_URL": sqlite_url,
        "MIGBOT_GITLAB_WEBHOOK_TOKEN": "secret",
        # A configured forge (deliveries for another are refused); never contacted here.
        "MIGBOT_GITLAB_URL": "http://127.0.0.1:9",
        "MIGBOT_GITLAB_TOKEN": "glpat-test",
        "MIGBOT_HEADER_TIMEOUT_S": "2",
        "MIGBOT_LOG_FORMAT": "console",
    }
    log = tmp_path / "serve.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.service", "serve", "--port", str(port), "--no-worker"],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        preexec_fn=_few_fds,  # only setrlimit, before exec
    )
    base = f"http://127.0.0.1:{port}"
    stop = asyncio.Event()
    slow: list[asyncio.Task[None]] = []
    try:
        await _wait_healthy(base, server)
        slow = [asyncio.create_task(_trickler(port, stop)) for _ in range(300)]
        await asyncio.sleep(1.0)  # all of them connected and trickling
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            for _ in range(3):
                async with http.get(base + "/healthz") as r:
                    assert r.status == 200, log.read_text()
                await asyncio.sleep(1.0)
            # Headers in time, but a body that never comes: 408, with a JSON error.
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                b"POST /webhooks/gitlab HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"X-Gitlab-Event: Merge Request Hook\r\nContent-Length: 1000\r\n\r\n{"
            )
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            assert head.startswith(b"HTTP/1.1 408"), head
            body = await asyncio.wait_for(reader.read(200), 10)
            assert json.loads(body)["error"]
            writer.close()
        assert server.poll() is None
    finally:
        stop.set()
        await asyncio.gather(*slow, return_exceptions=True)
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
