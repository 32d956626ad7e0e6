"""One list message: the headers a series and a reply need, and its raw bytes."""

from __future__ import annotations

import email
import email.header
import email.message
import email.policy
import email.utils
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.errors import InputError

_MSGID = re.compile(r"<([^<>\s]+)>")
_PATCH_TAG = re.compile(r"^\s*(?:(?:re|aw|fwd?)\s*:\s*)*\[[^\]]*\b(?:PATCH|RFC)\b", re.I)
_REPLY = re.compile(r"^\s*(?:re|aw)\s*:", re.IGNORECASE)
_VIA = re.compile(r"\s+via(?:\s+\S+)?$")


class MailError(InputError):
    """A message or feed could not be read; the message is one line for a person."""


@dataclass(frozen=True, slots=True)
class Mail:
    message_id: str
    """Without the angle brackets."""
    subject: str
    sender_name: str
    sender: str
    """The From address (the author's, when the list rewrote From)."""
    date: datetime
    in_reply_to: str | None
    references: tuple[str, ...]
    raw: bytes

    @property
    def is_patch(self) -> bool:
        """A patch or cover letter (``[PATCH ...]``, ``[RFC ...]``), not a reply to one."""
        return bool(_PATCH_TAG.match(self.subject)) and not _REPLY.match(self.subject)

    @property
    def parents(self) -> tuple[str, ...]:
        """Every message this one answers, nearest last."""
        out = list(self.references)
        if self.in_reply_to and self.in_reply_to not in out:
            out.append(self.in_reply_to)
        return tuple(out)


def parse_mail(raw: bytes) -> Mail:
    """The headers of ``raw``; raises `MailError` without a usable Message-Id."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    ids = _MSGID.findall(str(msg.get("Message-Id", "")))
    if not ids:
        raise MailError("message without a Message-Id")
    name, addr = _author(msg)
    irt = _MSGID.findall(str(msg.get("In-Reply-To", "")))
    refs = tuple(_MSGID.findall(" ".join(str(r) for r in msg.get_all("References", []))))
    return Mail(
        message_id=ids[0],
        subject=_header_text(msg.get("Subject", "")),
        sender_name=name,
        sender=addr,
        date=_date(str(msg.get("Date", ""))),
        in_reply_to=irt[0] if irt else None,
        references=refs,
        raw=raw,
    )


def _author(msg: email.message.Message) -> tuple[str, str]:
    """The person who wrote it, also when the list rewrote From for DMARC.

    Mailman sends ``From: Ann via qemu-devel <qemu-devel@nongnu.org>`` with the
    author in ``Reply-To`` (or ``X-Original-From``): a reply must reach her,
    not the list twice."""
    name, addr = email.utils.parseaddr(_header_text(msg.get("From", "")))
    if not _VIA.search(name):
        return name, addr
    for header in ("X-Original-From", "Reply-To"):
        oname, oaddr = email.utils.parseaddr(_header_text(msg.get(header, "")))
        if "@" in oaddr:
            return oname or _VIA.sub("", name), oaddr
    return name, addr


def _date(value: str) -> datetime:
    """The Date header in UTC; a missing or broken one reads as the epoch start."""
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return datetime.fromtimestamp(0, UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def _header_text(value: object) -> str:
    """A header decoded from RFC 2047 words and unfolded onto one line."""
    try:
        text = str(email.header.make_header(email.header.decode_header(str(value))))
    except (LookupError, UnicodeDecodeError, ValueError):
        text = str(value)
    return " ".join(text.split())
