#!/usr/bin/env python3
"""A public-inbox v2 archive from the mirror's series branches, for ``migbot mail``.

    bench/mail_archive.py --repo QEMU_MIRROR --out DIR [--from 2026-01-01]
                          [--until 2026-03-01] [--epoch-size 400]

The mirror keeps each series posted to qemu-devel as a branch named by the
Message-Id of its first message (``*_ci`` branches are skipped). Each branch
becomes the mails ``git format-patch`` writes for it, threaded as
``git send-email`` or b4 sends them: a cover letter when the series has more
than one patch (subject and blurb cannot be recovered, so they are marked as
reconstructed; the shortlog and diffstat are git's), patches answering it. The
Message-Ids are the branch's and its siblings' (``...-1-...`` / ``-v2-0-``
numbering); b4-style series carry ``base-commit:``, the others leave the base
to the bot (the mirror's master when they were posted). Messages go into the
epochs ``git/N.git`` in date order, one commit per message, file ``m``.
Nothing of QEMU is kept outside DIR.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

_SEND_EMAIL = re.compile(r"^(?P<head>.+)-(?P<n>1)-(?P<tail>[^-]+@.+)$")
_B4 = re.compile(r"^(?P<head>.+-v(?P<v>\d+))-(?P<n>[01])-(?P<tail>[^-]+@.+)$")
_VIA = re.compile(r"^(?P<name>.*?) via$")


@dataclass
class Message:
    date: datetime
    sender: str
    raw: bytes


def git(mirror: Path, *args: str) -> bytes:
    return subprocess.run(
        ["git", f"--git-dir={mirror}", *args], capture_output=True, check=True
    ).stdout


def branches(mirror: Path, start: datetime, until: datetime) -> list[tuple[str, datetime]]:
    out = git(
        mirror,
        "for-each-ref",
        "--format=%(refname:short)%00%(committerdate:unix)",
        "refs/heads",
    ).decode()
    found = []
    for line in out.splitlines():
        name, _, stamp = line.partition("\0")
        when = datetime.fromtimestamp(int(stamp), UTC)
        if name == "master" or name.endswith("_ci") or "@" not in name:
            continue
        if start <= when < until:
            found.append((name, when))
    return sorted(found, key=lambda b: b[1])


def ids(branch: str, count: int) -> tuple[str | None, list[str], int]:
    """(cover id, patch ids, version) as the sender's tool numbered them."""
    if m := _B4.match(branch):
        head, tail, version = m["head"], m["tail"], int(m["v"])
        if count == 1 and m["n"] == "1":
            return None, [branch], version
        return f"{head}-0-{tail}", [f"{head}-{k}-{tail}" for k in range(1, count + 1)], version
    if (m := _SEND_EMAIL.match(branch)) and count > 1:
        head, tail = m["head"], m["tail"]
        return branch, [f"{head}-{k + 1}-{tail}" for k in range(1, count + 1)], 1
    if count == 1:
        return None, [branch], 1
    return branch, [f"{k}.{branch}" for k in range(1, count + 1)], 1


def _sender_address(message_id: str | None) -> str | None:
    """``DATE.PID-N-user@host`` (git send-email): ``user@host`` is who sent it."""
    if message_id is None or not (m := _SEND_EMAIL.match(message_id)):
        return None
    return m["tail"] if "." in m["tail"].split("@")[-1] else None


def real_sender(raw: bytes) -> bytes:
    """qemu-devel rewrites From for DMARC (``Name via <list>``); the sign-off has the address."""
    head, _, body = raw.partition(b"\n\n")
    lines = head.split(b"\n")
    for i, line in enumerate(lines):
        if not line.startswith(b"From: "):
            continue
        name = line[6:].decode(errors="replace").rsplit("<", 1)[0].strip().strip('"')
        if not (m := _VIA.match(name)):
            return raw
        who = m["name"].strip('"')
        sob = re.search(
            rf"^Signed-off-by: {re.escape(who)} <([^>]+)>", body.decode(errors="replace"), re.M
        )
        if sob:
            lines[i] = f"From: {who} <{sob.group(1)}>".encode()
        return b"\n".join(lines) + b"\n\n" + body
    return raw


def set_headers(raw: bytes, headers: dict[str, str]) -> bytes:
    """Replace or add headers, keeping the body's bytes as they are."""
    head, _, body = raw.partition(b"\n\n")
    kept = []
    skip = False
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and skip:
            continue
        name = line.split(b":", 1)[0].decode(errors="replace").lower()
        skip = name in {h.lower() for h in headers}
        if not skip and not line.startswith(b"From "):
            kept.append(line)
    kept += [f"{k}: {v}".encode() for k, v in headers.items()]
    return b"\n".join(kept) + b"\n\n" + body


