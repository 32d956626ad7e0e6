"""``migbot doctor``: one line per problem in the service's settings; exit 1 if any."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command("doctor")
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="TOML settings file (as for serve).",
)
@click.option("--database-url", default=None, help="Overrides MIGBOT_DATABASE_URL.")
def doctor(config_file: Path | None, database_url: str | None) -> None:
    """Check the service settings against each other before deploying.

    \b
    Exit codes: 0 no problem, 1 problems (one line each), 2 unreadable settings.
    """
    from bot.cli.errors import OneLine
    from bot.service.doctor import diagnose
    from bot.settings import ConfigError, load_settings

    try:
        settings = load_settings(config_file=config_file, database_url=database_url)
    except ConfigError as exc:
        raise OneLine(str(exc)) from None
    problems = diagnose(settings)
    for problem in problems:
        click.echo(f"migbot doctor: {problem}")
    if problems:
        sys.exit(1)
    click.echo("migbot doctor: no problem found")
