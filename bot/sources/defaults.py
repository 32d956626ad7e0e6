"""``migbot check`` with no arguments: the repository around us, the branch's commits.

The repository is the one that holds the current directory (a work tree or a
bare repository). The range is the current branch against its upstream
(``@{upstream}..HEAD``), else against the merge base with ``origin/master``,
``origin/main``, ``master`` or ``main``, the first that exists.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from bot.sources.errors import SourceError
from bot.sources.gitrepo import GitRepo, git_env

_MAINLINES = ("origin/master", "origin/main", "master", "main")


def repo_around(cwd: Path) -> Path | None:
    """The top of the work tree (or the bare repository) that holds ``cwd``."""

    def ask(option: str) -> str | None:
        proc = subprocess.run(
            ["git", "-C", str(cwd), "rev-parse", option],
            capture_output=True,
            env=git_env(),
            check=False,
        )
        if proc.returncode != 0:
            return None
        return proc.stdout.decode("utf-8", errors="surrogateescape").strip()

    bare = ask("--is-bare-repository")
    if bare is None:
        return None
    top = ask("--absolute-git-dir" if bare == "true" else "--show-toplevel")
    return Path(top) if top else None


def default_range(repo: GitRepo) -> str:
    """``UPSTREAM..HEAD``; `SourceError` when there is nothing to compare with."""
    upstream = repo.run(
        ["rev-parse", "--verify", "--quiet", "--symbolic-full-name", "@{upstream}"], ok=(0, 1, 128)
    )
    name = upstream.decode().strip()
    if name:
        return f"{name}..HEAD"
    for mainline in _MAINLINES:
        found = repo.run(["rev-parse", "--verify", "--quiet", f"{mainline}^{{commit}}"], ok=(0, 1))
        if found.strip():
            base = repo.merge_base(mainline, "HEAD")
            return f"{base}..HEAD"
    raise SourceError(
        "no upstream branch and no origin/master, origin/main, master or main to compare "
        "with; give a range (A..B) or a commit"
    )


def commits_of(repo: GitRepo, spec: str) -> list[tuple[str, str]]:
    """The commits of a range, oldest first, as (id, subject); one commit for a SHA."""
    if spec.startswith("-"):
        raise SourceError(f"unknown revision: {spec!r}")
    if ".." not in spec:
        commit = repo.commit(spec)
        return [(commit.oid, commit.subject)]
    for end in spec.replace("...", "..").split(".."):
        if end:
            repo.commit(end)  # says which end is missing, and why, before git does
    out = repo.run(["rev-list", "--reverse", "--no-merges", "--format=%s", spec, "--"])
    commits = []
    lines = out.decode("utf-8", errors="replace").splitlines()
    for header, subject in zip(lines[::2], lines[1::2], strict=False):
        commits.append((header.removeprefix("commit ").strip(), subject))
    return commits


def staged_diff(repo: GitRepo) -> bytes:
    """``git diff --cached`` against HEAD: what the next commit would change."""
    return repo.run(
        ["diff", "--cached", "--no-color", "--no-ext-diff", "--no-textconv", "-M", "HEAD", "--"]
    )
