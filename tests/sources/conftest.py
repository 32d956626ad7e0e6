"""Fixtures of the source tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from .gitwork import GitWork


@pytest.fixture
def work(tmp_path: Path) -> GitWork:
    home = tmp_path / "home"
    home.mkdir()
    (home / "gitconfig").write_text("")
    return GitWork(tmp_path / "repo", home)
