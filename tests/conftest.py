"""Session-wide test setup shared by every test package."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

# The mini QEMU tree's repository fixtures (mini_template, mini_repo, commit_change).
pytest_plugins = ["tests.fixtures.mini_fixtures"]


@pytest.fixture(autouse=True, scope="session")
def _private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Keep tier maps and other caches out of the user's ~/.cache."""
    cache = tmp_path_factory.mktemp("migbot-cache")
    mp = pytest.MonkeyPatch()
    mp.setenv("MIGBOT_CACHE_DIR", str(cache))
    yield cache
    mp.undo()
