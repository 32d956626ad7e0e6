"""One-line failures for the service commands (``serve``, ``worker``, ``jobs``).

A bad database URL, an unreachable database, a port another process holds, an
unknown job state or job id: the operator gets one line saying what and what to
do, never a traceback. Exit 2 for bad input, 1 for what the host refused.
"""

from __future__ import annotations

import errno
import socket
from typing import Any

import click


class OneLine(click.ClickException):
    """``migbot: reason`` on standard error; exit 2 (bad input)."""

    exit_code = 2

    def show(self, file: object = None) -> None:
        click.echo(f"migbot: {self.format_message()}", err=True)


class HostRefused(OneLine):
    """The host said no (busy port, unreachable database): exit 1."""

    exit_code = 1


def redact_url(url: str) -> str:
    """The URL without its password."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # a URL too broken to parse says nothing secret either way
        return url.split("@")[-1]


def open_database(url: str, sqlite_synchronous: str) -> Any:
    """`make_engine` and `migrate`, each failure as one line."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    from bot.store.db import make_engine, migrate

    shown = redact_url(url)
    try:
        engine = make_engine(url, sqlite_synchronous=sqlite_synchronous)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise OneLine(
            f"bad database URL {shown!r}: {_first(exc)} (expected e.g. "
            "postgresql://user@host/db or sqlite:///path/migbot.sqlite3)"
        ) from None
    try:
        migrate(engine)
    except (SQLAlchemyError, OSError) as exc:
        raise HostRefused(f"cannot open the database {shown}: {_first(exc)}") from None
    return engine


def check_port(host: str, port: int) -> None:
    """Fail before starting when the port is taken (aiohttp would print a traceback)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise HostRefused(
                    f"port {port} on {host} is in use by another process: stop it or "
                    "choose another with --port / MIGBOT_PORT"
                ) from None
            raise HostRefused(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _first(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
