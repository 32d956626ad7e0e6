"""List reviews in the store, on SQLite and PostgreSQL: once per version, the hourly count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from bot.mail.message import parse_mail
from bot.store import lists
from bot.store.lists import ListReviewRecord, ListState

WHEN = datetime(2026, 2, 10, 9, tzinfo=UTC)


def _record(mid: str, state: str = ListState.HELD) -> ListReviewRecord:
    return ListReviewRecord(
        message_id=mid, series_key="k", version=1, title="t", author="a@example.org",
        posted_at=WHEN, base_sha=None, verdict="fail", state=state, reply=b"Subject: x\n\nx\n",
    )  # fmt: skip


def test_a_version_is_stored_once_and_its_reply_claimed_once(engine: Engine) -> None:
    assert lists.save_list_review(engine, _record("v1@x"), now=WHEN)
    assert not lists.save_list_review(engine, _record("v1@x"), now=WHEN)
    assert [r.message_id for r in lists.held_replies(engine)] == ["v1@x"]
    assert lists.claim_reply(engine, "v1@x", now=WHEN)
    assert not lists.claim_reply(engine, "v1@x", now=WHEN)  # a second runner gets nothing
    lists.finish_reply(engine, "v1@x", ListState.SENT, now=WHEN)
    assert lists.replies_since(engine, WHEN - timedelta(minutes=1)) == 1
    assert lists.replies_since(engine, WHEN + timedelta(minutes=1)) == 0
    assert lists.held_replies(engine) == []


def test_messages_cursors_and_acks(engine: Engine) -> None:
    assert lists.keep_message(engine, "m1@x", WHEN, b"raw")
    assert not lists.keep_message(engine, "m1@x", WHEN, b"raw")
    assert lists.known_messages(engine, ["m1@x", "m2@x"]) == {"m1@x"}
    assert lists.newest_message(engine) == WHEN
    assert lists.messages_since(engine, WHEN) == [(b"raw", False)]
    lists.settle(engine, ["m1@x"])
    assert lists.messages_since(engine, WHEN) == [(b"raw", True)]
    lists.set_cursor(engine, "/a#epoch:0", "c1")
    lists.set_cursor(engine, "/a#epoch:0", "c2")
    lists.set_cursor(engine, "/b#epoch:0", "c9")
    assert lists.cursors(engine, "/a#") == {"epoch:0": "c2"}
    lists.save_list_review(engine, _record("v1@x", ListState.QUIET), now=WHEN)
    ack = {"by": "Pet", "message_id": "a@x", "honoured": True, "fingerprints": ["f"]}
    assert lists.add_ack(engine, "v1@x", ack)
    assert not lists.add_ack(engine, "v1@x", ack)
    [stored] = lists.series_reviews(engine, "k")
    assert stored.acks == (ack,)


def test_a_list_rewritten_from_still_reaches_the_author() -> None:
    mail = parse_mail(
        b"From: Ann Dev via qemu-devel <qemu-devel@nongnu.org>\n"
        b"Reply-To: Ann Dev <ann@example.org>\n"
        b"Subject: [PATCH] x\nMessage-Id: <p@x>\nDate: Tue, 10 Feb 2026 09:00:00 +0000\n\nx\n"
    )
    assert (mail.sender_name, mail.sender) == ("Ann Dev", "ann@example.org")
