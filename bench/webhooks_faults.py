"""Intake past its limits and reviews under forge faults (issue 14's measures).

Each scenario runs real ``migbot serve`` processes on PostgreSQL, a fake GitLab
in its own process, and a load generator on loopback; every loop is bounded.

* ``overload``: deliveries at ``--overload-rate`` (2x the sustainable rate) for
  ``--seconds``, as forges send them (one connection each, 10 s timeout); a
  prober asks ``/healthz`` every 250 ms. Reports 202/503/other answers, whether
  every 503 carried Retry-After, p99 of acknowledgements, ``/healthz`` answers,
  and lost deliveries (202 but not stored); then the 503'd ones are sent again,
  as the forge would, and must all be stored.
* ``replicas``: the same closed-loop burst against one ``serve`` and against two
  on the same database (round robin, as a load balancer would): deliveries/s of
  each and the ratio. With ``--replica-cpu F`` each replica runs in a cgroup of
  its own capped at F of one CPU (Linux, root, the cgroup ``cpu`` controller),
  as a Kubernetes CPU limit would cap a pod: on a small host the load
  generator and PostgreSQL then keep the CPU they need, so the ratio shows
  whether replicas contend on the database, not on this host's cores.
* ``exactly-once``: one merge request, 20 force-pushes and 100 redeliveries,
  every third content POST to the forge timing out after it was applied:
  summaries and threads on the merge request at the end.

    python -m bench.webhooks_faults --scenario all
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text

from bench.webhooks import Load, _free_port, _pct, _pg_admin, _serve_fake

ROOT = Path(__file__).resolve().parents[1]

from bot.store.db import make_engine  # noqa: E402
from tests.fakes import qemu  # noqa: E402
from tests.fakes.fake_gitlab import Delivery, FakeGitLab  # noqa: E402

CONTENT_POSTS = r"/merge_requests/\d+/(notes|discussions)(/\w+/notes)?$"


class CpuGroup:
    """A cgroup capping its processes at ``share`` of one CPU (v2, else v1 ``cpu``)."""

    _PERIOD_US = 100_000

    def __init__(self, name: str, share: float) -> None:
        quota = max(1000, int(share * self._PERIOD_US))
        v2 = Path("/sys/fs/cgroup/cgroup.controllers")
        if v2.exists():
            self.path = Path("/sys/fs/cgroup") / name
            self.path.mkdir(exist_ok=True)
            (self.path / "cpu.max").write_text(f"{quota} {self._PERIOD_US}")
        else:
            self.path = Path("/sys/fs/cgroup/cpu") / name
            self.path.mkdir(exist_ok=True)
            (self.path / "cpu.cfs_period_us").write_text(str(self._PERIOD_US))
            (self.path / "cpu.cfs_quota_us").write_text(str(quota))

    def add(self, pid: int) -> None:
        (self.path / "cgroup.procs").write_text(str(pid))

    def remove(self) -> None:
        # Emptied by then (its processes were stopped); a cgroup goes with rmdir.
        for _ in range(50):
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.1)


class Stack:
    """A fake GitLab process and ``serve`` processes on one database."""

    def __init__(self, fake: FakeGitLab, db_url: str, name: str) -> None:
        self.fake = fake
        self.db_url = db_url
        self.name = name
        self.procs: list[subprocess.Popen[bytes]] = []
        self.groups: list[CpuGroup] = []
        self.fake_proc: Any = None
        self.log = open(Path(tempfile.gettempdir()) / f"migbot-bench-{name}.log", "wb")  # noqa: SIM115

    def start_fake(self, *, in_thread: bool = False) -> None:
        """In its own process (its CPU apart), or in a thread of this one when
        the scenario changes the forge's state while ``serve`` reads it."""
        port = _free_port()
        self.fake.base_url = f"http://127.0.0.1:{port}"
        if in_thread:
            threading.Thread(target=_serve_fake, args=(self.fake, port), daemon=True).start()
            time.sleep(0.5)
            return
        self.fake_proc = multiprocessing.get_context("fork").Process(
            target=_serve_fake, args=(self.fake, port), daemon=True
        )
        self.fake_proc.start()

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "MIGBOT_DATABASE_URL": self.db_url,
            "MIGBOT_GITLAB_URL": self.fake.base_url,
            "MIGBOT_GITLAB_TOKEN": self.fake.bot.token,
            "MIGBOT_GITLAB_WEBHOOK_TOKEN": self.fake.webhook_token or "",
            "MIGBOT_LOG_LEVEL": "warning",
            "MIGBOT_POLL_INTERVAL_S": "0.2",
            **extra,
        }

    async def serve(self, *args: str, cpu: float | None = None, **env: str) -> str:
        port = _free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli.service", "serve", "--port", str(port), *args],
            cwd=ROOT,
            env=self.env(**env),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        if cpu is not None:
            self.groups.append(CpuGroup(f"migbot-bench-{self.name}-{len(self.procs)}", cpu))
            self.groups[-1].add(proc.pid)
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    raise RuntimeError(f"serve exited; see {self.log.name}")
                try:
                    async with http.get(base + "/readyz") as r:
                        if r.status == 200:
                            return base
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError("serve did not become ready")

    def stop(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
        if self.fake_proc is not None:
            self.fake_proc.terminate()
            self.fake_proc.join(timeout=10)
        for group in self.groups:
            group.remove()
        self.log.close()


def _stored_keys(db_url: str) -> set[str]:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT delivery_key, body_sha256 FROM deliveries"))
            return {r[0] for r in rows}
    finally:
        engine.dispose()


def _new_load(fake: FakeGitLab, mrs: int) -> Load:
    project = fake.create_project("qemu/qemu", qemu.BASE_TREE)
    alice = fake.user("alice")
    opened = [
        fake.open_mr(
            project, title=f"mr {i}", author=alice, changes={qemu.FOO_C: qemu.ONE_FINDING}
        )[0]
        for i in range(mrs)
    ]
    return Load(fake, opened)


async def _send(
    http: aiohttp.ClientSession, url: str, d: Delivery
) -> tuple[int | str, float, str | None]:
    start = time.perf_counter()
    try:
        async with http.post(url, data=d.body, headers=d.headers) as r:
            await r.read()
            return r.status, (time.perf_counter() - start) * 1000, r.headers.get("Retry-After")
    except (aiohttp.ClientError, TimeoutError) as exc:
        return type(exc).__name__, (time.perf_counter() - start) * 1000, None


async def overload(db_url: str, args: argparse.Namespace) -> dict[str, Any]:
    fake = FakeGitLab()
    load = _new_load(fake, args.mrs)
    deliveries = [load.next() for _ in range(int(args.overload_rate * args.seconds))]
    stack = Stack(fake, db_url, "overload")
    stack.start_fake()
    try:
        base = await stack.serve("--worker-process")
        hook = base + "/webhooks/gitlab"
        # A forge: one connection per delivery, a 10 s timeout.
        connector = aiohttp.TCPConnector(limit=0, force_close=True)
        timeout = aiohttp.ClientTimeout(total=10)
        health: list[tuple[int | str, float]] = []
        done = asyncio.Event()

        async def probe() -> None:
            async with aiohttp.ClientSession(timeout=timeout) as h:
                while not done.is_set():
                    start = time.perf_counter()
                    try:
                        async with h.get(base + "/healthz") as r:
                            health.append((r.status, (time.perf_counter() - start) * 1000))
                    except (aiohttp.ClientError, TimeoutError) as exc:
                        health.append((type(exc).__name__, (time.perf_counter() - start) * 1000))
                    await asyncio.sleep(0.25)

        prober = asyncio.create_task(probe())
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            tasks = []
            start = time.perf_counter()
            for i, d in enumerate(deliveries):
                delay = start + i / args.overload_rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(_send(http, hook, d)))
            answers = await asyncio.gather(*tasks)
            elapsed = time.perf_counter() - start
            done.set()
            await prober
            refused = [d for d, a in zip(deliveries, answers, strict=True) if a[0] != 202]
            # The forge delivers the refused ones again, later and slower.
            retried = 0
            for d in refused:
                for _ in range(20):
                    status, _ms, _retry = await _send(http, hook, d)
                    if status == 202:
                        retried += 1
                        break
                    await asyncio.sleep(0.05)
        stored = _stored_keys(db_url)
    finally:
        stack.stop()
    ok = [ms for status, ms, _r in answers if status == 202]
    sent_keys = [d.headers["Idempotency-Key"] for d in deliveries]
    acked = [k for k, a in zip(sent_keys, answers, strict=True) if a[0] == 202]
    return {
        "target_rate": args.overload_rate,
        "achieved_rate": round(len(deliveries) / elapsed, 1),
        "sent": len(deliveries),
        "answered_202": len(ok),
        "answered_503": sum(1 for a in answers if a[0] == 503),
        "503_with_retry_after": sum(1 for a in answers if a[0] == 503 and a[2]),
        "other_answers": sorted({str(a[0]) for a in answers if a[0] not in (202, 503)}),
        "other_count": sum(1 for a in answers if a[0] not in (202, 503)),
        "ack_p50_ms": round(statistics.median(ok), 1) if ok else None,
        "ack_p99_ms": round(_pct(ok, 0.99), 1) if ok else None,
        "healthz_ok": sum(1 for st, _ in health if st == 200),
        "healthz_probes": len(health),
        "healthz_max_ms": round(max(ms for _st, ms in health), 1) if health else None,
        "lost": sum(1 for k in acked if k not in stored),
        "refused_then_stored": retried,
        "refused": len(refused),
        "stored_after_retries": sum(1 for k in sent_keys if k in stored),
    }


