"""Forges: webhook parsers (pure) and API adapters (python-gitlab, PyGithub)."""

from __future__ import annotations

from bot.forges.contract import Forge, TreeCache
from bot.settings import Settings


def build_forges(settings: Settings, tree_cache: TreeCache | None = None) -> dict[str, Forge]:
    """The forges the settings configure (none when neither has credentials)."""
    cache = tree_cache or TreeCache()
    forges: dict[str, Forge] = {}
    if settings.gitlab_enabled:
        from bot.forges.gitlab.client import GitLabForge

        assert settings.gitlab_url is not None
        assert settings.gitlab_token is not None
        forges["gitlab"] = GitLabForge(
            settings.gitlab_url,
            settings.gitlab_token,
            timeout=settings.forge_timeout_s,
            retries=settings.forge_retries,
            bot_username=settings.gitlab_bot_username,
            mirror=settings.git_mirror,
            tree_cache=cache,
        )
    if settings.github_enabled:
        from bot.forges.github.client import GitHubForge

        forges["github"] = GitHubForge(
            settings.github_api_url,
            token=settings.github_token,
            app_id=settings.github_app_id,
            app_key=settings.github_app_key(),
            timeout=settings.forge_timeout_s,
            retries=settings.forge_retries,
            backoff=settings.forge_backoff_s,
            bot_login=settings.github_bot_login,
            mirror=settings.git_mirror,
            tree_cache=cache,
        )
    return forges
