"""The door in: every way a change arrives becomes one `bot.change.Change`.

* `change_from_range` — a commit or ``A..B`` of a git repository (bare is fine);
* `change_from_patch` — a patch, a ``git format-patch`` mbox series or a bare
  diff (stdin), applied in memory on its base when a repository is given;
* `parse_diff` — a unified diff alone, texts unknown.

All of them raise `SourceError` (a ``ValueError``) with a one-line reason.
"""

from __future__ import annotations

from bot.sources.commits import change_from_range
from bot.sources.diff import parse_diff
from bot.sources.errors import SourceError
from bot.sources.gitrepo import GitRepo, open_repo
from bot.sources.patch import change_from_patch

__all__ = [
    "GitRepo",
    "SourceError",
    "change_from_patch",
    "change_from_range",
    "open_repo",
    "parse_diff",
]
