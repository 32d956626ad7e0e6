"""A small stateful HTTP fake on a real socket: routes on the raw path, injectable
faults (5xx, 429 with Retry-After, GitHub secondary limits) and holds (a request
that waits until the test releases it), and a log of what the client asked."""

from __future__ import annotations

import asyncio
import json
import re
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request, dict[str, str]], Awaitable[web.StreamResponse]]


class HTTPError(Exception):
    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


@dataclass
class Fault:
    method: str | None
    pattern: re.Pattern[str]
    status: int
    times: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)
    hits: int = 0
    after: bool = False
    """Apply the request first, then answer the fault (the client cannot tell)."""
    every: int = 1
    """Only every ``every``-th matching request (counted in ``seen``) is hit."""
    delay: float = 0.0
    """With ``after``: wait this long before answering (past the client's timeout)."""
    seen: int = 0


@dataclass
class Hold:
    method: str | None
    pattern: re.Pattern[str]
    seen: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    times: int = 1
    after: bool = False
    """Answer with the state as it was when the request came, once released."""


class FakeServer:
    prefix = ""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.faults: list[Fault] = []
        self.holds: list[Hold] = []
        self.requests: list[tuple[str, str]] = []
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.per_page_default = 20

    # --- routing ---------------------------------------------------------------

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method, re.compile("^" + self.prefix + pattern + "$"), handler))

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.raw_path.split("?", 1)[0]
        self.requests.append((request.method, path))
        applied_then: Fault | None = None
        for fault in self.faults:
            live = fault.hits < fault.times and fault.method in (None, request.method)
            if not (live and fault.pattern.search(path)):
                continue
            fault.seen += 1
            if fault.seen % fault.every:
                continue
            fault.hits += 1
            if fault.after:
                applied_then = fault
                break
            return web.json_response(
                fault.body or {"message": f"injected {fault.status}"},
                status=fault.status,
                headers=fault.headers,
            )
        if applied_then is not None:
            response = await self._handle(request, path)
            if applied_then.delay:
                await asyncio.sleep(applied_then.delay)
            if not applied_then.status:
                return response
            return web.json_response(
                applied_then.body or {"message": f"injected {applied_then.status}"},
                status=applied_then.status,
                headers=applied_then.headers,
            )
        return await self._handle(request, path)

    async def _handle(self, request: web.Request, path: str) -> web.StreamResponse:
        for hold in self.holds:
            live = hold.times > 0 and hold.method in (None, request.method)
            if live and hold.pattern.search(path):
                hold.times -= 1
                if hold.after:
                    response = await self._route(request, path)
                    hold.seen.set()
                    await hold.release.wait()
                    return response
                hold.seen.set()
                await hold.release.wait()
        return await self._route(request, path)

    async def _route(self, request: web.Request, path: str) -> web.StreamResponse:
        for method, pattern, handler in self._routes:
            if method != request.method:
                continue
            match = pattern.match(path)
            if match:
                params = {k: urllib.parse.unquote(v) for k, v in match.groupdict().items()}
                try:
                    return await handler(request, params)
                except HTTPError as exc:
                    return web.json_response(
                        {"message": exc.message, **exc.extra}, status=exc.status
                    )
        return web.json_response({"message": "404 Not Found"}, status=404)

    # --- switches --------------------------------------------------------------

    def fail(
        self,
        pattern: str,
        *,
        status: int = 500,
        times: int = 1,
        method: str | None = None,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> Fault:
        fault = Fault(method, re.compile(pattern), status, times, headers or {}, body or {})
        self.faults.append(fault)
        return fault

    def fail_after_applying(
        self,
        pattern: str,
        *,
        status: int = 502,
        method: str | None = "POST",
        every: int = 1,
        times: int = 1_000_000,
        delay: float = 0.0,
    ) -> Fault:
        """The request takes effect, but the client sees ``status`` (0: the real
        answer, after ``delay`` seconds: a timeout when longer than the client's)."""
        fault = Fault(method, re.compile(pattern), status, times, after=True, every=every)
        fault.delay = delay
        self.faults.append(fault)
        return fault

    def hold(
        self, pattern: str, *, method: str | None = None, times: int = 1, after: bool = False
    ) -> Hold:
        hold = Hold(method, re.compile(pattern), times=times, after=after)
        self.holds.append(hold)
        return hold

    def count(self, method: str, pattern: str) -> int:
        rx = re.compile(pattern)
        return sum(1 for m, p in self.requests if m == method and rx.search(p))

    # --- lifecycle ---------------------------------------------------------------

    async def start(self, port: int = 0) -> str:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def stop(self) -> None:
        for hold in self.holds:
            hold.release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- helpers for handlers -------------------------------------------------------

    @staticmethod
    async def body(request: web.Request) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if request.can_read_body:
            raw = await request.read()
            if raw:
                ctype = request.content_type
                if ctype == "application/json":
                    data = json.loads(raw)
                else:
                    data = {k: v for k, v in urllib.parse.parse_qsl(raw.decode())}
        for key, value in request.query.items():
            data.setdefault(key, value)
        return data

    def paginate(self, request: web.Request, items: list[Any]) -> web.Response:
        per_page = int(request.query.get("per_page", self.per_page_default))
        page = int(request.query.get("page", "1"))
        total_pages = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {
            "X-Page": str(page),
            "X-Per-Page": str(per_page),
            "X-Total": str(len(items)),
            "X-Total-Pages": str(total_pages),
        }
        if page < total_pages:
            query = dict(request.query)
            query["page"] = str(page + 1)
            query["per_page"] = str(per_page)
            raw = request.raw_path.split("?", 1)[0]
            url = f"{self.base_url}{raw}?{urllib.parse.urlencode(query)}"
            headers["Link"] = f'<{url}>; rel="next"'
            headers["X-Next-Page"] = str(page + 1)
        return web.json_response(chunk, headers=headers)
