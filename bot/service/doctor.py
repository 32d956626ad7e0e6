"""``migbot doctor``: the service's settings checked against each other.

One line per problem, a fix in each: a forge half configured, a secret for a
forge that is not, a database that cannot be reached or is not migrated, a
digest that is scheduled to post but has nowhere to go. ``migbot serve`` runs
the same checks when it starts and logs what they find.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from bot.settings import Settings, redact_url


def forge_problems(s: Settings, *, files: bool = True) -> list[str]:
    """``files``: also check that the files the settings name can be read here."""
    out: list[str] = []
    gitlab_secret = s.gitlab_webhook_token or s.gitlab_signing_token
    gitlab_any = s.gitlab_url or s.gitlab_token
    if gitlab_any:
        if not s.gitlab_url:
            out.append("GitLab: MIGBOT_GITLAB_TOKEN is set but MIGBOT_GITLAB_URL is not")
        if not s.gitlab_token:
            out.append(
                "GitLab: MIGBOT_GITLAB_URL is set but MIGBOT_GITLAB_TOKEN (api scope) is not"
            )
        if not gitlab_secret and not s.insecure_no_verify:
            out.append(
                "GitLab: no webhook secret: set MIGBOT_GITLAB_WEBHOOK_TOKEN (or "
                "MIGBOT_GITLAB_SIGNING_TOKEN) to the webhook's secret token"
            )
    elif gitlab_secret:
        out.append(
            "GitLab: a webhook secret is set but GitLab is not configured: set "
            "MIGBOT_GITLAB_URL and MIGBOT_GITLAB_TOKEN, or remove the secret"
        )
    app = s.github_app_id or s.github_app_key_file
    if s.github_token or app:
        if app and not (s.github_app_id and s.github_app_key_file):
            out.append(
                "GitHub: a GitHub App needs both MIGBOT_GITHUB_APP_ID and "
                "MIGBOT_GITHUB_APP_KEY_FILE"
            )
        if files and s.github_app_key_file and not os.access(s.github_app_key_file, os.R_OK):
            out.append(f"GitHub: the App key file {s.github_app_key_file} cannot be read")
        if not s.github_webhook_secret and not s.insecure_no_verify:
            out.append("GitHub: no webhook secret: set MIGBOT_GITHUB_WEBHOOK_SECRET")
    elif s.github_webhook_secret:
        out.append(
            "GitHub: MIGBOT_GITHUB_WEBHOOK_SECRET is set but GitHub is not configured: set "
            "MIGBOT_GITHUB_APP_ID and MIGBOT_GITHUB_APP_KEY_FILE (or MIGBOT_GITHUB_TOKEN)"
        )
    if not gitlab_any and not (s.github_token or app):
        out.append(
            "no forge is configured: set MIGBOT_GITLAB_URL and MIGBOT_GITLAB_TOKEN, or the "
            "GitHub App settings; every delivery would be refused"
        )
    return out


def digest_problems(s: Settings) -> list[str]:
    if s.digest_schedule.strip().lower() == "off":
        return []
    out: list[str] = []
    if not s.digest_project and not s.digest_html_dir:
        out.append(
            f"digest: scheduled ({s.digest_schedule}) but has no target: set "
            "MIGBOT_DIGEST_PROJECT (or MIGBOT_DIGEST_HTML_DIR), or MIGBOT_DIGEST_SCHEDULE=off "
            "where a CronJob or timer runs the digest"
        )
    forge = s.digest_forge
    if s.digest_project and forge == "gitlab" and not s.gitlab_enabled:
        out.append("digest: MIGBOT_DIGEST_FORGE=gitlab but GitLab is not configured")
    if s.digest_project and forge == "github" and not s.github_enabled:
        out.append("digest: MIGBOT_DIGEST_FORGE=github but GitHub is not configured")
    if s.digest_project and forge is None and s.gitlab_enabled and s.github_enabled:
        out.append(
            "digest: both forges are configured: set MIGBOT_DIGEST_FORGE to say where "
            f"{s.digest_project} is"
        )
    return out


def database_problems(s: Settings) -> list[str]:
    from bot.store.db import alembic_config, current_revision, make_engine

    shown = redact_url(s.database_url)
    try:
        engine = make_engine(s.database_url, sqlite_synchronous=s.sqlite_synchronous)
    except Exception as exc:  # every way a URL can be wrong is one line here
        return [f"database: bad URL {shown}: {_first(exc)}"]
    try:
        current = current_revision(engine)
    except Exception as exc:
        return [f"database: cannot reach {shown}: {_first(exc)}"]
    finally:
        engine.dispose()
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if current != head:
        state = "empty" if current is None else f"at {current}"
        return [
            f"database: {shown} is {state}, not at {head}: run 'migbot jobs' once "
            "(it migrates) or start the service"
        ]
    return []


CHECKS: tuple[Callable[[Settings], list[str]], ...] = (
    forge_problems,
    digest_problems,
    database_problems,
)


def diagnose(settings: Settings, *, database: bool = True) -> list[str]:
    checks = CHECKS if database else CHECKS[:-1]
    return [problem for check in checks for problem in check(settings)]


def _first(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
