"""Splitting mail into patches: subjects, numbers, bodies, base commits."""

from __future__ import annotations

import base64

import pytest

from bot.sources.mbox import split_mails

DIFF = (
    b"diff --git a/hw/misc/demo.c b/hw/misc/demo.c\n"
    b"--- a/hw/misc/demo.c\n+++ b/hw/misc/demo.c\n"
    b"@@ -1 +1 @@\n-    .version_id = 1,\n+    .version_id = 2,\n"
)


def mail(subject: bytes, body: bytes, postmark: bool = True, headers: bytes = b"") -> bytes:
    start = b"From 1111111111111111111111111111111111111111 Mon Sep 17 00:00:00 2001\n"
    return (
        (start if postmark else b"")
        + b"From: Ada Tester <ada@example.org>\nSubject: "
        + subject
        + b"\n"
        + headers
        + b"\n"
        + body
    )


@pytest.mark.parametrize(
    ("subject", "title", "number", "total"),
    [
        (b"[PATCH v2 3/7] hw/misc/demo: bump", "hw/misc/demo: bump", 3, 7),
        (b"[RFC PATCH 02/10] hw/misc/demo: bump", "hw/misc/demo: bump", 2, 10),
        (b"[PATCH] hw/misc/demo: bump", "hw/misc/demo: bump", None, None),
        (b"[PULL 00/12] Migration patches", "Migration patches", 0, 12),
        (b"[PATCH 1/2] [demo] keep this", "keep this", 1, 2),
        (b"=?UTF-8?q?=5BPATCH_1/1=5D_hw/misc/d=C3=A9mo:_bump?=", "hw/misc/d\u00e9mo: bump", 1, 1),
        (b"[PATCH 4/5] hw/misc/demo: a subject\n folded over two lines", None, 4, 5),
    ],
)
def test_subjects(subject: bytes, title: str | None, number: int | None, total: int | None) -> None:
    (got,) = split_mails(mail(subject, b"Body.\n---\n" + DIFF))

    assert got.subject == (title or "hw/misc/demo: a subject folded over two lines")
    assert (got.number, got.total) == (number, total)
    assert got.diff == DIFF
    assert not got.is_reply


def test_a_series_splits_on_postmarks_and_finds_the_base() -> None:
    cover = mail(
        b"[PATCH 0/2] demo: series",
        b"Cover text, mentioning From here on.\n\nbase-commit: " + b"ab" * 20 + b"\n",
    )
    one = mail(b"[PATCH 1/2] one", b"From the commit message.\n---\n" + DIFF + b"-- \n2.39.5\n")
    reply = mail(b"Re: [PATCH 1/2] one", b"> +    .version_id = 2,\nWhy?\n")

    mails = split_mails(cover + b"\n" + one + b"\n" + reply)

    assert [m.subject for m in mails] == ["demo: series", "one", "one"]
    assert mails[0].base_commit == "ab" * 20
    assert mails[0].diff == b""
    assert mails[1].diff == DIFF + b"-- \n2.39.5\n\n"
    assert mails[2].is_reply
    assert mails[2].diff == b""


def test_pull_request_cover_names_its_base() -> None:
    body = (
        b"The following changes since commit " + b"cd" * 20 + b":\n\n"
        b"  Merge tag 'x' (2026-02-01)\n\nare available in the Git repository at:\n"
    )

    (cover,) = split_mails(mail(b"[PULL 0/3] demo", body))

    assert cover.base_commit == "cd" * 20


def test_single_mail_without_postmark_and_a_bare_diff() -> None:
    (single,) = split_mails(mail(b"[PATCH] demo", b"Text.\n---\n" + DIFF, postmark=False))
    (bare,) = split_mails(b"Some preface from a pastebin.\n" + DIFF)

    assert single.subject == "demo"
    assert single.diff == DIFF
    assert bare.subject == ""
    assert bare.diff == DIFF


def test_crlf_mbox() -> None:
    data = mail(b"[PATCH 1/1] demo", b"Text.\n---\n" + DIFF).replace(b"\n", b"\r\n")

    (got,) = split_mails(data)

    assert got.subject == "demo"
    assert got.diff == DIFF.replace(b"\n", b"\r\n")


def test_latin1_body_is_transcoded_and_attachments_are_read() -> None:
    latin1 = b"+/* Fran\xe7ois */\n"
    headers = b'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="XX"\n'
    body = (
        b"--XX\nContent-Type: text/plain; charset=ISO-8859-1\n"
        b"Content-Transfer-Encoding: 8bit\n\nMerci.\n"
        b"--XX\nContent-Type: text/x-patch; charset=ISO-8859-1; name=fix.patch\n"
        b"Content-Transfer-Encoding: base64\n\n"
        + base64.encodebytes(DIFF.replace(b"@@ -1 +1 @@", b"@@ -1 +1,2 @@") + latin1)
        + b"--XX--\n"
    )

    (got,) = split_mails(mail(b"[PATCH] fix", body, headers=headers))

    assert got.diff.endswith(b"+/* Fran\xc3\xa7ois */\n")
    assert got.diff.startswith(b"diff --git a/hw/misc/demo.c")
