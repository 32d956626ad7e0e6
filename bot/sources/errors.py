"""The one error every source raises."""

from __future__ import annotations

from bot.errors import InputError


class SourceError(InputError):
    """A change could not be read: bad revision, not a repository, not a patch.

    The message is one line meant for a person; the CLI prints it and exits 2.
    """

    def __init__(self, reason: str) -> None:
        # A multi-line message (git's stderr, an offending diff line) would
        # break the one-line contract of logs and CLI output.
        super().__init__(" ".join(reason.split()))
