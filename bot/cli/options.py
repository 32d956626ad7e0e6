"""What the commands share: usage errors, exit codes, and the common options."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from bot.findings import Report, Severity, Tier
from bot.report.common import printable
from bot.settings import ConfigError, Settings, load_settings

FAIL_ON = {"error": Severity.ERROR, "warning": Severity.WARNING, "never": None}
TIERS = [t.value for t in Tier]


class UsageFailure(click.ClickException):
    """Bad input or usage: one line on standard error, exit code 2 unless told."""

    exit_code = 2

    def __init__(self, message: str, *, exit_code: int = 2) -> None:
        super().__init__(message)
        # click reads the class attribute; an instance may say otherwise.
        self.__dict__["exit_code"] = exit_code

    def show(self, file: object = None) -> None:
        # A message may quote input (a path, a revision): no control character reaches a terminal.
        click.echo(f"migbot: {printable(self.format_message())}", err=True)


def exit_for(report: Report, fail_on: str) -> NoReturn:
    """0 when nothing reaches ``--fail-on``, 1 when something does."""
    threshold = FAIL_ON[fail_on]
    sys.exit(1 if threshold is not None and report.reaches(threshold) else 0)


def use_color(color: bool | None, fmt: str) -> bool:
    """``--color/--no-color``, else colour only for text on a terminal."""
    return fmt == "text" and (sys.stdout.isatty() if color is None else color)


fail_on_option = click.option(
    "--fail-on",
    type=click.Choice(list(FAIL_ON)),
    default="error",
    show_default=True,
    help="Exit 1 when a finding reaches this severity.",
)
color_option = click.option(
    "--color/--no-color", default=None, help="Colour (default: when on a terminal)."
)
config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file with settings (the environment overrides it).",
)
db_option = click.option(
    "--database-url", default=None, help="Overrides MIGBOT_DATABASE_URL (default: SQLite file)."
)


def cli_settings(config_file: Path | None, **overrides: Any) -> Settings:
    """The settings, read once at the door; a bad value is a usage error."""
    from bot.store.db import DatabaseLocationError, check_database_url

    try:
        settings = load_settings(config_file=config_file, **overrides)
        check_database_url(settings.database_url)
    except (ConfigError, DatabaseLocationError) as exc:
        raise click.UsageError(str(exc)) from exc
    return settings
