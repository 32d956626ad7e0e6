"""The list reviewer end to end: a public-inbox archive, the mini tree, real SMTP."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from bot.mail.archive import read_archive
from bot.mail.follow import Follower, MailSettings, PassStats
from bot.mail.reply import Operator
from bot.mail.send import FolderWriter, Sender, SmtpSender
from bot.sources.gitrepo import open_repo
from bot.store import lists
from tests.fixtures.minirepo import MiniRepo
from tests.mail.conftest import POSTED, SmtpSink
from tests.mail.listkit import LIST, Inbox, post, reply

TIMER = "hw/timer/acme_timer.c"
OPERATOR = Operator("migbot <bot@lists.example.net>", "lists.example.net", LIST)
ADDED = "        VMSTATE_UINT32(prescale_hi, AcmeTimerState),\n"
ADDED_V2 = "        VMSTATE_UINT32(prescale_lo, AcmeTimerState),\n"


def add_field(repo: MiniRepo, line: str, message: str) -> str:
    """A patch adding an unversioned field to 'acme-timer' (MIG001, an error)."""
    text = repo.read(TIMER)
    anchor = "        VMSTATE_UINT8(irq_status, AcmeTimerState),\n"
    repo.write({TIMER: text.replace(anchor, anchor + line, 1)})
    return repo.commit(message)


def touch_comment(repo: MiniRepo, message: str) -> str:
    text = repo.read(TIMER)
    repo.write({TIMER: text.replace("A made-up device", "A made up device", 1)})
    return repo.commit(message)


def bad_series(repo: MiniRepo) -> tuple[str, str]:
    """Two patches: a comment, then the unversioned field."""
    repo.git("checkout", "-q", "-b", "prescale", "base")
    touch_comment(
        repo, "hw/timer/acme_timer: fix a comment\n\nSigned-off-by: Ada Tester <ada@example.org>"
    )
    head = add_field(
        repo,
        ADDED,
        "hw/timer/acme_timer: migrate prescale_hi\n\nSigned-off-by: Ada Tester <ada@example.org>",
    )
    repo.git("checkout", "-q", "master")
    return repo.rev("base"), head


def clean_series(repo: MiniRepo) -> tuple[str, str]:
    repo.git("checkout", "-q", "-b", "clean", "base")
    head = touch_comment(
        repo, "hw/timer/acme_timer: fix a comment\n\nSigned-off-by: Ada Tester <ada@example.org>"
    )
    repo.git("checkout", "-q", "master")
    return repo.rev("base"), head


class World:
    def __init__(
        self, engine: Engine, mirror: MiniRepo, inbox: Inbox, sender: Sender, **settings: object
    ) -> None:
        self.engine, self.mirror, self.inbox, self.sender = engine, mirror, inbox, sender
        self.now = POSTED + timedelta(hours=1)
        self.settings = MailSettings(operator=OPERATOR, **settings)  # type: ignore[arg-type]

    def run(self) -> PassStats:
        """One pass of a freshly started follower (as after a restart)."""
        git = open_repo(self.mirror.path)
        try:
            follower = Follower(
                self.engine, git, self.sender, self.settings, clock=lambda: self.now
            )
            prefix = f"{self.inbox.path}#"
            feed = read_archive(self.inbox.path, lists.cursors(self.engine, prefix))
            stats = follower.ingest(feed, cursor_prefix=prefix)
            return follower.step(stats)
        finally:
            git.close()


def smtp_world(
    mail_engine: Engine, mirror: MiniRepo, inbox: Inbox, smtp: SmtpSink, **kw: object
) -> World:
    return World(mail_engine, mirror, inbox, SmtpSender(smtp.host, smtp.port), **kw)


def test_a_bad_series_gets_one_reply_to_the_author_and_the_list(
    mail_engine: Engine, mirror: MiniRepo, inbox: Inbox, smtp: SmtpSink
) -> None:
    base, head = bad_series(mirror)
    mails = post(mirror, base, head, ids="s1", date=POSTED)
    inbox.add_all(mails)
    world = smtp_world(mail_engine, mirror, inbox, smtp)

    stats = world.run()

    assert (stats.reviewed, stats.sent) == (1, 1)
    [got] = smtp.received
    assert sorted(got.recipients) == sorted(["ada@example.org", LIST])
    msg = got.message
    assert msg["In-Reply-To"] == "<s1-0@example.org>"
    assert msg["References"] == "<s1-0@example.org>"
    assert str(msg["Message-Id"]).endswith("@lists.example.net>")
    assert msg["Subject"] == "Re: [PATCH 0/2] hw/timer: prescaler rework"
    assert msg.get_content_type() == "text/plain"
    assert not msg.is_multipart()
    text = msg.get_content()
    assert "error [MIG001 field-added-unversioned]" in text
    assert f"  > +{ADDED.rstrip()}" in text  # the hunk line it is about
    assert "Fix: " in text and "<https://www.qemu.org/docs/" in text
    assert "tier " in text
    for line in text.splitlines():
        assert len(line) < 76 or line.strip().startswith("<https://"), line


def test_a_clean_series_gets_no_mail_unless_asked(
    mail_engine: Engine, mirror: MiniRepo, inbox: Inbox, smtp: SmtpSink
) -> None:
    base, head = clean_series(mirror)
    inbox.add_all(post(mirror, base, head, ids="c1", date=POSTED, cover=None))

    stats = smtp_world(mail_engine, mirror, inbox, smtp).run()

    assert (stats.reviewed, stats.quiet, smtp.received) == (1, 1, [])
    stored = lists.list_review(mail_engine, "c1-1@example.org")
    assert stored is not None and stored.verdict == "pass"

    base2, head2 = clean_series_again(mirror)
    inbox.add_all(post(mirror, base2, head2, ids="c2", date=POSTED, cover=None))
    stats = smtp_world(mail_engine, mirror, inbox, smtp, mail_clean=True).run()
    assert stats.sent == 1
    assert "No migration compatibility problem found." in smtp.received[0].message.get_content()
    # Patch 1 answered, as there is no cover letter.
    assert smtp.received[0].message["In-Reply-To"] == "<c2-1@example.org>"


def clean_series_again(repo: MiniRepo) -> tuple[str, str]:
    repo.git("checkout", "-q", "-b", "clean2", "base")
    text = repo.read("hw/char/acme_uart.c")
    repo.write({"hw/char/acme_uart.c": text + "\n/* end */\n"})
    head = repo.commit(
        "hw/char/acme_uart: a comment\n\nSigned-off-by: Ada Tester <ada@example.org>"
    )
    repo.git("checkout", "-q", "master")
    return repo.rev("base"), head


def test_restarts_never_answer_a_version_twice(
    mail_engine: Engine, mirror: MiniRepo, inbox: Inbox, smtp: SmtpSink
) -> None:
    base, head = bad_series(mirror)
    inbox.add_all(post(mirror, base, head, ids="s1", date=POSTED))
    world = smtp_world(mail_engine, mirror, inbox, smtp)
    assert world.run().sent == 1

    # A restart reads nothing new; a second restart after a reply arrives
    # reads only that reply. Neither answers the version again.
    again = world.run()
    assert (again.read, again.threads, again.reviewed, again.sent) == (0, 0, 0, 0)
    inbox.add(
        reply(
            "s1-2@example.org",
            "[PATCH 2/2] x",
            "Looks fine to me.\n",
            sender="Joe Random <joe@example.org>",
            message_id="r1@example.org",
            date=POSTED + timedelta(minutes=30),
        )
    )
    later = world.run()
    assert (later.read, later.kept, later.threads, later.reviewed, later.sent) == (1, 1, 1, 0, 0)
    assert len(smtp.received) == 1


def test_hourly_limit_holds_replies_until_there_is_room(
    mail_engine: Engine, mirror: MiniRepo, inbox: Inbox, smtp: SmtpSink
) -> None:
    base, head = bad_series(mirror)
    inbox.add_all(post(mirror, base, head, ids="s1", date=POSTED))
    inbox.add_all(post(mirror, base, head, ids="s2", date=POSTED, cover="another rework"))
    world = smtp_world(mail_engine, mirror, inbox, smtp, per_hour=1)

    first = world.run()
    assert (first.reviewed, first.sent, first.held) == (2, 1, 1)
    world.now += timedelta(minutes=30)
    assert world.run().sent == 0
    world.now += timedelta(minutes=31)
    assert world.run().sent == 1
    assert [m.message["In-Reply-To"] for m in smtp.received] == [
        "<s1-0@example.org>",
        "<s2-0@example.org>",
    ]


def test_an_smtp_outage_loses_nothing_and_floods_nothing(
    mail_engine: Engine, mirror: MiniRepo, inbox: Inbox, smtp: SmtpSink
) -> None:
    base, head = bad_series(mirror)
    inbox.add_all(post(mirror, base, head, ids="s1", date=POSTED))
    down = World(mail_engine, mirror, inbox, SmtpSender("127.0.0.1", 1, timeout=2))
    stats = down.run()
    assert (stats.reviewed, stats.sent, stats.held) == (1, 0, 1)

    up = smtp_world(mail_engine, mirror, inbox, smtp)
    assert up.run().sent == 1
    assert up.run().sent == 0
    assert len(smtp.received) == 1


def test_old_series_are_stored_but_not_answered(
    mail_engine: Engine, mirror: MiniRepo, inbox: Inbox, smtp: SmtpSink
) -> None:
    base, head = bad_series(mirror)
    inbox.add_all(post(mirror, base, head, ids="s1", date=POSTED))
    world = smtp_world(mail_engine, mirror, inbox, smtp, max_age=timedelta(hours=12))
    world.now = POSTED + timedelta(days=2)
    stats = world.run()
    assert (stats.reviewed, stats.quiet, smtp.received) == (1, 1, [])
    stored = lists.list_review(mail_engine, "s1-0@example.org")
    assert stored is not None and stored.verdict == "fail"


def test_an_incomplete_series_waits_then_is_reviewed_as_far_as_it_goes(
    mail_engine: Engine, mirror: MiniRepo, inbox: Inbox, smtp: SmtpSink
) -> None:
    base, head = bad_series(mirror)
    cover, _first, second = post(mirror, base, head, ids="s1", date=POSTED)
    inbox.add_all([cover, second])  # patch 1/2 never arrives
    world = smtp_world(mail_engine, mirror, inbox, smtp, wait=timedelta(hours=6))
    assert (world.run().waiting, smtp.received) == (1, [])
    world.now += timedelta(hours=6)
    stats = world.run()
    assert stats.sent == 1
    text = smtp.received[0].message.get_content()
    assert "patch(es) 1 of 2 had not arrived" in text
    assert "MIG001" in text


def test_dry_run_writes_rfc822_files_and_sends_nothing(
    mail_engine: Engine, mirror: MiniRepo, inbox: Inbox, smtp: SmtpSink, tmp_path: Path
) -> None:
    base, head = bad_series(mirror)
    inbox.add_all(post(mirror, base, head, ids="s1", date=POSTED))
    out = tmp_path / "dry"
    stats = World(mail_engine, mirror, inbox, FolderWriter(out)).run()
    assert stats.sent == 1 and smtp.received == []
    [written] = list(out.iterdir())
    from email import message_from_bytes
    from email.policy import default

    msg = message_from_bytes(written.read_bytes(), policy=default)
    assert msg["To"] == "Ada Tester <ada@example.org>" and msg["Cc"] == LIST
    assert msg["In-Reply-To"] == "<s1-0@example.org>"
    assert written.name == str(msg["Message-Id"]).strip("<>") + ".eml"
    stored = lists.list_review(mail_engine, "s1-0@example.org")
    assert stored is not None and stored.state == lists.ListState.WRITTEN


def _ack(to: str, who: str, message_id: str, minutes: int) -> bytes:
    return reply(
        to,
        "[PATCH 0/2] hw/timer: prescaler rework",
        f"> migbot checked v1\n\nAcked-by: {who}\n",
        sender=who,
        message_id=message_id,
        date=POSTED + timedelta(minutes=minutes),
    )


def test_a_maintainer_ack_covers_its_findings_in_the_next_version(
    mail_engine: Engine, mirror: MiniRepo, inbox: Inbox, smtp: SmtpSink
) -> None:
    base, head = bad_series(mirror)
    inbox.add_all(post(mirror, base, head, ids="s1", date=POSTED))
    world = smtp_world(mail_engine, mirror, inbox, smtp)
    assert world.run().sent == 1
    # Someone without rights acks, then the migration maintainer does.
    inbox.add(_ack("s1-0@example.org", "Joe Random <joe@example.org>", "a1@example.org", 70))
    inbox.add(_ack("s1-0@example.org", "Pet Maint <pet@example.org>", "a2@example.org", 80))
    acks = world.run()
    assert (acks.acks, acks.sent) == (2, 0)  # recorded, nothing mailed for v1 again

    # v2 keeps the acked field and adds another one.
    mirror.git("checkout", "-q", "prescale")
    v2 = add_field(
        mirror,
        ADDED_V2,
        "hw/timer/acme_timer: migrate prescale_lo\n\nSigned-off-by: Ada Tester <ada@example.org>",
    )
    mirror.git("checkout", "-q", "master")
    world.now = POSTED + timedelta(days=1, hours=1)
    inbox.add_all(post(mirror, base, v2, ids="s2", date=POSTED + timedelta(days=1), version=2))
    stats = world.run()
    assert stats.sent == 1
    text = smtp.received[-1].message.get_content()
    assert smtp.received[-1].message["Subject"].startswith("Re: [PATCH v2 0/3]")
    acked, _, rest = text.partition("Not covered by an ack on an earlier version")
    assert "Acked-by: Pet Maint <pet@example.org> on v1 covers 1 finding" in acked
    assert "prescale_hi" in acked.split("Acks:")[1]
    assert "prescale_lo" in rest and "prescale_hi" not in rest
    assert "acked by Pet Maint <pet@example.org>: error -> notice" in text
    assert "joe@example.org" not in text  # an ack without rights changes nothing
    [v2_review] = [r for r in lists.series_reviews(mail_engine, _key()) if r.version == 2]
    severities = {f["subject"]: f["severity"] for f in v2_review.findings}
    assert severities == {"prescale_hi": "notice", "prescale_lo": "error"}


def _key() -> str:
    return "ada@example.org:hw/timer: prescaler rework"


def test_an_ack_from_someone_else_changes_nothing(
    mail_engine: Engine, mirror: MiniRepo, inbox: Inbox, smtp: SmtpSink
) -> None:
    base, head = bad_series(mirror)
    inbox.add_all(post(mirror, base, head, ids="s1", date=POSTED))
    # Acks before the review: one from a stranger, one naming the maintainer
    # sent by the stranger under the maintainer's name (b4 takes a name match).
    inbox.add(_ack("s1-0@example.org", "Joe Random <joe@example.org>", "a1@example.org", 5))
    forged = _ack("s1-0@example.org", "Pet Maint <pet@example.org>", "a2@example.org", 6)
    inbox.add(
        forged.replace(b"From: Pet Maint <pet@example.org>", b"From: Pet Maint <joe@example.org>")
    )
    smtp_world(mail_engine, mirror, inbox, smtp).run()
    text = smtp.received[0].message.get_content()
    assert "error [MIG001" in text
    assert "Acked-by: Joe Random <joe@example.org>: ignored, not a maintainer" in text
    assert "names someone other than its sender" in " ".join(text.split())


def test_a_maintainer_of_the_file_acks_the_current_version(
    mail_engine: Engine, mirror: MiniRepo, inbox: Inbox, smtp: SmtpSink
) -> None:
    base, head = bad_series(mirror)
    inbox.add_all(post(mirror, base, head, ids="s1", date=POSTED))
    inbox.add(_ack("s1-2@example.org", "Tim Keeper <tim@example.org>", "a1@example.org", 5))
    stats = smtp_world(mail_engine, mirror, inbox, smtp).run()
    # The only finding is acknowledged: nothing left worth a mail.
    assert (stats.reviewed, stats.sent) == (1, 0)
    stored = lists.list_review(mail_engine, "s1-0@example.org")
    assert stored is not None
    assert [f["severity"] for f in stored.findings] == ["notice"]
    assert stored.acks[0]["honoured"] is True
