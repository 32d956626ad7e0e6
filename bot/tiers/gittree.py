"""A `Tree` over one revision of a git repository (bare or not).

A thin door onto `bot.sources.gitrepo.GitRepo`, which reads through one
``git cat-file --batch`` process and never runs anything from the repository.
"""

from __future__ import annotations

from pathlib import Path

from bot.change import Tree
from bot.sources.gitrepo import GitRepo


def tree_from_git(repo: Path, rev: str) -> Tree:
    """Read access to ``rev`` of the repository at ``repo``; ``tree_id`` is the tree hash.

    ``grep(needle, pathspec)`` lists the paths containing the fixed string
    ``needle`` under ``pathspec`` (``""`` for the whole tree). Raises
    `bot.sources.errors.SourceError` for a missing repository or revision.
    """
    git = GitRepo(repo)
    return git.tree(git.commit(rev).tree)
