"""The listening socket of ``migbot serve``: a connection limit and a deadline
for each request's headers, so slow clients cannot starve everyone else.

aiohttp waits for a request's headers as long as the client likes; 1,100
connections trickling a byte now and then used up the file descriptors and
even ``/healthz`` failed. Here every connection has ``header_timeout`` seconds
to start a request (after it opens, or after its previous answer); past
``max_connections`` the oldest connection still waiting for its headers is
closed to make room (a busy one never is). The body has its own deadline where
it is read (`bot.service.intake`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler


def _canned(status: str, error: str, retry_after: bool) -> bytes:
    body = json.dumps({"error": error}).encode()
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
    head += "Retry-After: 1\r\n" if retry_after else ""
    head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    return head.encode() + body


_TOO_MANY = _canned("503 Service Unavailable", "too many connections; retry later", True)
_TOO_SLOW = _canned("408 Request Timeout", "request headers too slow", False)


class _Guarded(asyncio.Protocol):
    """aiohttp's protocol for one connection, with the guard told of its life."""

    def __init__(self, inner: asyncio.Protocol, guard: ConnectionGuard) -> None:
        self.inner = inner
        self.guard = guard
        self.transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.inner.connection_made(transport)
        self.guard.opened(self)

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.closed(self)
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    def close(self, answer: bytes | None = None) -> None:
        """Close, first answering (a clean 503 or 408) when no request is under way."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if answer is not None and isinstance(transport, asyncio.WriteTransport):
            transport.write(answer)
        transport.close()

    def too_slow(self) -> None:
        self.close(_TOO_SLOW)


class ConnectionGuard:
    """A protocol factory around aiohttp's, enforcing the limit and the deadline."""

    def __init__(self, *, max_connections: int, header_timeout: float) -> None:
        self.max_connections = max(1, max_connections)
        self.header_timeout = header_timeout
        self._factory: Callable[[], asyncio.Protocol] | None = None
        self._open: dict[Any, _Guarded] = {}
        """By transport."""
        self._waiting: OrderedDict[_Guarded, asyncio.TimerHandle] = OrderedDict()
        """Connections with no request under way, oldest first, and their deadline."""

    def bind(self, factory: Callable[[], asyncio.Protocol]) -> None:
        self._factory = factory

    def __call__(self) -> asyncio.Protocol:
        assert self._factory is not None
        return _Guarded(self._factory(), self)

    @property
    def open_connections(self) -> int:
        return len(self._open)

    def opened(self, conn: _Guarded) -> None:
        self._open[conn.transport] = conn
        if len(self._open) > self.max_connections:
            oldest = next(iter(self._waiting), None)
            (oldest or conn).close(_TOO_MANY)
            if oldest is None:
                return
        self._arm(conn)

    def closed(self, conn: _Guarded) -> None:
        self._open.pop(conn.transport, None)
        self._disarm(conn)

    def started(self, transport: Any) -> None:
        conn = self._open.get(transport)
        if conn is not None:
            self._disarm(conn)

    def finished(self, transport: Any) -> None:
        conn = self._open.get(transport)
        if conn is not None and conn not in self._waiting:
            self._arm(conn)

    def _arm(self, conn: _Guarded) -> None:
        loop = asyncio.get_running_loop()
        self._waiting[conn] = loop.call_later(self.header_timeout, conn.too_slow)

    def _disarm(self, conn: _Guarded) -> None:
        timer = self._waiting.pop(conn, None)
        if timer is not None:
            timer.cancel()


GUARD = web.AppKey("connection_guard", ConnectionGuard)


@web.middleware
async def request_deadlines(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Tell the guard a request is under way (its headers came in time)."""
    guard = request.app.get(GUARD)
    if guard is None:
        return await handler(request)
    guard.started(request.transport)
    try:
        return await handler(request)
    finally:
        guard.finished(request.transport)


def raise_file_limit() -> int:
    """Use every file descriptor the hard limit allows; returns the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    return soft


async def serve(
    app: web.Application,
    host: str,
    port: int,
    *,
    max_connections: int,
    header_timeout: float,
    stop: asyncio.Event,
    shutdown_timeout: float = 15.0,
) -> None:
    """Serve ``app`` until ``stop`` is set, then shut down cleanly."""
    # Leave room below the descriptor limit for the database, the forges and logs.
    limit = min(max_connections, max(16, raise_file_limit() - 128))
    guard = app[GUARD] = ConnectionGuard(max_connections=limit, header_timeout=header_timeout)
    runner = web.AppRunner(
        app, access_log=None, keepalive_timeout=header_timeout, shutdown_timeout=shutdown_timeout
    )
    await runner.setup()
    assert runner.server is not None
    guard.bind(runner.server)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(guard, host, port, reuse_address=True, backlog=1024)
    try:
        await stop.wait()
    finally:
        server.close()
        await runner.cleanup()
