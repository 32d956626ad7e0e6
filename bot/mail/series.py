"""Messages -> series versions, with b4 (what QEMU and kernel maintainers use).

Messages are first split into threads (a message joins the thread of any
message it answers); b4's `LoreMailbox` then sorts each thread into versions
(``[PATCH vN m/n]``, the cover letter, the ``base-commit:`` and ``change-id:``
trailers) and attaches the trailers of replies (``Acked-by:``,
``Reviewed-by:``) to the patch or cover letter they answer. b4 is used
offline: no lore lookups, no rerolling missing patches from older versions.
"""

from __future__ import annotations

import email
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import b4

from bot.mail.message import Mail
from bot.mail.overrides import Ack

_DIFF_PATHS = re.compile(rb"^diff --git a/(\S+) b/(\S+)", re.MULTILINE)
_SUBJECT_TAGS = re.compile(r"^\s*(?:(?:re|aw|fwd?)\s*:\s*)*(?:\[[^\]]*\]\s*)*", re.I)

logging.getLogger("b4").setLevel(logging.ERROR)


@dataclass(frozen=True, slots=True)
class Series:
    """One version of a series as it stands in the messages seen so far."""

    version: int
    expected: int
    """How many patches the subjects announce."""
    title: str
    author_name: str
    author: str
    """The sender's address."""
    cover: Mail | None
    patches: tuple[tuple[int, Mail], ...]
    """The patches present, by number."""
    base_commit: str | None
    change_id: str | None
    acks: tuple[Ack, ...]

    @property
    def root(self) -> Mail:
        """What a reply answers: the cover letter, else the first patch present."""
        return self.cover or self.patches[0][1]

    @property
    def root_id(self) -> str:
        return self.root.message_id

    @property
    def complete(self) -> bool:
        return not self.missing()

    def missing(self) -> list[int]:
        have = {n for n, _ in self.patches}
        return [n for n in range(1, self.expected + 1) if n not in have]

    @property
    def posted_at(self) -> datetime:
        return min(m.date for _, m in self.patches)

    @property
    def last_at(self) -> datetime:
        return max(m.date for _, m in self.patches)

    @property
    def key(self) -> str:
        """The same for every version: the change-id, else author and title."""
        if self.change_id:
            return f"change-id:{self.change_id}"
        return f"{self.author.lower()}:{' '.join(self.title.lower().split())}"

    def mbox(self) -> bytes:
        """The version as a ``git format-patch`` mbox: cover letter, then patches."""
        mails = ([self.cover] if self.cover else []) + [m for _, m in self.patches]
        out = bytearray()
        for mail in mails:
            raw = mail.raw.replace(b"\r\n", b"\n")
            out += b"From mboxrd@z Thu Jan  1 00:00:00 1970\n"
            out += _escape_from(raw)
            out += b"" if raw.endswith(b"\n") else b"\n"
        return bytes(out)


def _escape_from(raw: bytes) -> bytes:
    # mboxrd: a body line that reads like a postmark would split the message.
    return re.sub(rb"^(>*From )", rb">\1", raw, flags=re.MULTILINE)


def threads(mails: Sequence[Mail]) -> list[list[Mail]]:
    """Messages joined with every message they answer, each thread oldest first."""
    parent: dict[str, str] = {m.message_id: m.message_id for m in mails}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for mail in mails:
        for other in mail.parents:
            if other in parent:
                a, b = find(mail.message_id), find(other)
                if a != b:
                    parent[a] = b
    grouped: dict[str, list[Mail]] = {}
    for mail in mails:
        grouped.setdefault(find(mail.message_id), []).append(mail)
    ordered = [sorted(g, key=lambda m: m.date) for g in grouped.values()]
    return sorted(ordered, key=lambda g: g[0].date)


def assemble(mails: Iterable[Mail]) -> list[Series]:
    """Every series version in ``mails`` (each version once), oldest first."""
    unique = {m.message_id: m for m in mails}
    found: list[Series] = []
    for thread in threads(list(unique.values())):
        if any(m.is_patch for m in thread):
            found.extend(versions(thread))
    return sorted(found, key=lambda s: s.posted_at)


def versions(thread: list[Mail]) -> list[Series]:
    """The series versions of one thread, by b4."""
    by_id = {m.message_id: m for m in thread}
    box = b4.LoreMailbox()
    for mail in thread:
        box.add_message(email.message_from_bytes(mail.raw, policy=b4.emlpolicy))
    out: list[Series] = []
    for revision in sorted(box.series):
        lser = box.get_series(revision, reroll=False, codereview_trailers=False)
        if lser is None:
            continue
        patches = tuple(
            (n, by_id[lm.msgid])
            for n, lm in enumerate(lser.patches)
            if n > 0 and lm is not None and lm.msgid in by_id
        )
        if not patches:
            continue
        cover_lm = lser.patches[0] if lser.has_cover else None
        cover = by_id.get(cover_lm.msgid) if cover_lm is not None else None
        own = {m.message_id for _, m in patches} | ({cover.message_id} if cover else set())
        acks: list[Ack] = []
        for n, lm in enumerate(lser.patches):
            if lm is None:
                continue
            answered = by_id.get(lm.msgid)
            paths = None if n == 0 or answered is None else _paths(answered.raw)
            acks.extend(_acks(lm, paths, own))
        first = cover or patches[0][1]
        out.append(
            Series(
                version=int(lser.revision),
                expected=int(lser.expected),
                title=_title(first.subject),
                author_name=first.sender_name,
                author=first.sender,
                cover=cover,
                patches=patches,
                base_commit=lser.base_commit,
                change_id=lser.change_id,
                acks=tuple(acks),
            )
        )
    return out


def _acks(lmsg: b4.LoreMessage, paths: tuple[str, ...] | None, own: set[str]) -> list[Ack]:
    """The Acked-by trailers b4 found in replies to ``lmsg`` (``own``: this version's ids)."""
    out = []
    for trailer in lmsg.followup_trailers:
        if (trailer.name or "").lower() != "acked-by" or trailer.lmsg is None:
            continue
        name, address = trailer.addr or ("", "")
        out.append(
            Ack(
                name=name or "",
                address=(address or "").lower(),
                sender=(trailer.lmsg.fromemail or "").lower(),
                message_id=trailer.lmsg.msgid,
                paths=paths,
                earlier=trailer.lmsg.in_reply_to not in own,
            )
        )
    return out


def _paths(raw: bytes) -> tuple[str, ...]:
    found: list[str] = []
    for match in _DIFF_PATHS.finditer(raw):
        for path in (match.group(1), match.group(2)):
            text = path.decode(errors="replace")
            if text not in found:
                found.append(text)
    return tuple(found)


def _title(subject: str) -> str:
    return _SUBJECT_TAGS.sub("", subject, count=1).strip()
