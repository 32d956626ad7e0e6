"""``migbot mail``: follow a mailing-list archive and answer series on the list."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from bot.cli.options import cli_settings, config_option, db_option


def _date(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"not a date: {value!r} (use YYYY-MM-DD)") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@click.command()
@config_option
@db_option
@click.option(
    "--archive",
    type=click.Path(path_type=Path),
    help="A public-inbox v2 archive (git/0.git, git/1.git, ...).",
)
@click.option("--mbox", type=click.Path(path_type=Path), help="An mbox file to read instead.")
@click.option("--maildir", type=click.Path(path_type=Path), help="A Maildir to read instead.")
@click.option(
    "--repo", required=True, type=click.Path(path_type=Path), help="The QEMU mirror (bare is fine)."
)
@click.option("--branch", default="master", show_default=True, help="Base when no base-commit.")
@click.option("--since", help="Where a first run starts (YYYY-MM-DD); later runs resume.")
@click.option(
    "--dry-run",
    "dry_run",
    type=click.Path(path_type=Path),
    help="Write each reply as an RFC 822 file in this folder; send nothing.",
)
@click.option("--smtp", default="localhost:25", show_default=True, help="SMTP HOST[:PORT].")
@click.option("--smtp-user", help="SMTP login; the password is read from MIGBOT_SMTP_PASSWORD.")
@click.option("--starttls", is_flag=True, help="Use STARTTLS.")
@click.option("--from", "sender", default="migbot <migbot@localhost>", show_default=True)
@click.option("--domain", help="Domain of the replies' Message-Ids (default: --from's).")
@click.option("--list", "list_address", default="qemu-devel@nongnu.org", show_default=True)
@click.option("--per-hour", default=20, show_default=True, help="Replies per hour (0: no limit).")
@click.option(
    "--wait-hours", default=6.0, show_default=True, help="How long an incomplete series waits."
)
@click.option(
    "--max-age-hours",
    default=72.0,
    show_default=True,
    help="Series older than this are stored, not answered (0: no limit).",
)
@click.option("--window-days", default=30.0, show_default=True, help="Messages assembled.")
@click.option("--mail-clean", is_flag=True, help="Also answer series with no finding.")
@click.option("--follow", is_flag=True, help="Keep polling instead of one pass.")
@click.option("--interval", default=300.0, show_default=True, help="Seconds between polls.")
def mail(
    config_file: Path | None,
    database_url: str | None,
    archive: Path | None,
    mbox: Path | None,
    maildir: Path | None,
    repo: Path,
    branch: str,
    since: str | None,
    dry_run: Path | None,
    smtp: str,
    smtp_user: str | None,
    starttls: bool,
    sender: str,
    domain: str | None,
    list_address: str,
    per_hour: int,
    wait_hours: float,
    max_age_hours: float,
    window_days: float,
    mail_clean: bool,
    follow: bool,
    interval: float,
) -> None:
    """Review each series posted to a list once and reply on the list.

    \b
    Reads new messages (from the last seen commit of each epoch), groups them
    into series with b4, reviews every new version against the mirror, and
    replies to the author and the list. Exit codes: 0 done, 2 bad input.
    """
    from email.utils import parseaddr

    from bot.mail.archive import read_archive, read_maildir, read_mbox
    from bot.mail.follow import Follower, MailSettings, PassStats
    from bot.mail.message import MailError
    from bot.mail.reply import Operator
    from bot.mail.send import FolderWriter, Sender, SmtpSender
    from bot.sources.errors import SourceError
    from bot.sources.gitrepo import open_repo
    from bot.store import lists
    from bot.store.db import make_engine, migrate

    feeds = [x for x in (archive, mbox, maildir) if x is not None]
    if len(feeds) != 1:
        raise click.UsageError("give exactly one of --archive, --mbox, --maildir")
    start = _date(since)
    address = parseaddr(sender)[1]
    if "@" not in address:
        raise click.BadParameter(f"no address in {sender!r}", param_hint="--from")
    operator = Operator(sender, domain or address.split("@", 1)[1], list_address)
    out: Sender
    if dry_run is not None:
        out = FolderWriter(dry_run)
    else:
        host, _, port = smtp.partition(":")
        out = SmtpSender(
            host,
            int(port or 25),
            starttls=starttls,
            user=smtp_user,
            password=os.environ.get("MIGBOT_SMTP_PASSWORD"),
        )
    settings = cli_settings(config_file, database_url=database_url)
    engine = make_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    migrate(engine)
    try:
        git = open_repo(repo)
    except SourceError as exc:
        raise click.UsageError(str(exc)) from None
    follower = Follower(
        engine,
        git,
        out,
        MailSettings(
            operator=operator,
            branch=branch,
            wait=timedelta(hours=wait_hours),
            max_age=timedelta(hours=max_age_hours) if max_age_hours > 0 else None,
            per_hour=per_hour,
            mail_clean=mail_clean,
            window=timedelta(days=window_days),
        ),
    )
    feed_path = feeds[0].resolve()
    prefix = f"{feed_path}#"
    try:
        while True:
            if archive is not None:
                feed = read_archive(archive, lists.cursors(engine, prefix), start)
            elif mbox is not None:
                feed = read_mbox(mbox)
            else:
                assert maildir is not None
                feed = read_maildir(maildir)
            stats: PassStats = follower.ingest(feed, cursor_prefix=prefix, since=start)
            follower.step(stats)
            click.echo(_summary(stats, dry_run is not None))
            if not follow:
                break
            time.sleep(interval)
    except MailError as exc:
        raise click.UsageError(str(exc)) from None
    finally:
        git.close()
        engine.dispose()


def _summary(stats: object, dry_run: bool) -> str:
    from bot.mail.follow import PassStats

    assert isinstance(stats, PassStats)
    per = sum(stats.seconds) / len(stats.seconds) if stats.seconds else 0.0
    verb = "written" if dry_run else "sent"
    return (
        f"read {stats.read} messages, kept {stats.kept}; reviewed {stats.reviewed} series"
        f" versions ({per:.2f} s each), {stats.failed} not reviewable, {stats.waiting} waiting;"
        f" replies {verb}: {stats.sent}, held by the hourly limit: {stats.held},"
        f" quiet: {stats.quiet}; acks recorded: {stats.acks}"
    )
