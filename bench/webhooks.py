"""Webhook intake under load: ack latency, sustained deliveries/s, deliveries lost.

Runs a real ``migbot serve`` (worker inside) in a subprocess against a fake
GitLab served from this process, on SQLite and/or PostgreSQL, and drives it
from a load generator on loopback:

1. paced: ``--rate`` deliveries/s for ``--seconds`` (open loop), latency p50/p99;
2. burst: ``--burst`` deliveries as fast as ``--concurrency`` connections allow;
3. drain: waits (bounded) for the worker to finish, then counts every delivery
   that got a 202 but is not in the database (lost: must be 0).

    python -m bench.webhooks --backend both
    python -m bench.webhooks --backend sqlite --rate 200 --seconds 10 --json out.json

Run it as a module from the repository root: it drives the fake GitLab of tests/fakes.

Loopback only; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import aiohttp
from sqlalchemy import text

from bot.store.db import make_engine
from tests.fakes import qemu
from tests.fakes.fake_gitlab import Delivery, FakeGitLab, MergeRequest

ROOT = Path(__file__).resolve().parents[1]

PG_URLS = ("postgresql://root@127.0.0.1:5432/test", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass
class Result:
    backend: str
    paced_rate_target: float
    paced_sent: int
    paced_rate_achieved: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    burst_sent: int
    burst_deliveries_per_s: float
    burst_p50_ms: float
    burst_p99_ms: float
    non_202: int
    lost: int
    jobs_done: int
    reviews: int
    drained: bool
    server_ack_share: dict[str, float]
    """Share of all acknowledgements so far under each bucket, measured in the server."""
    intake_cpu_ms: float = float("nan")
    """CPU of the ``serve`` process per delivery in the paced phase (worker apart)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (not its children), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _buckets(metrics: str) -> dict[str, float]:
    """Share of acknowledgements under each bucket, as the server measured them."""
    counts: dict[str, float] = {}
    for line in metrics.splitlines():
        if line.startswith("migbot_ack_seconds_bucket"):
            le = line.split('le="', 1)[1].split('"', 1)[0]
            counts[le] = counts.get(le, 0.0) + float(line.rsplit(" ", 1)[1])
    total = counts.get("+Inf", 0.0) or 1.0
    return {
        f"<= {float(le) * 1000:g} ms": round(n / total, 4)
        for le, n in counts.items()
        if le != "+Inf"
    }


def _pg_admin() -> str | None:
    for url in (os.environ.get("MIGBOT_TEST_POSTGRES_URL"), *PG_URLS):
        if not url:
            continue
        try:
            engine = make_engine(url, pool_size=1)
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
            return url
        except Exception:
            continue
    return None


class Load:
    """Deliveries for a set of merge requests: new pushes, each a new delivery id."""

    def __init__(self, fake: FakeGitLab, mrs: list[MergeRequest]) -> None:
        self.fake = fake
        self.mrs = mrs
        self.rng = random.Random(7)
        self.count = 0

    def next(self) -> Delivery:
        mr = self.rng.choice(self.mrs)
        action = self.rng.choice(("update", "update", "update", "open"))
        oldrev = f"{self.rng.getrandbits(160):040x}" if action == "update" else None
        payload = self.fake.payload(mr, action, mr.author, oldrev=oldrev)
        # Two events are never byte for byte the same on a real forge (GitLab's
        # updated_at has sub-second digits); a replayed body is a duplicate.
        self.count += 1
        payload["object_attributes"]["updated_at"] = f"2026-01-01 00:00:00.{self.count:09d} UTC"
        return self.fake.deliver(payload)


async def _post(
    http: aiohttp.ClientSession, url: str, d: Delivery, latencies: list[float], accepted: list[str]
) -> int:
    start = time.perf_counter()
    async with http.post(url, data=d.body, headers=d.headers) as r:
        await r.read()
        status = r.status
    latencies.append((time.perf_counter() - start) * 1000)
    if status == 202:
        accepted.append(d.headers["Idempotency-Key"])
    return status


def _serve_fake(fake: FakeGitLab, port: int) -> None:
    """Child process: serve the fake GitLab until terminated."""

    async def forever() -> None:
        await fake.start(port)
        await asyncio.Event().wait()

    asyncio.run(forever())


