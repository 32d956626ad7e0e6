"""``migbot digest``: the weekly digest of migration-affecting changes.

From the reviews the service stored (default), or, with ``--repo``, from a git
repository alone: the analyzer runs over what landed on the branch in the
period (and over patch-series refs), so a maintainer with only a mirror gets
the same digest. Settings are loaded here, once, and passed down.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.cli_service import _config_option, _db_option, _settings
from bot.config import Settings
from bot.digest.model import Digest
from bot.digest.period import Period, PeriodError, weeks_before
from bot.report.common import printable

if TYPE_CHECKING:
    from sqlalchemy import Engine


class _Usage(click.ClickException):
    """Bad input: exit code 2, one line."""

    exit_code = 2

    def show(self, file: object = None) -> None:
        click.echo(f"migbot: {printable(self.format_message())}", err=True)


def _from_git(
    settings: Settings,
    repo: Path,
    branch: str,
    period: Period,
    weeks: int,
    series: tuple[str, ...],
    exclude: tuple[str, ...],
    jobs: int,
    cache: bool,
    now: datetime,
) -> Digest:
    from bot.digest.analysis import default_cache_dir
    from bot.digest.build import build
    from bot.digest.gitsource import LinkTemplates, changes_from_git
    from bot.sources.errors import SourceError
    from bot.sources.gitrepo import GitRepo

    start = min(period.since, weeks_before(period.until, weeks)[0])
    links = LinkTemplates(settings.digest_commit_url or None, settings.digest_series_url or None)
    try:
        with GitRepo(repo) as git:
            changes = changes_from_git(
                git,
                branch,
                start,
                period.until,
                series_patterns=series,
                series_exclude=exclude,
                links=links,
                jobs=jobs,
                cache_dir=default_cache_dir() if cache else None,
                progress=lambda msg: click.echo(f"migbot: {msg}", err=True),
            )
    except SourceError as exc:
        raise _Usage(str(exc)) from None
    return build(changes, period, generated_at=now, source=f"git {branch} at {repo}", weeks=weeks)


@click.command("digest")
@_config_option
@_db_option
@click.option(
    "--since",
    default=None,
    help="Start: 7d, 2w, 36h before --until, or a date (default: digest_period, 7d).",
)
@click.option("--until", default=None, help="End, not included: a date (00:00 UTC) or ISO time.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["markdown", "html", "json"]),
    default="markdown",
    show_default=True,
)
@click.option("--post", is_flag=True, help="Publish: the forge issue and/or the HTML directory.")
@click.option(
    "--weeks",
    type=click.IntRange(1, 104),
    default=None,
    help="Weeks in the per-week counts (default: digest_weeks; with --repo, the period's).",
)
@click.option(
    "--repo",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Build from this git repository (bare is fine) instead of the stored reviews.",
)
@click.option("--branch", default=None, help="Branch whose first-parent history is walked.")
@click.option(
    "--series-refs",
    "series",
    multiple=True,
    help="Glob of patch-series refs to analyse too (e.g. 'refs/heads/2026*'); repeatable.",
)
@click.option(
    "--series-exclude",
    "exclude",
    multiple=True,
    help="Glob of refs to leave out (e.g. '*_ci'); repeatable.",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Analyzer processes (--repo).",
)
@click.option(
    "--cache/--no-cache",
    default=True,
    show_default=True,
    help="Keep each analysed range (by commit ids and migbot version) for the next run.",
)
@click.option(
    "--forge",
    type=click.Choice(["gitlab", "github"]),
    default=None,
    help="Forge of the digest issue (default: digest_forge).",
)
@click.option("--project", default=None, help="Project of the issue (default: digest_project).")
@click.option("--label", "labels", multiple=True, help="Label for the issue; repeatable.")
@click.option(
    "--html-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Directory for the HTML page (default: digest_html_dir).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the digest here instead of standard output.",
)
def digest(
    config_file: Path | None,
    database_url: str | None,
    since: str | None,
    until: str | None,
    fmt: str,
    post: bool,
    weeks: int | None,
    repo: Path | None,
    branch: str | None,
    series: tuple[str, ...],
    exclude: tuple[str, ...],
    jobs: int,
    cache: bool,
    forge: str | None,
    project: str | None,
    labels: tuple[str, ...],
    html_dir: str | None,
    output: Path | None,
) -> None:
    """Digest of the changes that touched migration state in a period.

    \b
    Grouped by outcome (still open with errors, merged with an override,
    fixed before merge, merged clean) and tier; with the compat entries added
    per release array, counts per week, per subsystem, and the rules that fired.
    """
    from bot.digest.render import render

    settings = _settings(config_file, database_url=database_url)
    now = datetime.now(UTC)
    try:
        period = Period.parse(since or settings.digest_period, until, now)
    except PeriodError as exc:
        raise _Usage(str(exc)) from None
    engine = None
    if repo is not None:
        # Only the weeks the period touches: each week more is analysed too.
        n_weeks = weeks or period.week_count
        result = _from_git(
            settings,
            repo,
            branch or settings.digest_branch,
            period,
            n_weeks,
            series,
            exclude,
            jobs,
            cache,
            now,
        )
    else:
        from bot.digest.stored import digest_from_store
        from bot.store.db import make_engine, migrate

        engine = make_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
        migrate(engine)
        result = digest_from_store(engine, period, weeks=weeks or settings.digest_weeks, now=now)
    text = render(result, fmt)
    if output is not None:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
    if post:
        _post(settings, engine, result, forge, project, labels, html_dir)
    if engine is not None:
        engine.dispose()


def _post(
    settings: Settings,
    engine: Engine | None,
    result: Digest,
    forge: str | None,
    project: str | None,
    labels: tuple[str, ...],
    html_dir: str | None,
) -> None:
    from bot.digest.publish import PublishError, post, target_from_settings
    from bot.digest.schedule import owner_id
    from bot.forges import build_forges
    from bot.forges.base import ForgeError

    try:
        target = target_from_settings(
            settings,
            build_forges(settings),
            forge=forge,
            project=project,
            labels=labels or None,
            html_dir=html_dir,
        )
        if not target.anywhere and engine is None:
            raise PublishError(
                "nowhere to post: set digest_project (and a forge) or digest_html_dir"
            )
        published = post(engine, result, target, owner=owner_id())
    except (PublishError, ForgeError) as exc:
        raise click.ClickException(str(exc)) from None
    if published.issue_url:
        click.echo(f"migbot: digest issue {published.issue_url}", err=True)
    if published.page_path:
        click.echo(f"migbot: digest page {published.page_path}", err=True)
    if not target.anywhere:
        click.echo("migbot: digest stored (no issue or page configured)", err=True)


if __name__ == "__main__":
    sys.exit(digest())
