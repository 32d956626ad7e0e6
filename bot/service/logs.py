"""Structured logs (structlog) that never carry a secret."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any

import structlog

_SECRET_KEYS = ("token", "secret", "password", "authorization", "private_key", "signature")


class Redactor:
    """A structlog processor: hides secret-looking keys and known secret values."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self.secrets = tuple(s for s in secrets if s and len(s) >= 4)

    def __call__(
        self, _logger: Any, _method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key in list(event):
            value = event[key]
            if any(word in key.lower() for word in _SECRET_KEYS) and value:
                event[key] = "<redacted>"
            elif isinstance(value, str) and self.secrets:
                for secret in self.secrets:
                    if secret in value:
                        value = value.replace(secret, "<redacted>")
                event[key] = value
        return event


def configure(
    *, level: str = "info", fmt: str = "json", secrets: Iterable[str | None] = ()
) -> None:
    """Configure structlog once, in the CLI; the library code only logs."""
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            Redactor(secrets),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
