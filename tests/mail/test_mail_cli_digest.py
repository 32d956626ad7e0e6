"""``migbot mail`` from the command line, and list series in the weekly digest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine

from bot.cli import main
from bot.digest.period import Period
from bot.digest.render import render_markdown
from bot.digest.stored import digest_from_store
from bot.store.lists import ListReviewRecord, ListState, save_list_review
from bot.store.reviews import ReviewRecord, save_review
from tests.fixtures.minirepo import MiniRepo
from tests.mail.conftest import POSTED
from tests.mail.listkit import LIST, Inbox, post
from tests.mail.test_mail_follow import bad_series, clean_series


def _mail(db: str, feed: list[str], mirror: MiniRepo, out: Path) -> list[str]:
    return [
        "mail", "--database-url", db, *feed, "--repo", str(mirror.path),
        "--dry-run", str(out), "--max-age-hours", "0",
        "--from", "migbot <bot@ops.example.net>",
    ]  # fmt: skip


def test_mail_dry_run_writes_one_rfc822_file_per_answered_version(
    sqlite_url: str, mirror: MiniRepo, inbox: Inbox, tmp_path: Path
) -> None:
    base, head = bad_series(mirror)
    inbox.add_all(post(mirror, base, head, ids="s1", date=POSTED))
    cbase, chead = clean_series(mirror)
    inbox.add_all(post(mirror, cbase, chead, ids="c1", date=POSTED, cover=None))
    out = tmp_path / "dry"
    args = _mail(sqlite_url, ["--archive", str(inbox.path)], mirror, out)

    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "reviewed 2 series versions" in first.output
    assert "replies written: 1" in first.output
    [written] = list(out.iterdir())
    msg = message_from_bytes(written.read_bytes(), policy=default)
    assert msg["Message-Id"].endswith("@ops.example.net>")
    assert (msg["In-Reply-To"], msg["References"]) == ("<s1-0@example.org>",) * 2
    assert (msg["To"], msg["Cc"]) == ("Ada Tester <ada@example.org>", LIST)
    assert msg["From"] == "migbot <bot@ops.example.net>"
    assert "MIG001" in msg.get_content()

    again = CliRunner().invoke(main, args)  # a restart: nothing new, nothing answered
    assert again.exit_code == 0, again.output
    assert "read 0 messages" in again.output and "replies written: 0" in again.output
    assert len(list(out.iterdir())) == 1


def test_mail_reads_an_mbox_and_rejects_bad_input(
    sqlite_url: str, mirror: MiniRepo, tmp_path: Path
) -> None:
    base, head = bad_series(mirror)
    mbox = tmp_path / "list.mbox"
    mbox.write_bytes(
        b"".join(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n" + m + b"\n" for m in
                 post(mirror, base, head, ids="m1", date=POSTED))
    )  # fmt: skip
    out = tmp_path / "dry"
    ok = CliRunner().invoke(main, _mail(sqlite_url, ["--mbox", str(mbox)], mirror, out))
    assert ok.exit_code == 0, ok.output
    assert "replies written: 1" in ok.output

    two = CliRunner().invoke(
        main, _mail(sqlite_url, ["--mbox", str(mbox), "--maildir", str(tmp_path)], mirror, out)
    )
    assert two.exit_code == 2 and "exactly one of" in two.output
    bad = CliRunner().invoke(main, _mail(sqlite_url, ["--archive", str(tmp_path)], mirror, out))
    assert bad.exit_code == 2 and "not a public-inbox v2 archive" in bad.output


NOW = datetime(2026, 2, 16, tzinfo=UTC)


def _finding(subject: str, severity: str) -> dict[str, object]:
    return {
        "rule_id": "MIG001", "slug": "field-added-unversioned", "severity": severity,
        "tier": "bidirectional", "path": "hw/timer/acme_timer.c", "vmsd": "acme-timer",
        "subject": subject, "fingerprint": f"fp-{subject}",
    }  # fmt: skip


def test_the_digest_lists_list_series_beside_merge_requests(mail_engine: Engine) -> None:
    when = NOW - timedelta(days=3)
    save_review(
        mail_engine,
        ReviewRecord(
            forge="gitlab", project="qemu-project/qemu", number=7, title="hw/net: a rework",
            author="bo", url=None, labels=(), state="open", base_sha=None, head_sha="a" * 40,
            verdict="fail", previous_verdict=None, findings=(_finding("rx", "error"),),
        ),
        now=when,
    )  # fmt: skip
    for version, findings, verdict in (
        (1, (_finding("prescale_hi", "error"),), "fail"),
        (2, (), "pass"),
    ):
        save_list_review(
            mail_engine,
            ListReviewRecord(
                message_id=f"s{version}-0@example.org", series_key="ada:hw/timer: prescaler",
                version=version, title="hw/timer: prescaler rework", author="ada@example.org",
                posted_at=when, base_sha="b" * 40, verdict=verdict, state=ListState.SENT,
                findings=findings,
            ),
            now=when + timedelta(hours=version),
        )  # fmt: skip
    digest = digest_from_store(mail_engine, Period(NOW - timedelta(days=7), NOW), weeks=4, now=NOW)
    text = render_markdown(digest)
    assert "hw/net: a rework" in text
    assert "hw/timer: prescaler rework" in text
    assert "v2 <s2-0@example.org>" in text
    assert text.count("hw/timer: prescaler rework") == 1  # one entry for both versions