async def run_backend(name: str, db_url: str, args: argparse.Namespace) -> Result:
    # The fake GitLab answers the worker from its own process, so that neither it
    # nor building payloads takes CPU from the load generator while it measures.
    fake = FakeGitLab()
    project = fake.create_project("qemu/qemu", qemu.BASE_TREE)
    alice = fake.user("alice")
    mrs = [
        fake.open_mr(
            project, title=f"mr {i}", author=alice, changes={qemu.FOO_C: qemu.TWO_FINDINGS}
        )[0]
        for i in range(args.mrs)
    ]
    load = Load(fake, mrs)
    total = int(args.rate * args.seconds)
    warmup = [load.next() for _ in range(20)]
    paced_load = [load.next() for _ in range(total)]
    queue = [load.next() for _ in range(args.burst)]
    fake_port = _free_port()
    fake.base_url = f"http://127.0.0.1:{fake_port}"
    fake_proc = multiprocessing.get_context("fork").Process(
        target=_serve_fake, args=(fake, fake_port), daemon=True
    )
    fake_proc.start()
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "MIGBOT_DATABASE_URL": db_url,
        "MIGBOT_GITLAB_URL": fake.base_url,
        "MIGBOT_GITLAB_TOKEN": fake.bot.token,
        "MIGBOT_GITLAB_WEBHOOK_TOKEN": fake.webhook_token or "",
        "MIGBOT_LOG_LEVEL": "warning",
        "MIGBOT_POLL_INTERVAL_S": "0.2",
    }
    log = open(Path(tempfile.gettempdir()) / f"migbot-bench-{name}.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot.cli.service",
            "serve",
            "--port",
            str(port),
            *(["--no-worker"] if args.split_worker or args.intake_only else []),
            *(["--worker-process"] if args.worker_process else []),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    worker = None
    if args.split_worker:
        worker = subprocess.Popen(
            [sys.executable, "-m", "bot.cli.service", "worker"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    hook = base + "/webhooks/gitlab"
    engine = make_engine(db_url)
    try:
        connector = aiohttp.TCPConnector(limit=args.concurrency * 4)
        async with aiohttp.ClientSession(connector=connector) as http:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    async with http.get(base + "/readyz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                if server.poll() is not None:
                    raise RuntimeError(f"migbot serve exited; see {log.name}")
                await asyncio.sleep(0.1)
            accepted: list[str] = []
            statuses: list[int] = []
            warm: list[float] = []
            for d in warmup:
                statuses.append(await _post(http, hook, d, warm, accepted))
            await asyncio.sleep(1)  # the worker is now busy with the warm-up jobs

            # 1. paced, open loop. The prepared load is long-lived: kept out of the
            # collector's full passes, which would otherwise stall this generator
            # (not the server) for tens of milliseconds and show up as latency.
            gc.collect()
            gc.freeze()
            paced: list[float] = []
            tasks = []
            cpu_before = _cpu_seconds(server.pid)
            start = time.perf_counter()
            for i, d in enumerate(paced_load):
                due = start + i / args.rate
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(_post(http, hook, d, paced, accepted)))
            statuses += await asyncio.gather(*tasks)
            paced_elapsed = time.perf_counter() - start
            intake_cpu = (_cpu_seconds(server.pid) - cpu_before) * 1000 / max(total, 1)

            async with http.get(base + "/metrics") as r:
                server_buckets = _buckets(await r.text())

            # 2. burst, closed loop with a fixed number of connections
            burst: list[float] = []

            async def sender() -> None:
                while queue:
                    statuses.append(await _post(http, hook, queue.pop(), burst, accepted))

            start = time.perf_counter()
            await asyncio.gather(*(sender() for _ in range(args.concurrency)))
            burst_elapsed = time.perf_counter() - start

        # 3. drain and count
        drained = False
        deadline = time.monotonic() + (0 if args.intake_only else args.drain)
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                busy = conn.execute(
                    text("SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')")
                ).scalar_one()
            if busy == 0:
                drained = True
                break
            await asyncio.sleep(0.2)
        with engine.connect() as conn:
            stored = {r[0] for r in conn.execute(text("SELECT delivery_key FROM deliveries"))}
            done = conn.execute(text("SELECT count(*) FROM jobs WHERE state = 'done'")).scalar_one()
            reviews = conn.execute(text("SELECT count(*) FROM reviews")).scalar_one()
    finally:
        for proc in (server, worker):
            if proc is not None and proc is not server:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        engine.dispose()
        fake_proc.terminate()
        fake_proc.join(timeout=10)
        log.close()
    lost = sum(1 for key in accepted if key not in stored)
    return Result(
        backend=name,
        paced_rate_target=args.rate,
        paced_sent=total,
        paced_rate_achieved=round(total / paced_elapsed, 1),
        p50_ms=round(statistics.median(paced), 2),
        p99_ms=round(_pct(paced, 0.99), 2),
        max_ms=round(max(paced), 2),
        burst_sent=args.burst,
        burst_deliveries_per_s=round(args.burst / burst_elapsed, 1),
        burst_p50_ms=round(statistics.median(burst), 2),
        burst_p99_ms=round(_pct(burst, 0.99), 2),
        non_202=sum(1 for s in statuses if s != 202),
        lost=lost,
        jobs_done=int(done),
        reviews=int(reviews),
        drained=drained,
        server_ack_share=server_buckets,
        intake_cpu_ms=round(intake_cpu, 3),
    )


async def main_async(args: argparse.Namespace) -> list[Result]:
    results = []
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    for backend in backends:
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite:///{tmp}/bench.sqlite3"
                results.append(await run_backend("sqlite", url, args))
            continue
        admin_url = _pg_admin()
        if admin_url is None:
            print("postgres: not reachable on 127.0.0.1:5432, skipped", file=sys.stderr)
            continue
        schema = f"migbot_bench_{uuid.uuid4().hex[:8]}"
        admin = make_engine(admin_url, pool_size=1)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            url = f"{admin_url}?options=-csearch_path%3D{schema}"
            results.append(await run_backend("postgres", url, args))
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rate", type=float, default=200.0, help="paced deliveries per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="paced phase length")
    parser.add_argument("--burst", type=int, default=2000, help="deliveries in the burst phase")
    parser.add_argument("--concurrency", type=int, default=16, help="connections in the burst")
    parser.add_argument("--mrs", type=int, default=20, help="merge requests the load spreads over")
    parser.add_argument("--drain", type=float, default=120.0, help="max seconds to drain jobs")
    parser.add_argument(
        "--split-worker",
        action="store_true",
        help="run `migbot serve --no-worker` and a separate `migbot worker` process",
    )
    parser.add_argument(
        "--worker-process",
        action="store_true",
        help="run the worker as the child process `migbot serve --worker-process` supervises",
    )
    parser.add_argument(
        "--intake-only",
        action="store_true",
        help="run `migbot serve --no-worker` and no worker: the intake alone (jobs stay queued)",
    )
    parser.add_argument("--json", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    if not 0 < args.rate <= 2000 or not 0 < args.seconds <= 120 or not 0 < args.burst <= 50000:
        parser.error("keep the load bounded: rate <= 2000/s, seconds <= 120, burst <= 50000")
    results = asyncio.run(main_async(args))
    header = (
        f"{'backend':<9} {'paced/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} "
        f"{'burst/s':>8} {'b.p99':>7} {'non202':>6} {'lost':>5} {'jobs':>5} {'drained':>7}"
    )
    print(header)
    for r in results:
        print(
            f"{r.backend:<9} {r.paced_rate_achieved:>8} {r.p50_ms:>7} {r.p99_ms:>7} "
            f"{r.max_ms:>7} {r.burst_deliveries_per_s:>8} {r.burst_p99_ms:>7} {r.non_202:>6} "
            f"{r.lost:>5} {r.jobs_done:>5} {r.drained!s:>7}"
        )
    for r in results:
        print(f"{r.backend}: server-side ack time share {r.server_ack_share}")
        apart = args.worker_process or args.split_worker
        worker = "worker in another process" if apart else "includes the reviews"
        print(f"{r.backend}: intake CPU {r.intake_cpu_ms} ms per delivery ({worker})")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))
    return 1 if any(r.lost or r.non_202 for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
