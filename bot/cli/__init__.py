"""``migbot``: the command line. One module per command; shared options in `options`."""

from __future__ import annotations

from typing import Any

import click

from bot import __version__
from bot.errors import MigbotError


class _Main(click.Group):
    """Any `MigbotError` that reaches the top is one line and its exit code, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MigbotError as exc:
            from bot.cli.options import UsageFailure

            raise UsageFailure(str(exc), exit_code=exc.exit_code) from None


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="migbot")
def main() -> None:
    """Review QEMU changes for live-migration compatibility."""


def _register_commands() -> None:
    """Each command's module imports its heavy parts lazily."""
    from bot.cli.audit import audit, compare, dump
    from bot.cli.check import check
    from bot.cli.digest import digest
    from bot.cli.doctor import doctor
    from bot.cli.mail import mail
    from bot.cli.rule import rule
    from bot.cli.service import jobs, serve, worker
    from bot.cli.tiers import tiers

    for cmd in (
        check,
        tiers,
        serve,
        worker,
        jobs,
        audit,
        dump,
        compare,
        digest,
        rule,
        doctor,
        mail,
    ):
        main.add_command(cmd)


_register_commands()
