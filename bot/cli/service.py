"""``migbot serve``, ``migbot worker`` and ``migbot jobs``: the service commands.

Settings are loaded here, once, and passed down. `bot.cli` registers these
commands in the main group; ``python -m bot.cli.service`` runs them alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import click

from bot.cli.errors import OneLine, check_port, open_database
from bot.cli.options import cli_settings, config_option, db_option
from bot.service import logs
from bot.settings import Settings


def _configure_logs(settings: Settings) -> None:
    logs.configure(
        level=settings.log_level,
        fmt=settings.log_format,
        secrets=[
            settings.gitlab_token,
            settings.gitlab_webhook_token,
            settings.gitlab_signing_token,
            settings.github_token,
            settings.github_webhook_secret,
        ],
    )


@click.command("serve")
@config_option
@db_option
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default 8080).")
@click.option(
    "--insecure-no-verify",
    is_flag=True,
    default=None,
    help="Accept deliveries without checking any webhook secret. Never in production.",
)
@click.option("--no-worker", is_flag=True, help="Only take deliveries; run `migbot worker` apart.")
@click.option(
    "--worker-process",
    is_flag=True,
    default=None,
    help="Run the worker as a supervised child process (fastest acknowledgements).",
)
def serve(
    config_file: Path | None,
    database_url: str | None,
    host: str | None,
    port: int | None,
    insecure_no_verify: bool | None,
    no_worker: bool,
    worker_process: bool | None,
) -> None:
    """Run the webhook service (and, by default, the review worker)."""
    from bot.service.app import create_app

    settings = cli_settings(
        config_file,
        database_url=database_url,
        host=host,
        port=port,
        insecure_no_verify=insecure_no_verify or None,
        run_worker=False if no_worker else None,
        worker_process=worker_process,
    )
    _configure_logs(settings)
    log = logs.get_logger("migbot.serve")
    missing = settings.webhook_secrets_missing()
    if settings.insecure_no_verify:
        banner = (
            "!!! INSECURE: --insecure-no-verify is set: webhook deliveries are NOT "
            "authenticated; anyone who can reach this port can queue reviews. !!!"
        )
        click.echo(banner, err=True)
        log.warning("webhook verification disabled", insecure_no_verify=True)
    elif len(missing) == 2:
        raise click.ClickException(
            "refusing to start: no webhook secret is configured (set "
            "MIGBOT_GITLAB_WEBHOOK_TOKEN and/or MIGBOT_GITHUB_WEBHOOK_SECRET, or pass "
            "--insecure-no-verify to accept unauthenticated deliveries)"
        )
    else:
        for name in missing:
            log.warning("no webhook secret: that forge's deliveries will be refused", setting=name)
    from bot.service.doctor import diagnose

    for problem in diagnose(settings, database=False):  # the database is checked below
        click.echo(f"migbot doctor: {problem}", err=True)
        log.warning("settings problem", problem=problem)
    log.info("starting", settings=settings.redacted())
    # Database writes (and reviews, with the worker inside) run in threads of this
    # process: hand the GIL back to the event loop sooner, so acknowledging a
    # delivery never waits a whole 5 ms switch interval behind them.
    sys.setswitchinterval(0.0005)
    _settle_garbage_collector()
    check_port(settings.host, settings.port)
    open_database(settings.database_url, settings.sqlite_synchronous).dispose()
    asyncio.run(_serve(create_app(settings), settings))


def _settle_garbage_collector() -> None:
    """Keep full collections off the acknowledgement path.

    Everything imported so far lives as long as the process: frozen, the
    collector never walks it again. A higher first threshold makes the young
    collections that do run rarer; deliveries are short-lived and mostly free
    themselves by reference counting.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


async def _serve(app: Any, settings: Settings) -> None:
    """Serve until SIGTERM or SIGINT, with the connection limit and header deadline."""
    from bot.service.listener import serve

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await serve(
        app,
        settings.host,
        settings.port,
        max_connections=settings.max_connections,
        header_timeout=settings.header_timeout_s,
        stop=stop,
    )


