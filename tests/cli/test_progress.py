"""Progress on a terminal, nothing extra when piped."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

from tests.cli.conftest import ADD_FCR, ADD_MCR2, UART, edit, run
from tests.fixtures.minirepo import MiniRepo


def _on_a_terminal(env: dict[str, str], *args: str, cwd: str) -> tuple[int, str, str]:
    """Standard error on a pseudo-terminal (where the progress goes), stdout piped."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        stdout=subprocess.PIPE,
        stderr=follower,
        env={**env, "TERM": "xterm-256color", "COLUMNS": "100"},
        cwd=cwd,
    )
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    out = proc.stdout.read() if proc.stdout else b""
    code = proc.wait()
    os.close(leader)
    return code, out.decode(), seen.decode(errors="replace")


def test_a_range_shows_progress_on_a_terminal_only(repo: MiniRepo, env: dict[str, str]) -> None:
    repo.git("checkout", "-q", "-b", "topic")
    edit(repo, UART, ADD_FCR, message="hw/char: add fcr")
    edit(repo, UART, ADD_MCR2, message="hw/char: add mcr2")
    piped = run(env, "check", "--no-color", cwd=repo.path)
    assert piped.err == "", "nothing extra when piped"
    code, out, terminal = _on_a_terminal(env, "check", "--no-color", cwd=str(repo.path))
    assert code == piped.code == 1
    assert out == piped.out, "the report itself is the same"
    assert "checking commits" in terminal or "/2 " in terminal, terminal
    assert "\x1b[" in terminal, "drawn with terminal escapes"
