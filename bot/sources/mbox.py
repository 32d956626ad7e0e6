"""Mail: an mbox of ``git format-patch`` messages, one mail, or a bare diff.

Splits the input into messages and pulls out what a series needs: the subject
without its ``[PATCH v2 3/7]`` tag, the patch number, the diff part of the body
(after quoted-printable or base64 decoding) and the ``base-commit:`` trailer.
"""

from __future__ import annotations

import codecs
import email
import email.header
import email.policy
import re
from dataclasses import dataclass
from email.message import Message

from bot.sources.errors import SourceError

# The postmark line that starts each message of an mbox: git format-patch
# writes "From <sha> Mon Sep 17 00:00:00 2001", lore writes "From mboxrd@z Thu
# Jan  1 ...". Requiring the weekday keeps a commit message's "From x" apart.
_POSTMARK = re.compile(rb"^From \S+ +(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [^\n]*\n", re.MULTILINE)
_HEADER = re.compile(rb"[\x21-\x39\x3b-\x7e]+:[ \t]")
_TAG = re.compile(r"^\s*\[([^\]]*)\]\s*")
_NUMBER = re.compile(r"(?:^|\s)(\d+)/(\d+)(?:\s|$)")
_REPLY = re.compile(r"^\s*(re|aw)\s*:", re.IGNORECASE)
# format-patch --base writes the trailer; a pull request's cover letter names
# its base in git request-pull's words.
_BASE = re.compile(
    rb"^(?:base-commit: *|The following changes since commit )([0-9a-f]{7,64}):?\s*$",
    re.MULTILINE,
)
_DIFF_START = re.compile(rb"^(?:diff --git |--- [^\n]*\n\+\+\+ )", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class PatchMail:
    """One message of a series (or a bare diff, with an empty subject)."""

    subject: str
    """Without the ``[PATCH ...]`` tags."""
    number: int | None
    total: int | None
    diff: bytes
    """The diff part of the body; empty for a cover letter."""
    base_commit: str | None
    is_reply: bool = False
    message: str = ""
    """The commit message: the body before the diff (trailers included)."""

    def label(self) -> str:
        """How notes name the patch: ``patch 2/3 "subject"``."""
        where = f"patch {self.number}/{self.total}" if self.number is not None else "patch"
        return f'{where} "{self.subject}"' if self.subject else where


def split_mails(data: bytes) -> list[PatchMail]:
    """Split an mbox, a single mail or a bare diff into messages, in input order."""
    if not data.strip():
        raise SourceError("empty patch")
    starts = list(_POSTMARK.finditer(data))
    if starts:
        chunks = [
            data[m.end() : starts[i + 1].start() if i + 1 < len(starts) else len(data)]
            for i, m in enumerate(starts)
        ]
        return [_from_message(chunk) for chunk in chunks]
    if _looks_like_mail(data):
        return [_from_message(data)]
    return [PatchMail("", None, None, _diff_part(data), _base_commit(data))]


def _looks_like_mail(data: bytes) -> bool:
    """A mail starts with header lines and names a subject or sender among them."""
    head = data.lstrip(b"\r\n").split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    lines = head.splitlines()
    if not lines or not _HEADER.match(lines[0]):
        return False
    names = {line.split(b":", 1)[0].lower() for line in lines if _HEADER.match(line)}
    return bool(names & {b"subject", b"from"})


def _from_message(raw: bytes) -> PatchMail:
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    subject = _header_text(message.get("Subject", ""))
    body = _body(message)
    tags, title = _strip_tags(subject)
    number = total = None
    for tag in tags:
        found = _NUMBER.search(tag)
        if found:
            number, total = int(found.group(1)), int(found.group(2))
    return PatchMail(
        subject=title,
        number=number,
        total=total,
        diff=_diff_part(body),
        base_commit=_base_commit(body),
        is_reply=bool(_REPLY.match(subject)),
        message=_message_part(title, body),
    )


def _header_text(value: object) -> str:
    """A header decoded from RFC 2047 words and unfolded onto one line."""
    parts = email.header.decode_header(str(value))
    text = "".join(
        chunk.decode(_codec(charset), errors="replace") if isinstance(chunk, bytes) else chunk
        for chunk, charset in parts
    )
    return " ".join(text.split())


def _strip_tags(subject: str) -> tuple[list[str], str]:
    """Split ``Re: [PATCH v2 3/7] hw/foo: bar`` into its tags and ``hw/foo: bar``."""
    rest = _REPLY.sub("", subject, count=1)
    tags: list[str] = []
    while found := _TAG.match(rest):
        tags.append(found.group(1))
        rest = rest[found.end() :]
    return tags, rest.strip()


def _body(message: Message) -> bytes:
    """The text parts of a message, transfer-decoded, as UTF-8 bytes.

    A patch is sometimes sent as a text attachment, so all text parts count.
    """
    parts: list[bytes] = []
    for part in message.walk():
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        charset = part.get_content_charset()
        codec = _codec(charset)
        if codec not in ("utf-8", "ascii"):
            # A body sent in latin-1 (say) holds the same text as the UTF-8 file.
            payload = payload.decode(codec, errors="replace").encode("utf-8")
        parts.append(payload)
    return b"\n".join(parts)


def _codec(charset: str | None) -> str:
    if not charset:
        return "utf-8"
    try:
        name = codecs.lookup(charset).name
    except LookupError:
        return "utf-8"
    return "ascii" if name == "ascii" else "utf-8" if name == "utf-8" else name


def _diff_part(body: bytes) -> bytes:
    found = _DIFF_START.search(body)
    return body[found.start() :] if found else b""


def _message_part(title: str, body: bytes) -> str:
    found = _DIFF_START.search(body)
    text = (body[: found.start()] if found else body).decode("utf-8", "replace")
    return f"{title}\n\n{text.split(chr(10) + '---' + chr(10), 1)[0].strip()}".strip()


def _base_commit(body: bytes) -> str | None:
    found = _BASE.search(body)
    return found.group(1).decode("ascii") if found else None
