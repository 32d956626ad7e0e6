"""Reading feeds (public-inbox v2, mbox, Maildir), series assembly with b4, MAINTAINERS."""

from __future__ import annotations

import mailbox
from datetime import timedelta
from pathlib import Path

import pytest

from bot.mail.archive import read_archive, read_maildir, read_mbox
from bot.mail.message import MailError, parse_mail
from bot.mail.overrides import load_maintainers
from bot.mail.series import assemble
from tests.fixtures.minirepo import MiniRepo
from tests.mail.conftest import MAINTAINERS, POSTED
from tests.mail.listkit import Inbox, post, reply


def _series(repo: MiniRepo, name: str, count: int) -> tuple[str, str]:
    repo.git("checkout", "-q", "-b", name, "base")
    for n in range(count):
        path = f"hw/misc/{name}{n}.c"
        repo.write({path: f"/* {name} {n} */\n"})
        repo.commit(f"hw/misc: add {name}{n}\n\nSigned-off-by: Ada Tester <ada@example.org>")
    repo.git("checkout", "-q", "master")
    return repo.rev("base"), repo.rev(name)


def test_archive_is_read_across_epochs_and_resumes_after_the_last_commit(
    mirror: MiniRepo, inbox: Inbox
) -> None:
    base, head = _series(mirror, "aa", 3)
    first = post(mirror, base, head, ids="a", date=POSTED)  # 4 mails: epoch 0 is full
    inbox.add_all(first)
    got = list(read_archive(inbox.path, {}))
    assert [f.mail.message_id for f in got] == [f"a-{n}@example.org" for n in range(4)]

    inbox.add(b"From: x@example.org\nSubject: spam\n\nno message id\n")
    inbox.add(b"", name="d")  # a deletion commit holds no message
    inbox.add(
        reply(
            "a-1@example.org",
            "x",
            "ok\n",
            sender="b@example.org",
            message_id="r@example.org",
            date=POSTED + timedelta(hours=1),
        )
    )
    cursors = dict(f.cursor for f in got if f.cursor)
    later = list(read_archive(inbox.path, cursors))
    assert [f.mail.message_id for f in later] == ["r@example.org"]
    assert {f.cursor[0] for f in later if f.cursor} == {"epoch:1"}
    assert sorted(p.name for p in (inbox.path / "git").iterdir()) == ["0.git", "1.git"]


def test_since_sets_where_a_first_run_starts(mirror: MiniRepo, inbox: Inbox) -> None:
    base, head = _series(mirror, "bb", 1)
    inbox.add_all(post(mirror, base, head, ids="b", date=POSTED, cover=None))
    # Commit dates come from the test's git environment (2026-02-01).
    assert list(read_archive(inbox.path, {}, since=POSTED)) == []
    assert len(list(read_archive(inbox.path, {}, since=POSTED - timedelta(days=30)))) == 1


def test_not_an_archive_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MailError, match="not a public-inbox v2 archive"):
        list(read_archive(tmp_path, {}))
    with pytest.raises(MailError, match="no such mbox"):
        list(read_mbox(tmp_path / "nope"))
    with pytest.raises(MailError, match="not a Maildir"):
        list(read_maildir(tmp_path))


def test_mbox_and_maildir_feeds(mirror: MiniRepo, tmp_path: Path) -> None:
    base, head = _series(mirror, "cc", 2)
    mails = post(mirror, base, head, ids="c", date=POSTED)
    box = mailbox.mbox(tmp_path / "list.mbox")
    md = mailbox.Maildir(tmp_path / "md")
    for raw in mails:
        box.add(raw)
        md.add(raw)
    box.flush()
    from_mbox = [f.mail.message_id for f in read_mbox(tmp_path / "list.mbox")]
    from_maildir = sorted(f.mail.message_id for f in read_maildir(tmp_path / "md"))
    assert from_mbox == [f"c-{n}@example.org" for n in range(3)]
    assert from_maildir == from_mbox


def test_versions_of_a_series_and_their_trailers(mirror: MiniRepo) -> None:
    base, head = _series(mirror, "dd", 2)
    v1 = post(mirror, base, head, ids="v1", date=POSTED, base_commit=True)
    # v2 answers v1's cover letter, as git send-email --in-reply-to does.
    v2 = post(
        mirror,
        base,
        head,
        ids="v2",
        date=POSTED + timedelta(days=1),
        version=2,
        in_reply_to="v1-0@example.org",
    )
    ack = reply(
        "v1-2@example.org",
        "[PATCH 2/2] x",
        "Acked-by: Pet Maint <pet@example.org>\n",
        sender="Pet Maint <pet@example.org>",
        message_id="ack@example.org",
        date=POSTED + timedelta(hours=2),
    )
    found = assemble([parse_mail(r) for r in (*v1, *v2, ack)])
    assert [(s.version, s.root_id, s.complete) for s in found] == [
        (1, "v1-0@example.org", True),
        (2, "v2-0@example.org", True),
    ]
    one, two = found
    assert one.base_commit == base and two.base_commit is None
    assert one.key == two.key
    [acked] = one.acks
    assert (acked.address, acked.paths) == ("pet@example.org", ("hw/misc/dd1.c",))
    # b4 carries an ack to the same patch in the next version: marked as earlier.
    assert [(a.message_id, a.earlier) for a in two.acks] == [("ack@example.org", True)]
    assert not acked.earlier
    assert b"[PATCH 0/2]" in one.mbox() and one.mbox().count(b"\nFrom mboxrd@z") == 2


def test_a_series_without_cover_is_answered_on_patch_one(mirror: MiniRepo) -> None:
    base, head = _series(mirror, "ee", 2)
    mails = post(mirror, base, head, ids="e", date=POSTED, cover=None)
    [series] = assemble([parse_mail(r) for r in mails[1:]])  # patch 1 missing
    assert series.missing() == [1] and series.root_id == "e-2@example.org"
    [series] = assemble([parse_mail(r) for r in mails])
    assert series.cover is None and series.root_id == "e-1@example.org"


def test_maintainers_sections_and_patterns() -> None:
    m = load_maintainers(MAINTAINERS)
    assert m.migration() == {"pet@example.org"}  # R: reviewers are not maintainers
    assert m.of_file("hw/timer/acme_timer.c") == {"tim@example.org"}
    assert m.of_file("hw/timer/other.c") == frozenset()
    assert m.may_ack("Tim@Example.org", ["hw/timer/acme_timer.c"])
    assert not m.may_ack("tim@example.org", ["hw/char/acme_uart.c"])
    assert m.may_ack("pet@example.org", ["hw/char/acme_uart.c"])
    assert load_maintainers(None).migration() == frozenset()
