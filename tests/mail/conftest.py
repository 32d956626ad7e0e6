"""A mailing list world: the mini QEMU tree as the mirror, an archive, an SMTP server."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine

from tests.fakes.fixtures import *  # noqa: F403
from tests.fixtures.minirepo import MiniRepo, clone, make_template
from tests.mail.listkit import Inbox

MAINTAINERS = """\
QEMU Maintainers
================

Descriptions of section entries:

\tM: Mail patches to: FullName <address@domain>
\tF: Files and directories with wildcard patterns.

Devices
-------
ACME timer
M: Tim Keeper <tim@example.org>
S: Maintained
F: hw/timer/acme_*
F: include/hw/timer/acme_timer.h

Subsystems
----------
Migration
M: Pet Maint <pet@example.org>
R: Rae Viewer <rae@example.org>
S: Maintained
F: include/migration/
F: migration/
"""


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> Message:
        return message_from_bytes(self.data, policy=default)


@dataclass
class SmtpSink:
    host: str
    port: int
    received: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
        )
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives."""
    sink = SmtpSink("127.0.0.1", _free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def mirror_template(tmp_path_factory: pytest.TempPathFactory) -> MiniRepo:
    """The mini tree with a MAINTAINERS file, committed on master once per session."""
    repo = make_template(tmp_path_factory.mktemp("mail-mirror"))
    (repo.path / "MAINTAINERS").write_text(MAINTAINERS)
    repo.commit("MAINTAINERS: the mini tree's maintainers")
    repo.git("tag", "-f", "base")
    return repo


@pytest.fixture
def mirror(mirror_template: MiniRepo, tmp_path: Path) -> MiniRepo:
    return clone(mirror_template, tmp_path / "mirror")


@pytest.fixture
def inbox(tmp_path: Path, mirror: MiniRepo) -> Inbox:
    return Inbox(tmp_path / "archive", mirror.home, epoch_size=4)


@pytest.fixture
def mail_engine(sqlite_url: str) -> Iterator[Engine]:
    from bot.store.db import make_engine, migrate

    eng = make_engine(sqlite_url)
    migrate(eng)
    yield eng
    eng.dispose()


POSTED = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)
"""When the tests' series are posted (after the mirror's commits of 2026-02-01)."""
