"""Real git repositories for the source tests, and C written for them in QEMU style."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bot.change import FileChange
from tests.fixtures.tree import text_files
from tests.gitenv import git_env


class GitWork:
    """A non-bare repository the test writes to; ``git`` returns stdout bytes."""

    def __init__(self, path: Path, home: Path) -> None:
        self.path = path
        self.env = git_env(home)
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "master")
        self.git("config", "commit.gpgsign", "false")
        self.git("config", "core.autocrlf", "false")

    def git(self, *args: str, input: bytes | None = None) -> bytes:
        proc = subprocess.run(
            ["git", *args],
            cwd=self.path,
            env=self.env,
            input=input,
            capture_output=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr.decode(errors="replace")
        return proc.stdout

    def write(self, path: str, content: str | bytes) -> None:
        target = self.path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode() if isinstance(content, str) else content)

    def remove(self, path: str) -> None:
        self.git("rm", "-q", path)

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.rev("HEAD")

    def rev(self, rev: str) -> str:
        return self.git("rev-parse", "--verify", rev).decode().strip()

    def blob(self, rev: str, path: str) -> bytes:
        return self.git("cat-file", "blob", f"{rev}:{path}")

    def clone_bare(self, target: Path) -> Path:
        subprocess.run(
            ["git", "clone", "-q", "--bare", str(self.path), str(target)],
            env=self.env,
            check=True,
        )
        return target


def assert_hunks_match_texts(fc: FileChange) -> None:
    """Every hunk line sits at its line number in the text of its side."""
    old = (fc.old_text or "").split("\n")
    new = (fc.new_text or "").split("\n")
    assert fc.hunks, fc.path
    for hunk in fc.hunks:
        for line in hunk.lines:
            if line.old_line is not None:
                assert old[line.old_line - 1] == line.text, (fc.path, line)
            if line.new_line is not None:
                assert new[line.new_line - 1] == line.text, (fc.path, line)


# --- QEMU-style C written for these tests: real files in tests/sources/tree ----
#
# The repositories of these tests start empty: what they assert is how git's
# answers are read (paths, hunks, line numbers), so each test writes only the
# files it is about. The texts are the overlay in tests/sources/tree.

TREE = Path(__file__).resolve().parent / "tree"
_FILES = text_files(TREE, base=None)

TIMER_C = _FILES["hw/timer/demo_timer.c"]
"""A timer: a VMSD at version 2 with a ``_V`` field and a subsection."""
UART_C = _FILES["hw/char/demo_uart.c"]
"""A UART: one VMSD with an array."""
COMPAT_C = _FILES["hw/core/machine.c"]
"""Two compat arrays, hw_compat_10_2 and hw_compat_10_1."""
