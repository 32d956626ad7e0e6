"""The root of migbot's own errors.

Every error migbot raises on purpose derives from `MigbotError`, and carries
what each door does with it: the command line exits with ``exit_code`` after
one line on standard error; the service answers with ``http_status``. Built-in
bases (``ValueError``, ``LookupError``) are kept beside it where callers catch
those.
"""

from __future__ import annotations


class MigbotError(Exception):
    """An error migbot understands and can explain in one line."""

    exit_code: int = 2
    """Bad input or usage: the command line's exit status."""
    http_status: int = 500
    """What the service answers when this reaches a request."""


class InputError(MigbotError, ValueError):
    """Input that cannot be used as given (a file, a revision, a value)."""

    http_status = 400


class ServiceUnavailable(MigbotError):
    """A dependency (database, forge) cannot answer now: try again later."""

    exit_code = 3
    http_status = 503
