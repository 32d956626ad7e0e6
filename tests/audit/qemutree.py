"""The audit tests' tree, in QEMU's style, and its git history.

The base tree's vmstate.h, then two overlay folders of real files written
for these tests: tests/audit/tree/``release-9.0`` (the tree at release 9.0.0:
the QOM roots, PCI, one UART) and ``devel-11.0`` laid over it (the
development tree of 11.0). Every device
of the second carries one problem the audit must find (or one it must not
report), in the files and with the macros a real tree would use.

The audit's assertions are about the whole tree (how many VMSDs, sections
and files it holds, exactly which findings it has), so this tree takes only
the macro header from the base tree of tests/fixtures: its devices would be
counted too.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

from tests.fixtures.tree import base_subset, text_files
from tests.gitenv import git_env

TREE = Path(__file__).resolve().parent / "tree"
HEADERS = base_subset("include/migration/vmstate.h")
"""The base tree's ``VMSTATE_*`` macros."""
RELEASE = TREE / "release-9.0"
"""Committed as "Update version for v9.0.0 release"."""
DEVEL = TREE / "devel-11.0"
"""Committed over it: devices, machines and compat properties of the 11.0 cycle."""


def source(path: str) -> str:
    """A file of the tree at its head (the 11.0 development tree)."""
    return text_files(HEADERS, RELEASE, DEVEL, base=None)[path]


class Repo:
    """A non-bare repository: write files, commit them, read git's answers."""

    def __init__(self, path: Path, home: Path) -> None:
        self.path = path
        home.mkdir(parents=True, exist_ok=True)
        (home / "gitconfig").write_text("")
        self.env = git_env(home)
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "master")
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str) -> str:
        proc = subprocess.run(
            ["git", *args], cwd=self.path, env=self.env, capture_output=True, check=False
        )
        assert proc.returncode == 0, proc.stderr.decode(errors="replace")
        return proc.stdout.decode()

    def commit(self, files: Mapping[str, str | None], message: str) -> str:
        for path, text in files.items():
            target = self.path / path
            if text is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD").strip()


def make_tree(path: Path) -> Repo:
    """The tree at release 9.0.0, then the development tree of 11.0."""
    repo = Repo(path / "qemu", path / "home")
    repo.commit(text_files(HEADERS, RELEASE, base=None), "Update version for v9.0.0 release")
    repo.commit(
        text_files(DEVEL, base=None), "Devices, machines and compat properties of the 11.0 cycle"
    )
    return repo
