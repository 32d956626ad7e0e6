"""A mailing list for the tests: series written as git send-email would, an archive.

`post` turns commits of the mini QEMU tree into the mails ``git format-patch``
writes (a cover letter, patches answering it) with the Message-Ids and dates a
test chooses; `reply` writes an answer; `Inbox` is a public-inbox v2 archive
(``git/N.git``, one commit per message, file ``m``) a test appends to.
"""

from __future__ import annotations

import re
import subprocess
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path

from tests.fixtures.minirepo import MiniRepo
from tests.gitenv import git_env

LIST = "qemu-devel@nongnu.org"
_POSTMARK = re.compile(rb"^From [0-9a-f]{40} Mon Sep 17 00:00:00 2001\n", re.MULTILINE)


def set_headers(raw: bytes, headers: dict[str, str]) -> bytes:
    """Replace (or add) headers, keeping the body's bytes."""
    head, _, body = raw.partition(b"\n\n")
    names = {h.lower() for h in headers}
    kept: list[bytes] = []
    skipping = False
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                kept.append(line)
            continue
        skipping = line.split(b":", 1)[0].decode().lower() in names
        if not skipping:
            kept.append(line)
    kept += [f"{k}: {v}".encode() for k, v in headers.items()]
    return b"\n".join(kept) + b"\n\n" + body


def post(
    repo: MiniRepo,
    base: str,
    head: str,
    *,
    ids: str,
    date: datetime,
    version: int = 1,
    cover: str | None = "hw/timer: prescaler rework",
    base_commit: bool = False,
    in_reply_to: str | None = None,
) -> list[bytes]:
    """The series base..head as mails: ``<ids>-0`` is the cover, ``<ids>-N`` patch N."""
    count = int(repo.git("rev-list", "--count", f"{base}..{head}").strip())
    args = ["format-patch", "--stdout", "--no-signature", f"{base}..{head}"]
    if cover is not None:
        args.insert(1, "--cover-letter")
    if base_commit:
        args.insert(1, f"--base={base}")
    chunks = [c for c in _POSTMARK.split(repo.git_bytes(*args)) if c]
    tag = "PATCH" if version == 1 else f"PATCH v{version}"
    first = 0 if cover is not None else 1
    mails = []
    for number, chunk in enumerate(chunks, first):
        subject = re.search(rb"^Subject: \[PATCH[^\]]*\] (.*)$", chunk, re.MULTILINE)
        title = cover if number == 0 else subject.group(1).decode() if subject else ""
        counter = f" {number}/{count}" if count > 1 or cover is not None else ""
        if number == 0:
            chunk = chunk.replace(b"*** BLURB HERE ***", b"Reworks the prescaler.")
        headers = {
            "Subject": f"[{tag}{counter}] {title}",
            "Message-Id": f"<{ids}-{number}@example.org>",
            "Date": format_datetime(date),
            "To": LIST,
            "Cc": "Pet Maint <pet@example.org>",
        }
        root = f"{ids}-{first}@example.org"
        thread = [in_reply_to] if in_reply_to else []
        if number != first:
            thread.append(root)
        if thread:
            headers["In-Reply-To"] = f"<{thread[-1]}>"
            headers["References"] = " ".join(f"<{t}>" for t in thread)
        mails.append(set_headers(chunk, headers))
    return mails


def reply(
    to: str, subject: str, body: str, *, sender: str, message_id: str, date: datetime
) -> bytes:
    """A plain reply to the message ``to``."""
    return (
        f"From: {sender}\nTo: {LIST}\nSubject: Re: {subject}\n"
        f"Message-Id: <{message_id}>\nIn-Reply-To: <{to}>\nReferences: <{to}>\n"
        f"Date: {format_datetime(date)}\nContent-Type: text/plain; charset=utf-8\n\n{body}"
    ).encode()


class Inbox:
    """A public-inbox v2 archive that grows one message (one commit) at a time."""

    def __init__(self, path: Path, home: Path, epoch_size: int = 1000) -> None:
        self.path, self.epoch_size, self.count = path, epoch_size, 0
        self.env = git_env(home)

    def _git(self, gitdir: Path, *args: str, data: bytes | None = None) -> str:
        proc = subprocess.run(
            ["git", f"--git-dir={gitdir}", *args],
            input=data,
            env=self.env,
            capture_output=True,
            check=True,
        )
        return proc.stdout.decode().strip()

    def _epoch(self) -> Path:
        gitdir = self.path / "git" / f"{self.count // self.epoch_size}.git"
        if not gitdir.exists():
            gitdir.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["git", "init", "-q", "--bare", str(gitdir)], check=True, env=self.env)
        return gitdir

    def _head(self, gitdir: Path) -> str | None:
        proc = subprocess.run(
            ["git", f"--git-dir={gitdir}", "rev-parse", "-q", "--verify", "refs/heads/master"],
            capture_output=True,
            env=self.env,
            check=False,
        )
        return proc.stdout.decode().strip() if proc.returncode == 0 else None

    def add(self, raw: bytes, *, name: str = "m") -> str:
        """Commit ``raw`` as the epoch's next message (``name="d"``: a deletion)."""
        gitdir = self._epoch()
        blob = self._git(gitdir, "hash-object", "-w", "--stdin", data=raw)
        tree = self._git(gitdir, "mktree", data=f"100644 blob {blob}\t{name}\n".encode())
        parent = self._head(gitdir)
        args = ["commit-tree", tree, "-m", "message"] + (["-p", parent] if parent else [])
        commit = self._git(gitdir, *args)
        self._git(gitdir, "update-ref", "refs/heads/master", commit)
        self.count += 1
        return commit

    def add_all(self, raws: list[bytes]) -> None:
        for raw in raws:
            self.add(raw)
