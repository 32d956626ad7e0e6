"""Real git repositories holding the QEMU-like test tree of tests/fixtures/qemu-mini.

The tree is committed once per session (`make_template`); each test copies
that repository (`clone`) and adds its own commits (`commit_change`), so the
analyzer runs end to end on a real repository, through `change_from_range`.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from tests.gitenv import git_env

ROOT = Path(__file__).resolve().parents[2]
MINI_TREE = ROOT / "tests" / "fixtures" / "qemu-mini"
VENV_BIN = ROOT / ".venv" / "bin"

FileEdits = Mapping[str, "str | bytes | None"]
"""Path -> new content of the file; None deletes it."""


class MiniRepo:
    """A non-bare repository of the mini tree that a test writes commits to."""

    def __init__(self, path: Path, home: Path) -> None:
        self.path = path
        self.home = home
        self.env = git_env(home)

    def git_bytes(self, *args: str) -> bytes:
        proc = subprocess.run(
            ["git", *args], cwd=self.path, env=self.env, capture_output=True, check=False
        )
        assert proc.returncode == 0, proc.stderr.decode(errors="replace")
        return proc.stdout

    def git(self, *args: str) -> str:
        return self.git_bytes(*args).decode()

    def format_patch(self, rev: str = "HEAD", *options: str) -> bytes:
        """``git format-patch`` mail of one commit, as bytes (sources may not be UTF-8)."""
        return self.git_bytes("format-patch", "-1", "--stdout", *options, rev)

    def read(self, path: str) -> str:
        """A file of the work tree (the last commit's content)."""
        return (self.path / path).read_text()

    def write(self, files: FileEdits) -> None:
        for path, content in files.items():
            target = self.path / path
            if content is None:
                target.unlink(missing_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, str):
                target.write_text(content)
            else:
                target.write_bytes(content)

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.rev("HEAD")

    def rev(self, rev: str) -> str:
        return self.git("rev-parse", "--verify", rev).strip()


def commit_change(repo: MiniRepo, files: FileEdits, message: str = "test: change") -> str:
    """Write ``files`` (None deletes) over the work tree and commit; the new sha."""
    repo.write(files)
    return repo.commit(message)


def make_template(dest: Path) -> MiniRepo:
    """The mini tree committed as the first commit of a new repository at ``dest``."""
    home = dest / "home"
    home.mkdir(parents=True)
    (home / "gitconfig").write_text("")
    path = dest / "repo"
    shutil.copytree(MINI_TREE, path)
    repo = MiniRepo(path, home)
    repo.git("init", "-q", "-b", "master")
    repo.git("config", "commit.gpgsign", "false")
    repo.git("config", "core.autocrlf", "false")
    repo.commit("qemu-mini: the base tree")
    repo.git("tag", "base")
    return repo


def clone(template: MiniRepo, dest: Path) -> MiniRepo:
    """A private copy of ``template`` (a plain copy: cheaper than git clone)."""
    shutil.copytree(template.path, dest / "repo", symlinks=True)
    return MiniRepo(dest / "repo", template.home)
