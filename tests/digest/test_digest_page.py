"""``GET /digest`` from the real service on 127.0.0.1, opened in headless Chromium:
the page renders, the chart is drawn with the digest's numbers (read back from
the DOM), links point at the merge requests, nothing is loaded from elsewhere.
A screenshot is left in test-artifacts/digest.png for a person to look at."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from bot.digest.codec import digest_to_json
from bot.digest.period import Period
from bot.digest.publish import store
from bot.digest.stored import digest_from_store
from bot.service.app import create_app
from bot.store.db import make_engine, migrate
from tests.digest.stored import MONDAY, URL, seed
from tests.fakes.service import make_settings

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Anything but the service is unreachable: a CDN asset would fail to load.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)


class Dom(HTMLParser):
    """Elements of a dumped DOM: (tag, attributes, direct text)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str], list[str]]] = []
        self._stack: list[list[str]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        text: list[str] = []
        self.elements.append((tag, {k: v or "" for k, v in attrs}, text))
        self._stack.append(text)

    def handle_endtag(self, tag: str) -> None:
        if self._stack:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if self._stack:
            self._stack[-1].append(data)

    def find(self, tag: str, **attrs: str) -> list[tuple[dict[str, str], str]]:
        out = []
        for t, a, text in self.elements:
            classes = a.get("class", "").split()
            wanted_class = attrs.get("class_")
            if t != tag or (wanted_class and wanted_class not in classes):
                continue
            if all(a.get(k) == v for k, v in attrs.items() if k != "class_"):
                out.append((a, "".join(text).strip()))
        return out


async def _chromium(binary: str, profile: Path, *args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        binary,
        *FLAGS,
        f"--user-data-dir={profile}",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    return out.decode()


def _page_engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'page.sqlite3'}")
    migrate(engine)
    seed(engine)
    return engine


async def test_digest_page_in_chromium(
    chromium: str, aiohttp_server: Callable[..., Any], tmp_path: Path
) -> None:
    engine = _page_engine(tmp_path)
    digest = digest_from_store(engine, Period.parse("7d", None, MONDAY), weeks=4, now=MONDAY)
    store(engine, digest)
    settings = make_settings(str(engine.url))
    app = create_app(settings, engine=engine, forges={}, run_worker=False)
    server = await aiohttp_server(app, host="127.0.0.1")
    base = f"http://127.0.0.1:{server.port}"

    html = await _chromium(chromium, tmp_path / "profile-dom", "--dump-dom", f"{base}/digest")
    dom = Dom(html)
    [(_, title)] = dom.find("h1")
    assert title == "Migration digest 2026-W06"
    # The chart: one segment per (week, tier) with changes, heights in proportion.
    bars = dom.find("rect", class_="bar")
    drawn = {(a["data-week"], a["data-tier"]): int(a["data-count"]) for a, _ in bars}
    expected = {(w.label, tier): n for w in digest.weeks for tier, n in w.counts if n}
    assert (
        drawn
        == expected
        == {
            ("2026-W04", "forward"): 1,
            ("2026-W06", "bidirectional"): 3,
            ("2026-W06", "forward"): 1,
            ("2026-W06", "best-effort"): 2,
        }
    )
    per_change = [float(a["height"]) / int(a["data-count"]) for a, _ in bars]
    assert max(per_change) - min(per_change) < 0.1  # the same height per change everywhere
    totals = {a["data-week"]: text for a, text in dom.find("text", class_="total")}
    assert totals == {"2026-W03": "0", "2026-W04": "1", "2026-W05": "0", "2026-W06": "6"}
    [(svg, _)] = dom.find("svg", id="weekly-chart")
    assert svg["data-max"] == "6"
    # Change lines link to their merge requests.
    refs = {a["href"]: text for a, text in dom.find("a", class_="ref")}
    assert refs[URL.format(n=1)] == "qemu/qemu!1"
    assert len(refs) == 7
    [(section, _)] = dom.find("section", id="fixed-before-merge")
    assert section["data-count"] == "1"
    # Everything the page needs is in it: no script, stylesheet link or remote image.
    assert not dom.find("script")
    assert not dom.find("link")
    assert all(not a.get("src") for _, a, _ in dom.elements)

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "digest.png"
    shot.unlink(missing_ok=True)
    await _chromium(
        chromium,
        tmp_path / "profile-shot",
        f"--screenshot={shot}",
        "--window-size=1100,2200",
        "--hide-scrollbars",
        f"{base}/digest",
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    client_json = await _get(base + "/digest.json")
    assert client_json == digest_to_json(digest)
    engine.dispose()


async def _get(url: str) -> Any:
    import aiohttp

    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        return await response.json()


async def test_digest_page_before_any_was_stored(
    aiohttp_server: Callable[..., Any], tmp_path: Path
) -> None:
    """No stored digest yet: the service builds one from the store (here: a quiet one)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    migrate(engine)
    app = create_app(make_settings(str(engine.url)), engine=engine, forges={}, run_worker=False)
    server = await aiohttp_server(app, host="127.0.0.1")
    base = f"http://127.0.0.1:{server.port}"
    data = await _get(base + "/digest.json")
    assert (data["affecting"], data["reviewed"]) == (0, 0)
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with session.get(base + "/digest") as page:
            assert page.status == 200
            assert "default-src 'none'" in page.headers["Content-Security-Policy"]
            assert 'id="quiet"' in await page.text()
        async with session.get(base + "/digest.json?period=1999-W01") as missing:
            assert missing.status == 404
    engine.dispose()


async def test_service_runs_the_schedule_unless_it_is_off(
    aiohttp_server: Callable[..., Any], tmp_path: Path
) -> None:
    from bot.service.schedule import SCHEDULER

    engine = make_engine(f"sqlite:///{tmp_path / 'sched.sqlite3'}")
    migrate(engine)
    on = make_settings(str(engine.url), digest_schedule="mon 08:00")
    app = create_app(on, engine=engine, forges={}, run_worker=False)
    await aiohttp_server(app, host="127.0.0.1")
    assert app[SCHEDULER].schedule.at.hour == 8
    off = create_app(make_settings(str(engine.url)), engine=engine, forges={}, run_worker=False)
    await aiohttp_server(off, host="127.0.0.1")
    assert SCHEDULER not in off
    engine.dispose()
