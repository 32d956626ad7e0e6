"""The door in: every way a change arrives becomes one `bot.change.Change`.

* `change_from_range` — a commit or ``A..B`` of a git repository (bare is fine);
* `change_from_patch` — a patch, a ``git format-patch`` mbox series or a bare
  diff (stdin), applied in memory on its base when a repository is given;
* `parse_diff` — a unified diff alone, texts unknown.

All of them raise `SourceError` (a ``ValueError``) with a one-line reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.sources.commits import change_from_range
    from bot.sources.diff import parse_diff
    from bot.sources.errors import SourceError
    from bot.sources.gitrepo import GitRepo, open_repo
    from bot.sources.patch import change_from_patch

_WHERE = {
    "GitRepo": "bot.sources.gitrepo",
    "SourceError": "bot.sources.errors",
    "change_from_patch": "bot.sources.patch",
    "change_from_range": "bot.sources.commits",
    "open_repo": "bot.sources.gitrepo",
    "parse_diff": "bot.sources.diff",
}
"""Each name is imported from its module when first asked for: reading a commit
needs neither the mbox parser nor the patch applier."""


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "GitRepo",
    "SourceError",
    "change_from_patch",
    "change_from_range",
    "open_repo",
    "parse_diff",
]