def series_mails(mirror: Path, branch: str, when: datetime) -> list[Message]:
    base = git(mirror, "merge-base", branch, "master").decode().strip()
    commits = git(mirror, "rev-list", "--reverse", f"{base}..{branch}").decode().split()
    if not commits or len(commits) > 60:
        return []  # a pull request or a rebased branch, not one posted series
    cover_id, patch_ids, version = ids(branch, len(commits))
    tag = "PATCH" if version == 1 else f"PATCH v{version}"
    args = ["format-patch", "--stdout", "--no-signature", f"{base}..{branch}"]
    if cover_id is not None:
        args.insert(1, "--cover-letter")
    if cover_id is not None and _B4.match(branch):
        args.insert(1, f"--base={base}")
    out = git(mirror, *args)
    chunks = [
        c for c in re.split(rb"^From [0-9a-f]{40} Mon Sep 17 00:00:00 2001\n", out, flags=re.M) if c
    ]
    total = len(commits)
    mails: list[Message] = []
    numbered = ([(0, cover_id)] if cover_id else []) + list(enumerate(patch_ids, 1))
    author = re.search(rb"^From: .*(?:\n[ \t].*)*", chunks[-1], re.M)
    for (number, mid), chunk in zip(numbered, chunks, strict=True):
        if number == 0 and author:
            # git writes the cover letter as whoever runs it: the series' sender
            # sent it, and git send-email puts the sender's address in the
            # Message-Id (a maintainer may post patches others wrote).
            if (
                sent_by := _sender_address(cover_id)
            ) and sent_by.lower().encode() not in author.group(0).lower():
                chunk = re.sub(
                    rb"^From: .*(?:\n[ \t].*)*",
                    f"From: <{sent_by}>".encode(),
                    chunk,
                    count=1,
                    flags=re.M,
                )
            else:
                chunk = re.sub(
                    rb"^From: .*(?:\n[ \t].*)*",
                    lambda _m: author.group(0),
                    chunk,
                    count=1,
                    flags=re.M,
                )
        subject_line = re.search(rb"^Subject: (.*(?:\n[ \t].*)*)", chunk, re.M)
        subject = (
            b" ".join(subject_line.group(1).split()).decode(errors="replace")
            if subject_line
            else ""
        )
        title = re.sub(r"^\[PATCH[^\]]*\]\s*", "", subject)
        counter = f" {number}/{total}" if total > 1 else ""
        if number == 0:
            first = re.sub(r"^\[PATCH[^\]]*\]\s*", "", series_subject(mirror, commits[0]))
            title = f"{first} (series of {total}; subject reconstructed)"
            chunk = chunk.replace(b"*** SUBJECT HERE ***", title.encode())
            chunk = chunk.replace(
                b"*** BLURB HERE ***",
                b"(cover letter reconstructed from the mirror: blurb not kept)",
            )
        headers = {
            "Subject": f"[{tag}{counter}] {title}",
            "Message-Id": f"<{mid}>",
            "Date": when.strftime("%a, %d %b %Y %H:%M:%S +0000"),
            "To": "qemu-devel@nongnu.org",
        }
        if number > 0 and (cover_id or number > 1):
            root = cover_id or patch_ids[0]
            headers["In-Reply-To"] = f"<{root}>"
            headers["References"] = f"<{root}>"
        raw = real_sender(set_headers(chunk, headers))
        sender = re.search(rb"^From: (.*)$", raw, re.M)
        mails.append(Message(when, sender.group(1).decode(errors="replace") if sender else "", raw))
    return mails


def series_subject(mirror: Path, commit: str) -> str:
    return git(mirror, "log", "-1", "--format=%s", commit).decode().strip()


def write_archive(out: Path, messages: list[Message], epoch_size: int) -> int:
    (out / "git").mkdir(parents=True, exist_ok=True)
    epochs = 0
    for start in range(0, len(messages), epoch_size):
        gitdir = out / "git" / f"{epochs}.git"
        subprocess.run(["git", "init", "-q", "--bare", str(gitdir)], check=True)
        stream = bytearray()
        for msg in messages[start : start + epoch_size]:
            name, _, addr = msg.sender.rpartition("<")
            who = f"{name.strip().strip(chr(34)) or 'unknown'} <{addr.rstrip('>') or 'unknown'}>"
            stamp = int(msg.date.timestamp())
            subject = b"message"
            stream += b"commit refs/heads/master\n"
            stream += f"author {who} {stamp} +0000\ncommitter {who} {stamp} +0000\n".encode()
            stream += f"data {len(subject)}\n".encode() + subject + b"\n"
            stream += b"deleteall\nM 100644 inline m\n"
            stream += f"data {len(msg.raw)}\n".encode() + msg.raw + b"\n"
        subprocess.run(
            ["git", f"--git-dir={gitdir}", "fast-import", "--quiet"],
            input=bytes(stream),
            check=True,
        )
        epochs += 1
    return epochs


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--repo", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--from", dest="start", default="2026-01-01")
    ap.add_argument("--until", default="2026-03-01")
    ap.add_argument("--epoch-size", type=int, default=400)
    args = ap.parse_args()
    start = datetime.fromisoformat(args.start).replace(tzinfo=UTC)
    until = datetime.fromisoformat(args.until).replace(tzinfo=UTC)
    found = branches(args.repo, start, until)
    messages: list[Message] = []
    skipped = 0
    for name, when in found:
        mails = series_mails(args.repo, name, when)
        skipped += not mails
        messages += mails
    messages.sort(key=lambda m: m.date)
    epochs = write_archive(args.out, messages, args.epoch_size)
    print(
        f"{len(found)} series branches, {skipped} skipped (empty or over 60 commits), "
        f"{len(messages)} messages in {epochs} epochs at {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
