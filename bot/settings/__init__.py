"""Service settings: read once (environment, then an optional TOML file), passed down.

Nothing else in the service reads the environment. Secrets are kept out of
``repr`` and out of logs; `Settings.redacted` is what may be printed.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.errors import InputError

SECRET_FIELDS = frozenset(
    {
        "gitlab_token",
        "gitlab_webhook_token",
        "gitlab_signing_token",
        "github_token",
        "github_webhook_secret",
    }
)

DEFAULT_DATABASE_FILE = "migbot.sqlite3"


def cache_dir(kind: str) -> Path:
    """``$MIGBOT_CACHE_DIR/<kind>``, else ``~/.cache/migbot/<kind>``.

    Read here, at the doors, and passed down: the pipeline core never reads
    the environment.
    """
    base = os.environ.get("MIGBOT_CACHE_DIR")
    return (Path(base) if base else Path.home() / ".cache" / "migbot") / kind


class ConfigError(InputError):
    """The settings are unusable; the message says which one and why."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the service, the worker and the forges need."""

    database_url: str = f"sqlite:///{DEFAULT_DATABASE_FILE}"
    sqlite_synchronous: str = "NORMAL"
    """SQLite in WAL mode: NORMAL survives a killed process; FULL also a power cut."""
    host: str = "127.0.0.1"
    port: int = 8080
    insecure_no_verify: bool = False

    public_url: str | None = None
    """The address the forges reach this service at (``https://migbot.example.org``):
    rule ids in review comments link to its ``/rules`` page. Unset: to the
    policy's ``[docs] rules``, else to QEMU's migration docs."""
    gitlab_url: str | None = None
    gitlab_token: str | None = field(default=None, repr=False)
    gitlab_webhook_token: str | None = field(default=None, repr=False)
    gitlab_signing_token: str | None = field(default=None, repr=False)
    """Standard-Webhooks signing token (``whsec_...``) for GitLab's signed webhooks."""
    gitlab_bot_username: str | None = None
    """The bot's own GitLab account; asked from the API (``GET /user``) when unset."""

    github_api_url: str = "https://api.github.com"
    github_token: str | None = field(default=None, repr=False)
    github_app_id: int | None = None
    github_app_key_file: str | None = None
    github_webhook_secret: str | None = field(default=None, repr=False)
    github_bot_login: str | None = None
    """The bot's own GitHub login (``name[bot]`` for an App); asked when unset."""

    max_body_bytes: int = 2 * 1024 * 1024
    signature_tolerance_s: int = 300
    """How old a GitLab signed delivery may be (Standard Webhooks timestamp)."""

    run_worker: bool = True
    """Run the worker inside ``migbot serve`` (``migbot worker`` runs it alone)."""
    worker_process: bool = False
    """With ``run_worker``: run it as a child process that ``migbot serve`` starts,
    restarts and stops, rather than in threads of the serving process. Reviews are
    CPU work that holds the GIL; apart, they never delay an acknowledgement."""
    worker_nice: int = 0
    """Niceness ``migbot worker`` gives itself, so reviews yield the CPU to the
    service on a small host."""
    worker_idle_priority: bool | None = None
    """Run ``migbot worker`` under Linux's ``SCHED_IDLE``: reviews get only the
    CPU nothing else wants. Unset: yes for the child of ``migbot serve
    --worker-process``, no for ``migbot worker`` on its own. Stronger than any
    niceness: at nice 19 a busy worker still delayed acknowledgements by tens
    of ms on two cores. Under CPU that stays
    full, reviews wait; a lease that lapses meanwhile is fenced, never
    published twice."""
    worker_concurrency: int = 2
    forge_threads: int = 8
    lease_seconds: float = 60.0
    poll_interval_s: float = 1.0
    max_attempts: int = 5
    retry_backoff_s: float = 5.0
    forge_timeout_s: float = 30.0
    forge_retries: int = 5
    forge_backoff_s: float = 0.5
    stop_grace_s: float = 10.0
    """How long a stopping worker lets running jobs finish before it gives them
    back (their threads are fenced off the forge from then on)."""

    intake_max_in_flight: int = 64
    """Deliveries being stored at once; past it intake answers 503 + Retry-After."""
    intake_batch: int = 64
    """Deliveries stored per database transaction, at most."""
    max_connections: int = 512
    """Open client connections; past it new ones are closed at once."""
    header_timeout_s: float = 10.0
    """Time a client has to send a whole request (headers and body)."""
    db_timeout_s: float = 1.5
    """Statement, lock and connect timeout: a delivery gets 503 within 2 s."""

    inline_cap: int = 25
    commit_status: bool = False
    affected_label: str | None = None
    """Label added to MRs with migration-affecting findings (e.g. ``migration::affected``)."""
    git_mirror: str | None = None
    """A bare git mirror of the reviewed repository, read with ``git cat-file``."""
    log_format: str = "json"
    log_level: str = "info"

    digest_schedule: str = "mon 08:00"
    """When ``migbot serve`` posts the digest itself, UTC (``mon,thu 07:30``, ``daily 06:00``);
    ``off`` when a CronJob or systemd timer runs ``migbot digest --post`` instead."""
    digest_period: str = "7d"
    """How far back a scheduled digest looks from its slot."""
    digest_weeks: int = 8
    """Weeks shown in the per-week counts and chart."""
    digest_forge: str | None = None
    """``gitlab`` or ``github``: where the digest issue goes (the only forge configured
    when unset)."""
    digest_project: str | None = None
    """Project (``group/name``) the digest issue is opened in; no issue when unset."""
    digest_labels: str = "migration,digest"
    """Comma-separated labels for the digest issue."""
    digest_html_dir: str | None = None
    """Directory the HTML page is written to (``index.html`` and one page per period)."""
    digest_branch: str = "master"
    """Branch whose first-parent history ``migbot digest --repo`` walks."""
    digest_commit_url: str | None = "https://gitlab.com/qemu-project/qemu/-/commit/{sha}"
    """Link for a commit in a digest made from git (``{sha}``); empty for none."""
    digest_series_url: str | None = "https://lore.kernel.org/qemu-devel/{name}/"
    """Link for a series ref named by its Message-ID (``{name}``); empty for none."""

    def __post_init__(self) -> None:
        if self.worker_concurrency < 1:
            raise ConfigError("worker_concurrency must be at least 1")
        if self.inline_cap < 0:
            raise ConfigError("inline_cap must not be negative")
        if self.max_attempts < 1:
            raise ConfigError("max_attempts must be at least 1")
        if self.sqlite_synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ConfigError("sqlite_synchronous must be NORMAL, FULL or EXTRA")
        self._check_digest()

    def _check_digest(self) -> None:
        from bot.settings.timespec import PeriodError, parse_moment, parse_schedule

        try:
            parse_schedule(self.digest_schedule)
            # Any moment will do: only the form of the value is checked.
            parse_moment(self.digest_period, datetime(2000, 1, 1, tzinfo=UTC))
        except PeriodError as exc:
            raise ConfigError(str(exc)) from None
        if self.digest_forge not in (None, "gitlab", "github"):
            raise ConfigError("digest_forge must be gitlab or github")
        if self.digest_weeks < 1:
            raise ConfigError("digest_weeks must be at least 1")

    @property
    def rule_docs(self) -> str | None:
        """Where rule ids link: this service's ``/rules`` page when it is public."""
        return f"{self.public_url.rstrip('/')}/rules" if self.public_url else None

    @property
    def digest_target_forge(self) -> str | None:
        """Where the digest issue goes: ``digest_forge``, else the only forge configured."""
        if self.digest_forge:
            return self.digest_forge
        enabled = [
            name
            for name, on in (("gitlab", self.gitlab_enabled), ("github", self.github_enabled))
            if on
        ]
        return enabled[0] if len(enabled) == 1 else None

    @property
    def gitlab_enabled(self) -> bool:
        return bool(self.gitlab_url and self.gitlab_token)

    @property
    def github_enabled(self) -> bool:
        return bool(self.github_token or (self.github_app_id and self.github_app_key_file))

    def webhook_secrets_missing(self) -> list[str]:
        """Names of the webhook secrets an enabled intake lacks."""
        missing: list[str] = []
        if not (self.gitlab_webhook_token or self.gitlab_signing_token):
            missing.append("MIGBOT_GITLAB_WEBHOOK_TOKEN")
        if not self.github_webhook_secret:
            missing.append("MIGBOT_GITHUB_WEBHOOK_SECRET")
        return missing

    def github_app_key(self) -> str | None:
        if not self.github_app_key_file:
            return None
        return Path(self.github_app_key_file).read_text(encoding="utf-8")

    def redacted(self) -> dict[str, Any]:
        """The settings as a mapping fit for a log line: secrets shown as set or not."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in SECRET_FIELDS:
                out[f.name] = "<set>" if value else None
            elif f.name == "database_url":
                out[f.name] = redact_url(str(value))
            else:
                out[f.name] = value
        return out


def redact_url(url: str) -> str:
    """Hide a password in a database URL."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else url


