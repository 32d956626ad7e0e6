"""Is the mirror fresh enough for the period asked? A stale mirror gives an empty
digest that looks like a quiet week; say so instead."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.sources.gitrepo import GitRepo


def newest_commit(repo: GitRepo, branch: str) -> datetime | None:
    """Committer date of the branch's tip; None when it cannot be read."""
    out = repo.run(["log", "-1", "--format=%ct", branch, "--"], ok=(0, 128)).strip()
    return datetime.fromtimestamp(int(out), UTC) if out.isdigit() else None


def staleness(repo: GitRepo, branch: str, since: datetime) -> str | None:
    """A warning when the branch's newest commit is older than ``since``."""
    newest = newest_commit(repo, branch)
    if newest is None or newest >= since:
        return None
    return (
        f"the newest commit on {branch} is from {newest:%Y-%m-%d %H:%M} UTC, before the "
        f"period asked for (from {since:%Y-%m-%d %H:%M} UTC): the digest will be empty; "
        "fetch the repository first (git fetch), or ask for an older period (--until)"
    )
