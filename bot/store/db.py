"""Engines and migrations: one code path for SQLite and PostgreSQL."""

from __future__ import annotations

import math
import threading
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import ConnectionPoolEntry

_MIGRATE_LOCK_ID = 0x6D69_6762  # "migb", PostgreSQL advisory lock around migrations


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL; accept ``postgres://`` and bare paths for SQLite."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if "://" not in url:
        url = f"sqlite:///{url}"
    return url


class DatabaseLocationError(Exception):
    """A database URL that cannot be opened as given (a SQLite file in a missing folder)."""


def check_database_url(url: str) -> None:
    """Refuse a SQLite file whose folder does not exist.

    Creating the folder silently would hide a typo in the URL: the service would
    keep its queue somewhere nobody looks, and lose it with the container.
    """
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite":
        return
    database = parsed.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    folder = Path(database).expanduser().parent
    if not folder.is_dir():
        raise DatabaseLocationError(
            f"the SQLite database {database!r} is in a folder that does not exist "
            f"({str(folder)!r}); create the folder or fix the database URL"
        )


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(
    url: str,
    *,
    pool_size: int = 5,
    sqlite_synchronous: str = "NORMAL",
    timeout_s: float | None = None,
) -> Engine:
    """An engine for ``url``; SQLite in WAL mode with immediate write transactions.

    ``timeout_s`` bounds every wait on the database: connecting, a pooled
    connection, a lock, a statement (PostgreSQL: ``statement_timeout`` and
    ``lock_timeout``; SQLite: its busy timeout). Intake uses it so that a stuck
    database gives a quick 503, which the forge retries."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        check_database_url(url)
        # One connection per process: SQLite has one writer anyway, and threads
        # queued on the pool wake at once, where SQLite's busy handler would sleep.
        busy_s = 30.0 if timeout_s is None else timeout_s
        engine = create_engine(
            url,
            pool_size=1,
            max_overflow=0,
            pool_timeout=60 if timeout_s is None else timeout_s,
            connect_args={"timeout": busy_s, "check_same_thread": False},
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
            # Let SQLAlchemy (below) emit BEGIN; pysqlite's own would be deferred.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={sqlite_synchronous.upper()}")
            cur.execute(f"PRAGMA busy_timeout={int(busy_s * 1000)}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            # Take the write lock up front: no lock upgrades, no SQLITE_BUSY deadlocks.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if timeout_s is None:
        return create_engine(
            url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, future=True
        )
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=timeout_s,
        # libpq counts whole seconds, at least 2.
        connect_args={"connect_timeout": max(2, math.ceil(timeout_s))},
    )
    millis = int(timeout_s * 1000)

    @event.listens_for(engine, "connect")
    def _timeouts(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
        with dbapi_conn.cursor() as cur:
            cur.execute(f"SET statement_timeout = {millis}")
            cur.execute(f"SET lock_timeout = {millis}")
        dbapi_conn.commit()

    return engine


def alembic_config() -> Config:
    cfg = Config()
    location = resources.files("bot.store").joinpath("migrations")
    cfg.set_main_option("script_location", str(location))
    return cfg


_sqlite_migrate_lock = threading.Lock()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (idempotent; safe from several processes)."""
    cfg = alembic_config()
    with _sqlite_migrate_lock, engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # Waiting for another replica's migration is fine, however long it takes.
            conn.execute(text("SET LOCAL statement_timeout = 0"))
            conn.execute(text("SET LOCAL lock_timeout = 0"))
            conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATE_LOCK_ID})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def ping(engine: Engine) -> None:
    """Raise unless the database answers."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
