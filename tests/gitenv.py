"""The environment every test git repository is made in."""

from __future__ import annotations

import os
from pathlib import Path


def git_env(home: Path) -> dict[str, str]:
    """git ignoring the user's config, with a fixed author and fixed dates."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        HOME=str(home),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=str(home / "gitconfig"),
        GIT_AUTHOR_NAME="Ada Tester",
        GIT_AUTHOR_EMAIL="ada@example.org",
        GIT_COMMITTER_NAME="Ada Tester",
        GIT_COMMITTER_EMAIL="ada@example.org",
        GIT_AUTHOR_DATE="2026-02-01T12:00:00+00:00",
        GIT_COMMITTER_DATE="2026-02-01T12:00:00+00:00",
        LC_ALL="C",
    )
    return env
