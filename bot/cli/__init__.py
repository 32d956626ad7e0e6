"""``migbot``: the command line. One module per command; shared options in `options`."""

from __future__ import annotations

import importlib
from typing import Any

import click

from bot import __version__
from bot.errors import MigbotError


class _Main(click.Group):
    """Any `MigbotError` that reaches the top is one line and its exit code, not a traceback.
    Commands are imported when asked for (`_COMMANDS`)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*_COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in _COMMANDS:
            module = importlib.import_module(_COMMANDS[cmd_name])
            self.add_command(getattr(module, cmd_name))
        return self.commands.get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MigbotError as exc:
            from bot.cli.options import UsageFailure

            raise UsageFailure(str(exc), exit_code=exc.exit_code) from None


_COMMANDS = {
    "check": "bot.cli.check",
    "tiers": "bot.cli.tiers",
    "serve": "bot.cli.service",
    "worker": "bot.cli.service",
    "jobs": "bot.cli.service",
    "audit": "bot.cli.audit",
    "dump": "bot.cli.audit",
    "compare": "bot.cli.audit",
    "digest": "bot.cli.digest",
    "rule": "bot.cli.rule",
    "doctor": "bot.cli.doctor",
    "mail": "bot.cli.mail",
}
"""Each command and the module that defines it (under the command's name): a
command's module, and what it imports, is loaded only when that command runs
(``migbot check`` never loads the service, the store or the forge clients)."""


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="migbot")
def main() -> None:
    """Review QEMU changes for live-migration compatibility."""