async def _run_worker(settings: Settings) -> None:
    from bot.forges import build_forges
    from bot.service.app import default_review, learn_bot_users
    from bot.service.metrics import Metrics
    from bot.service.review_job import JobContext
    from bot.service.worker import Worker
    from bot.store.db import make_engine, migrate

    engine = make_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    db_pool = ThreadPoolExecutor(4, thread_name_prefix="migbot-db")
    job_pool = ThreadPoolExecutor(settings.forge_threads, thread_name_prefix="migbot-job")
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(db_pool, migrate, engine)
    forges = build_forges(settings)
    await learn_bot_users(forges, {}, db_pool)
    worker = Worker(
        settings=settings,
        engine=engine,
        context=JobContext.build(settings, engine, forges, default_review()),
        metrics=Metrics(),
        db_pool=db_pool,
        job_pool=job_pool,
    )
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    task = asyncio.create_task(worker.run())
    await stop.wait()
    await worker.stop()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    db_pool.shutdown(wait=True)
    job_pool.shutdown(wait=False, cancel_futures=True)
    engine.dispose()


@click.command("worker")
@config_option
@db_option
def worker(config_file: Path | None, database_url: str | None) -> None:
    """Run the review worker alone (several may share one PostgreSQL database)."""
    from bot.service.parent_death import from_environment

    from_environment()  # started by `serve --worker-process`: die with it
    settings = cli_settings(config_file, database_url=database_url)
    _configure_logs(settings)
    if settings.worker_nice:
        os.nice(settings.worker_nice)
    if settings.worker_idle_priority:
        _idle_priority()
    open_database(settings.database_url, settings.sqlite_synchronous).dispose()
    logs.get_logger("migbot.worker").info("starting", settings=settings.redacted())
    asyncio.run(_run_worker(settings))


def _idle_priority() -> None:
    log = logs.get_logger("migbot.worker")
    if not hasattr(os, "SCHED_IDLE"):
        log.warning("SCHED_IDLE not available on this platform; running at normal priority")
        return
    try:
        # Threads started from here on inherit it.
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except OSError as exc:
        log.warning("could not set SCHED_IDLE", error=str(exc))


def _engine(config_file: Path | None, database_url: str | None) -> Any:
    settings = cli_settings(config_file, database_url=database_url)
    return open_database(settings.database_url, settings.sqlite_synchronous)


@click.group("jobs", invoke_without_command=True)
@config_option
@db_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--state", "states", multiple=True, help="Only jobs in this state (repeatable).")
@click.option("--limit", type=int, default=100, show_default=True)
@click.pass_context
def jobs(
    ctx: click.Context,
    config_file: Path | None,
    database_url: str | None,
    fmt: str,
    states: tuple[str, ...],
    limit: int,
) -> None:
    """List review jobs with their state and last error."""
    ctx.obj = {"config_file": config_file, "database_url": database_url}
    if ctx.invoked_subcommand is not None:
        return
    from bot.store.jobs import list_jobs
    from bot.store.models import JobState

    unknown = [s for s in states if s not in JobState.ALL]
    if unknown:
        raise OneLine(f"unknown job state {unknown[0]!r}; choose from {', '.join(JobState.ALL)}")
    records = list_jobs(_engine(config_file, database_url), states=states or None, limit=limit)
    if fmt == "json":
        click.echo(json.dumps([r.to_json() for r in records], indent=2))
        return
    if not records:
        click.echo("no jobs")
        return
    from bot.report.common import printable

    click.echo(f"{'ID':>6}  {'STATE':<10} {'TRIES':>5}  {'MERGE REQUEST':<40} LAST ERROR")
    for r in records:
        # Project paths and errors come from deliveries and forges: escape their
        # control characters (NUL, terminal escapes) rather than print them.
        error = (r.last_error or "").strip().splitlines()
        click.echo(
            f"{r.id:>6}  {printable(r.state):<10} {r.attempts:>5}  "
            f"{printable(r.mr_key[:40]):<40} {printable(error[0][:80]) if error else ''}"
        )


@jobs.command("retry")
@click.argument("job_id", type=int)
@click.pass_context
def jobs_retry(ctx: click.Context, job_id: int) -> None:
    """Queue a parked (or finished) job again."""
    from bot.store.jobs import JobError, retry

    engine = _engine(ctx.obj["config_file"], ctx.obj["database_url"])
    try:
        record = retry(engine, job_id)
    except JobError as exc:
        raise OneLine(str(exc)) from None
    from bot.report.common import printable

    click.echo(f"job {record.id} queued again ({printable(record.mr_key)})")


COMMANDS = (serve, worker, jobs)


@click.group()
def main() -> None:
    """migbot service commands."""


for _command in COMMANDS:
    main.add_command(_command)

if __name__ == "__main__":
    sys.exit(main())