_ENV_PREFIX = "MIGBOT_"


def _coerce(name: str, raw: Any, kind: type) -> Any:
    if raw is None:
        return None
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"{name}: expected a boolean, got {raw!r}")
    if kind is int:
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{name}: expected an integer, got {raw!r}") from None
    if kind is float:
        try:
            return float(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{name}: expected a number, got {raw!r}") from None
    return str(raw)


def _field_kinds() -> dict[str, type]:
    kinds: dict[str, type] = {}
    hints = {
        "bool": bool,
        "bool | None": bool,
        "int": int,
        "float": float,
        "int | None": int,
        "float | None": float,
    }
    for f in fields(Settings):
        kinds[f.name] = hints.get(str(f.type), str)
    return kinds


def load_settings(
    environ: Mapping[str, str] | None = None,
    config_file: str | Path | None = None,
    **overrides: Any,
) -> Settings:
    """Build settings: defaults < TOML file < environment < explicit overrides.

    The TOML file holds the same names as the settings, without prefix, at top
    level or under a ``[migbot]`` table.
    """
    env = os.environ if environ is None else environ
    kinds = _field_kinds()
    values: dict[str, Any] = {}
    if config_file is not None:
        try:
            data = tomllib.loads(Path(config_file).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read {config_file}: {exc}") from exc
        table = data.get("migbot", data)
        for key, raw in table.items():
            if key not in kinds:
                raise ConfigError(f"{config_file}: unknown setting {key!r}")
            values[key] = _coerce(key, raw, kinds[key])
    for key, kind in kinds.items():
        env_name = _ENV_PREFIX + key.upper()
        if env_name in env:
            values[key] = _coerce(env_name, env[env_name], kind)
    for key, raw in overrides.items():
        if raw is None:
            continue
        if key not in kinds:
            raise ConfigError(f"unknown setting {key!r}")
        values[key] = raw
    return replace(Settings(), **values)


def settings_environ(settings: Settings) -> dict[str, str]:
    """The ``MIGBOT_*`` variables that make `load_settings` give ``settings`` back.

    For a child process (the worker ``migbot serve`` supervises): passing
    settings through its environment keeps secrets off the command line.
    """
    out: dict[str, str] = {}
    for f in fields(Settings):
        value = getattr(settings, f.name)
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        out[_ENV_PREFIX + f.name.upper()] = str(value)
    return out
