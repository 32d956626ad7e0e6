"""Where replies go: an SMTP server, or a folder of RFC 822 files (dry run).

Recipients are the reply's ``To`` and ``Cc`` only (the author and the list):
never anyone named elsewhere in the thread. The hourly limit is counted in the
store, so it holds across restarts and across processes.
"""

from __future__ import annotations

import re
import smtplib
from datetime import datetime
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine

from bot.errors import MigbotError
from bot.store.lists import HOUR, replies_since

_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]")


class SendError(MigbotError):
    """A reply could not be delivered; the message is one line for a person."""


class Sender(Protocol):
    dry_run: bool

    def send(self, msg: EmailMessage) -> None:
        """Deliver ``msg`` to its ``To`` and ``Cc``; raise `SendError` on failure."""


def recipients(msg: EmailMessage) -> list[str]:
    pairs = getaddresses([str(v) for v in (msg.get_all("To", []) + msg.get_all("Cc", []))])
    out: list[str] = []
    for _, addr in pairs:
        if addr and addr.lower() not in (a.lower() for a in out):
            out.append(addr)
    return out


class SmtpSender:
    """Plain SMTP, with STARTTLS and login when configured."""

    dry_run = False

    def __init__(
        self,
        host: str,
        port: int = 25,
        *,
        starttls: bool = False,
        user: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.host, self.port, self.starttls = host, port, starttls
        self.user, self.password, self.timeout = user, password, timeout

    def send(self, msg: EmailMessage) -> None:
        to = recipients(msg)
        if not to:
            raise SendError("the reply has no recipient")
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password or "")
                refused = smtp.send_message(msg, to_addrs=to)
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(f"SMTP {self.host}:{self.port}: {exc}") from None
        if refused:
            raise SendError(f"SMTP {self.host}:{self.port} refused {', '.join(refused)}")


class FolderWriter:
    """Dry run: each reply becomes one file ``<Message-Id>.eml``; nothing is sent."""

    dry_run = True

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, msg: EmailMessage) -> None:
        name = _UNSAFE.sub("_", str(msg["Message-Id"]).strip("<> ")) + ".eml"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / name).write_bytes(msg.as_bytes())
        except OSError as exc:
            raise SendError(f"cannot write {self.folder / name}: {exc.strerror}") from None


def room(engine: Engine, per_hour: int, now: datetime) -> int | None:
    """How many replies may leave now; None when there is no limit."""
    if per_hour <= 0:
        return None
    return max(0, per_hour - replies_since(engine, now - HOUR))
