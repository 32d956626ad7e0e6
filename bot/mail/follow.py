"""The loop: read new messages, assemble series, review each version once, reply.

Each pass keeps the new patches (and the replies to them) in the store,
assembles the series of the kept messages, reviews every version that has no
stored review yet, and sends held replies while the hourly limit allows.
Incomplete versions wait (``wait``) and are then reviewed as far as they go;
a version whose last message is older than ``max_age`` is reviewed and
stored but not answered, so a long outage never floods the list.
"""

from __future__ import annotations

import email
import email.policy
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine

from bot.findings import Severity
from bot.mail.archive import Fetched
from bot.mail.check import CarriedAck, SeriesReview, ack_after_review, review_series
from bot.mail.message import Mail, MailError, parse_mail
from bot.mail.reply import Operator, compose, reply_id
from bot.mail.send import Sender, SendError, room
from bot.mail.series import Series, threads, versions
from bot.review.reconcile import verdict_of
from bot.sources.errors import SourceError
from bot.sources.gitrepo import GitRepo
from bot.store import lists
from bot.store.lists import ListReviewRecord, ListState
from bot.store.models import utcnow
from bot.store.reviews import stored_finding, stored_override

log = logging.getLogger("migbot.mail")


@dataclass(frozen=True, slots=True)
class MailSettings:
    operator: Operator
    branch: str = "master"
    wait: timedelta = timedelta(hours=6)
    """How long an incomplete version waits for its missing patches."""
    max_age: timedelta | None = timedelta(days=3)
    """Versions older than this are stored but not answered; None: no limit."""
    per_hour: int = 20
    """Replies per hour; 0: no limit."""
    mail_clean: bool = False
    window: timedelta = timedelta(days=30)
    """How far back kept messages are assembled into series."""


@dataclass
class PassStats:
    read: int = 0
    kept: int = 0
    reviewed: int = 0
    waiting: int = 0
    quiet: int = 0
    failed: int = 0
    sent: int = 0
    held: int = 0
    acks: int = 0
    threads: int = 0
    """Threads b4 read this pass (those with something new)."""
    seconds: list[float] = field(default_factory=list)
    """Time spent reviewing each version."""


