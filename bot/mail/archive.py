"""Feeds of list messages: a public-inbox v2 archive, an mbox file, a Maildir.

A public-inbox v2 archive is a folder of epochs, ``git/0.git``, ``git/1.git``,
...; every commit of an epoch adds one message as the file ``m`` of its tree
(a deletion commit has a ``d`` instead and is skipped). Reading resumes after
the last commit seen in each epoch, so a run costs what arrived since the last.
"""

from __future__ import annotations

import mailbox
import re
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.mail.message import Mail, MailError, parse_mail

_EPOCH = re.compile(r"^(\d+)\.git$")


@dataclass(frozen=True, slots=True)
class Fetched:
    """One message read from a feed, and where the feed stands after it."""

    mail: Mail
    cursor: tuple[str, str] | None
    """(cursor name, position) to store once the message is kept; None for files."""


def epochs(archive: Path) -> list[tuple[int, Path]]:
    """The epochs of a public-inbox v2 archive, oldest first."""
    gitdir = archive / "git"
    if not gitdir.is_dir():
        raise MailError(f"{archive} is not a public-inbox v2 archive (no git/ folder)")
    found = sorted((int(m.group(1)), p) for p in gitdir.iterdir() if (m := _EPOCH.match(p.name)))
    if not found:
        raise MailError(f"{archive}/git holds no epoch (0.git, 1.git, ...)")
    return found


def read_archive(
    archive: Path, cursors: Mapping[str, str], since: datetime | None = None
) -> Iterator[Fetched]:
    """New messages of every epoch, oldest first, after the commits in ``cursors``.

    ``cursors`` maps ``epoch:N`` to the last commit read there; an epoch without
    a cursor is read from ``since`` (its commit dates are the messages' dates).
    """
    for number, path in epochs(archive):
        name = f"epoch:{number}"
        commits = _new_commits(path, cursors.get(name), since)
        for commit, raw in _messages(path, commits):
            if raw is None:
                continue
            try:
                mail = parse_mail(raw)
            except MailError:
                continue  # spam without a Message-Id: nothing to answer
            yield Fetched(mail, (name, commit))


def _git(gitdir: Path, *args: str, data: bytes | None = None) -> bytes:
    proc = subprocess.run(
        ["git", f"--git-dir={gitdir}", *args], input=data, capture_output=True, check=False
    )
    if proc.returncode != 0:
        reason = proc.stderr.decode(errors="replace").strip().splitlines()
        raise MailError(f"git {args[0]} in {gitdir}: {reason[-1] if reason else 'failed'}")
    return proc.stdout


def _new_commits(gitdir: Path, last: str | None, since: datetime | None) -> list[str]:
    if not _git(gitdir, "for-each-ref", "--count=1", "refs/heads").strip():
        return []  # an epoch created but still empty
    args = ["rev-list", "--reverse", "--first-parent"]
    if last is not None:
        args.append(f"{last}..HEAD")
    else:
        if since is not None:
            args.append(f"--since={since.isoformat()}")
        args.append("HEAD")
    return _git(gitdir, *args).decode().split()


def _messages(gitdir: Path, commits: list[str]) -> Iterator[tuple[str, bytes | None]]:
    """Each commit's ``m`` blob (None for a deletion), through one cat-file."""
    if not commits:
        return
    request = "".join(f"{c}:m\n" for c in commits).encode()
    out = _git(gitdir, "cat-file", "--batch", data=request)
    pos = 0
    for commit in commits:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        pos = end + 1
        if header[-1] == b"missing":
            yield commit, None
            continue
        size = int(header[2])
        yield commit, out[pos : pos + size]
        pos += size + 1


def read_mbox(path: Path) -> Iterator[Fetched]:
    """Every message of an mbox file (the store skips those already kept)."""
    if not path.is_file():
        raise MailError(f"{path}: no such mbox file")
    box = mailbox.mbox(path, create=False)
    try:
        for key in box.iterkeys():
            yield from _parsed(box.get_bytes(key))
    finally:
        box.close()


def read_maildir(path: Path) -> Iterator[Fetched]:
    """Every message of a Maildir (new/ and cur/), oldest file first."""
    if not (path / "cur").is_dir() and not (path / "new").is_dir():
        raise MailError(f"{path} is not a Maildir (no cur/ or new/)")
    box = mailbox.Maildir(path, factory=None, create=False)
    for key in box.iterkeys():
        yield from _parsed(box.get_bytes(key))


def _parsed(raw: bytes) -> Iterator[Fetched]:
    try:
        yield Fetched(parse_mail(raw), None)
    except MailError:
        return
