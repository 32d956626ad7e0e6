"""On a real QEMU repository (``MIGBOT_QEMU_REPO``, a bare mirror is fine)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from bot.sources import GitRepo, change_from_patch, change_from_range

pytestmark = pytest.mark.qemu


@pytest.fixture(scope="module")
def qemu() -> Path:
    path = os.environ.get("MIGBOT_QEMU_REPO")
    if not path:
        pytest.skip("MIGBOT_QEMU_REPO is not set")
    return Path(path)


def git(repo: Path, *args: str) -> bytes:
    return subprocess.run(
        ["git", f"--git-dir={GitRepo(repo).git_dir}", *args], capture_output=True, check=True
    ).stdout


def test_recent_commits_are_read_fast_and_exactly(qemu: Path) -> None:
    shas = git(qemu, "rev-list", "--no-merges", "-20", "HEAD").decode().split()
    for sha in shas:
        start = time.perf_counter()
        change = change_from_range(qemu, sha)
        assert time.perf_counter() - start < 1.0, sha
        for fc in change.files:
            if fc.new_text is not None and not fc.binary:
                assert fc.new_text.encode() == git(qemu, "cat-file", "blob", f"{sha}:{fc.path}")


def test_a_merged_series_applies_to_its_commits(qemu: Path) -> None:
    for merge in git(qemu, "rev-list", "--merges", "--first-parent", "-10", "HEAD").split():
        tip = merge.decode() + "^2"
        base = git(qemu, "merge-base", merge.decode() + "^1", tip).decode().strip()
        if git(qemu, "rev-list", "--merges", f"{base}..{tip}").strip():
            continue
        mbox = git(
            qemu, "format-patch", "--stdout", "--cover-letter", f"--base={base}", f"{base}..{tip}"
        )
        break
    else:
        pytest.skip("no merged series without merges inside")

    change = change_from_patch(mbox, qemu, None)

    real = {fc.path: fc for fc in change_from_range(qemu, f"{base}..{tip}").files}
    for fc in change.files:
        if fc.texts_known:
            assert fc.new_text == real[fc.path].new_text, fc.path
