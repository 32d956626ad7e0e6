"""Fixtures of the analyzer tests: the mini QEMU tree in a real git repository."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.analyzer.minirepo import (
    FileEdits,
    MiniRepo,
    clone,
    make_template,
)
from tests.analyzer.minirepo import commit_change as _commit_change


@pytest.fixture(scope="session", autouse=True)
def _private_tier_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Tier maps of the test trees go to a temporary cache, not ~/.cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MIGBOT_CACHE_DIR", str(tmp_path_factory.mktemp("migbot-cache")))
        yield


@pytest.fixture(scope="session")
def mini_template(tmp_path_factory: pytest.TempPathFactory) -> MiniRepo:
    """The mini tree committed once per session (tag ``base``); copy it, never write to it."""
    return make_template(tmp_path_factory.mktemp("qemu-mini-template"))


@pytest.fixture
def mini_repo(mini_template: MiniRepo, tmp_path: Path) -> MiniRepo:
    """A private copy of the mini tree repository for one test."""
    return clone(mini_template, tmp_path)


@pytest.fixture
def commit_change() -> Callable[[MiniRepo, FileEdits], str]:
    """``commit_change(repo, {path: new_text or None})`` -> sha of the new commit."""
    return _commit_change