async def _burst(bases: list[str], deliveries: list[Delivery], concurrency: int) -> float:
    queue = list(deliveries)
    statuses: list[int | str] = []
    connector = aiohttp.TCPConnector(limit=concurrency * len(bases))
    async with aiohttp.ClientSession(connector=connector) as http:

        async def sender(n: int) -> None:
            hook = bases[n % len(bases)] + "/webhooks/gitlab"
            while queue:
                statuses.append((await _send(http, hook, queue.pop()))[0])

        start = time.perf_counter()
        await asyncio.gather(*(sender(n) for n in range(concurrency * len(bases))))
        elapsed = time.perf_counter() - start
    if any(s != 202 for s in statuses):
        print(f"  answers other than 202: {sorted({str(s) for s in statuses if s != 202})}")
    return len(deliveries) / elapsed


async def replicas(db_url_for: Any, args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for count in (1, 2):
        db_url, cleanup = db_url_for()
        fake = FakeGitLab()
        load = _new_load(fake, args.mrs)
        deliveries = [load.next() for _ in range(args.burst)]
        stack = Stack(fake, db_url, f"replicas-{count}")
        stack.start_fake()
        try:
            bases = [await stack.serve("--no-worker", cpu=args.replica_cpu) for _ in range(count)]
            warm = [load.next() for _ in range(50)]
            await _burst(bases, warm, args.concurrency)
            out[f"{count}_replica_deliveries_per_s"] = round(
                await _burst(bases, deliveries, args.concurrency), 1
            )
        finally:
            stack.stop()
            cleanup()
    out["ratio"] = round(out["2_replica_deliveries_per_s"] / out["1_replica_deliveries_per_s"], 2)
    out["cpu_per_replica"] = args.replica_cpu if args.replica_cpu else "uncapped"
    return out


async def exactly_once(db_url: str, args: argparse.Namespace) -> dict[str, Any]:
    fake = FakeGitLab()
    fake.fail_after_applying(CONTENT_POSTS, status=0, delay=1.5, every=3)
    project = fake.create_project("qemu/qemu", qemu.BASE_TREE)
    mr, opened = fake.open_mr(
        project, title="foo", author=fake.user("alice"), changes={qemu.FOO_C: qemu.TWO_FINDINGS}
    )
    pushes = [opened]
    stack = Stack(fake, db_url, "exactly-once")
    stack.start_fake(in_thread=True)
    statuses: list[int | str] = []
    try:
        base = await stack.serve("--worker-process", MIGBOT_FORGE_TIMEOUT_S="1")
        hook = base + "/webhooks/gitlab"
        engine = make_engine(db_url)

        def settled() -> tuple[bool, dict[str, int]]:
            with engine.connect() as conn:
                states = dict(
                    conn.execute(text("SELECT state, count(*) FROM jobs GROUP BY state")).all()
                )
            return states.get("queued", 0) + states.get("running", 0) == 0, states

        async def settle(limit: float) -> dict[str, int]:
            deadline = time.monotonic() + limit
            while True:
                done, states = settled()
                if done or time.monotonic() > deadline:
                    return states
                await asyncio.sleep(0.2)

        async with aiohttp.ClientSession() as http:
            # Each push is reviewed (with its forge timeouts) while redeliveries
            # of everything sent so far keep arriving: 20 pushes, 100 resends.
            resends = 0
            for n in range(21):
                if n:  # a force-push: one finding, then two again, alternately
                    text_ = qemu.ONE_FINDING if n % 2 else qemu.TWO_FINDINGS
                    pushes.append(fake.push(mr, {qemu.FOO_C: text_}, force=True))
                statuses.append((await _send(http, hook, pushes[-1]))[0])
                for _ in range(5 if n else 0):
                    replay = pushes[(resends * 7) % (n + 1)]
                    headers = dict(replay.headers, **{"Idempotency-Key": f"r{resends}"})
                    headers["X-Gitlab-Event-UUID"] = f"r{resends}"
                    statuses.append(
                        (await _send(http, hook, Delivery(headers, replay.body, replay.payload)))[0]
                    )
                    resends += 1
                    await asyncio.sleep(0.1)
                await settle(60)
            states = await settle(300)
            engine.dispose()
            api = f"{fake.base_url}/api/v4/projects/{project.id}/merge_requests/{mr.iid}"
            headers = {"PRIVATE-TOKEN": fake.bot.token}
            async with http.get(api + "/discussions?per_page=100", headers=headers) as r:
                discussions = await r.json()
    finally:
        stack.stop()
    summaries = [
        n
        for d in discussions
        if d["individual_note"]
        for n in d["notes"]
        if "<!-- migbot:summary -->" in n["body"]
    ]
    threads = [d for d in discussions if not d["individual_note"]]
    bot = fake.bot.username
    said = [[n["body"] for n in d["notes"] if n["author"]["username"] == bot] for d in threads]
    return {
        "deliveries": len(statuses),
        "answered_202": sum(1 for s in statuses if s == 202),
        "redeliveries": resends,
        "force_pushes": len(pushes) - 1,
        "jobs": {str(k): int(v) for k, v in states.items()},
        "summaries": len(summaries),
        "threads": len(threads),
        "findings_at_head": 2,
        "bot_notes_per_thread": [len(x) for x in said],
        "bot_reply_said_twice_in_a_row": sum(
            1 for x in said for a, b in itertools.pairwise(x) if a == b
        ),
    }


def _pg_factory() -> Any:
    admin_url = _pg_admin()
    if admin_url is None:
        raise SystemExit("PostgreSQL is not reachable on 127.0.0.1:5432")

    def make() -> tuple[str, Any]:
        schema = f"migbot_bench_{uuid.uuid4().hex[:8]}"
        admin = make_engine(admin_url, pool_size=1)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))

        def cleanup() -> None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()

        return f"{admin_url}?options=-csearch_path%3D{schema}", cleanup

    return make


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    make = _pg_factory()
    results: dict[str, Any] = {}
    chosen = ["overload", "replicas", "exactly-once"] if args.scenario == "all" else [args.scenario]
    for name in chosen:
        print(f"== {name}", flush=True)
        if name == "replicas":
            results[name] = await replicas(make, args)
        else:
            url, cleanup = make()
            try:
                run = overload if name == "overload" else exactly_once
                results[name] = await run(url, args)
            finally:
                cleanup()
        print(json.dumps(results[name], indent=2), flush=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scenario", choices=["overload", "replicas", "exactly-once", "all"], default="all"
    )
    parser.add_argument("--overload-rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--burst", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--mrs", type=int, default=20)
    parser.add_argument(
        "--replica-cpu",
        type=float,
        help="replicas: cap each serve at this share of one CPU (cgroup; needs root)",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not 0 < args.overload_rate <= 3000 or not 0 < args.seconds <= 60 or args.burst > 50000:
        parser.error("keep the load bounded: rate <= 3000/s, seconds <= 60, burst <= 50000")
    results = asyncio.run(main_async(args))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