class Follower:
    def __init__(
        self,
        engine: Engine,
        git: GitRepo,
        sender: Sender,
        settings: MailSettings,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine, self.git, self.sender, self.settings = engine, git, sender, settings
        self.clock = clock

    # --- reading ---------------------------------------------------------------

    def ingest(
        self, feed: Iterable[Fetched], *, cursor_prefix: str, since: datetime | None = None
    ) -> PassStats:
        """Keep the patches of ``feed`` and the replies to kept messages."""
        stats = PassStats()
        positions: dict[str, str] = {}
        for fetched in feed:
            stats.read += 1
            mail = fetched.mail
            fresh = since is None or mail.date >= since
            if (
                fresh
                and self._wanted(mail)
                and lists.keep_message(self.engine, mail.message_id, mail.date, mail.raw)
            ):
                stats.kept += 1
            if fetched.cursor is not None:
                name, position = fetched.cursor
                positions[name] = position
                if stats.read % 500 == 0:
                    self._save_cursors(cursor_prefix, positions)
        self._save_cursors(cursor_prefix, positions)
        return stats

    def _wanted(self, mail: Mail) -> bool:
        return mail.is_patch or bool(lists.known_messages(self.engine, mail.parents))

    def _save_cursors(self, prefix: str, positions: dict[str, str]) -> None:
        for name, position in positions.items():
            lists.set_cursor(self.engine, prefix + name, position)

    # --- reviewing -------------------------------------------------------------

    def step(self, stats: PassStats | None = None) -> PassStats:
        """One pass over the kept messages: review new versions, record acks, send."""
        stats = stats or PassStats()
        now = self.clock()
        newest = lists.newest_message(self.engine)
        if newest is None:
            return stats
        mails: list[Mail] = []
        settled: set[str] = set()
        for raw, done in lists.messages_since(self.engine, min(now, newest) - self.settings.window):
            try:
                mail = parse_mail(raw)
            except MailError:
                continue
            mails.append(mail)
            if done:
                settled.add(mail.message_id)
        for thread in threads(mails):
            # b4 reads every message of a thread it is given: only threads
            # with a new message, or a version still waiting, are read again.
            if all(m.message_id in settled for m in thread):
                continue
            waiting = False
            if any(m.is_patch for m in thread):
                stats.threads += 1
                for series in versions(thread):
                    waiting |= self._one(series, now, stats)
            if not waiting:
                lists.settle(self.engine, (m.message_id for m in thread))
        self.flush(stats)
        return stats

    def _one(self, series: Series, now: datetime, stats: PassStats) -> bool:
        """Review a version not reviewed yet; True when it waits for missing patches."""
        existing = lists.list_review(self.engine, series.root_id)
        if existing is not None:
            stats.acks += self._late_acks(series, existing)
            return False
        notes: list[str] = []
        if not series.complete:
            if now - series.last_at < self.settings.wait:
                stats.waiting += 1
                return True
            missing = ", ".join(str(n) for n in series.missing())
            notes.append(
                f"patch(es) {missing} of {series.expected} had not arrived; "
                f"reviewed the {len(series.patches)} that had"
            )
        started = time.perf_counter()
        try:
            done = review_series(
                series,
                self.git,
                branch=self.settings.branch,
                carried=self._carried(series),
                notes=notes,
            )
        except SourceError as exc:
            stats.failed += 1
            log.warning("series %s not reviewed: %s", series.root_id, exc)
            self._store(series, None, ListState.QUIET, "error", None, None)
            return False
        except Exception:
            # One series the pipeline cannot handle must not stop the list:
            # logged with its trace, stored so it is not retried on every pass.
            stats.failed += 1
            log.exception("series %s: the review failed", series.root_id)
            self._store(series, None, ListState.QUIET, "error", None, None)
            return False
        finally:
            stats.seconds.append(time.perf_counter() - started)
        stats.reviewed += 1
        answer = self._worth_a_mail(done)
        stale = self.settings.max_age is not None and now - series.last_at > self.settings.max_age
        if not answer or stale:
            stats.quiet += 1
            self._store(series, done, ListState.QUIET, str(verdict_of(done.report)), None, None)
            return False
        msg = compose(done, self.settings.operator, now=now)
        self._store(
            series,
            done,
            ListState.HELD,
            str(verdict_of(done.report)),
            reply_id(series.root_id, self.settings.operator.domain),
            msg.as_bytes(),
        )
        return False

    def _worth_a_mail(self, done: SeriesReview) -> bool:
        """Errors or warnings, or an earlier version's ack to account for; else quiet."""
        if self.settings.mail_clean:
            return True
        if done.report.reaches(Severity.WARNING) or done.not_covered:
            return True
        return any(c.version != done.series.version for c in done.coverage)

    def _carried(self, series: Series) -> list[CarriedAck]:
        out = []
        for earlier in lists.series_reviews(self.engine, series.key):
            if earlier.version >= series.version:
                continue
            for ack in earlier.acks:
                if ack.get("honoured") and ack.get("fingerprints"):
                    out.append(
                        CarriedAck(str(ack["by"]), earlier.version, frozenset(ack["fingerprints"]))
                    )
        return out

    def _late_acks(self, series: Series, existing: ListReviewRecord) -> int:
        """Acks that came after the review: recorded for the next version, no mail."""
        known = {a.get("message_id") for a in existing.acks}
        fresh = [a for a in series.acks if a.message_id not in known]
        if not fresh:
            return 0
        text = None
        if existing.base_sha:
            try:
                text = self.git.read_path(self.git.commit(existing.base_sha).tree, "MAINTAINERS")
            except SourceError:
                text = None
        added = 0
        for ack in fresh:
            if lists.add_ack(
                self.engine, existing.message_id, ack_after_review(ack, text, existing.findings)
            ):
                added += 1
        return added

    def _store(
        self,
        series: Series,
        done: SeriesReview | None,
        state: str,
        verdict: str,
        reply_to: str | None,
        reply: bytes | None,
    ) -> None:
        report = done.report if done else None
        lists.save_list_review(
            self.engine,
            ListReviewRecord(
                message_id=series.root_id,
                list_name=self.settings.operator.list_address,
                series_key=series.key,
                version=series.version,
                title=series.title,
                author=series.author,
                posted_at=series.posted_at,
                base_sha=done.change.base if done else None,
                verdict=verdict,
                state=state,
                findings=tuple(stored_finding(f) for f in report.findings) if report else (),
                overrides=tuple(stored_override(o) for o in report.overrides) if report else (),
                tiers=tuple(
                    {"path": p, "tier": str(d.tier), "reason": d.reason, "source": d.source}
                    for p, d in report.tiers
                )
                if report
                else (),
                acks=done.acks if done else (),
                reply_id=reply_to,
                reply=reply,
            ),
        )

    # --- sending ---------------------------------------------------------------

    def flush(self, stats: PassStats) -> None:
        """Send held replies, oldest first, while the hourly limit has room."""
        held = lists.held_replies(self.engine)
        for at, record in enumerate(held):
            if room(self.engine, self.settings.per_hour, self.clock()) == 0:
                stats.held += len(held) - at
                return
            if record.reply is None or not lists.claim_reply(
                self.engine, record.message_id, now=self.clock()
            ):
                continue
            msg = email.message_from_bytes(record.reply, policy=email.policy.SMTP)
            try:
                self.sender.send(msg)
            except SendError as exc:
                # The server is down: keep it for the next pass, send nothing more now.
                log.warning("reply to %s held: %s", record.message_id, exc)
                lists.release_reply(self.engine, record.message_id)
                stats.held += 1
                return
            state = ListState.WRITTEN if self.sender.dry_run else ListState.SENT
            lists.finish_reply(self.engine, record.message_id, state, now=self.clock())
            stats.sent += 1
