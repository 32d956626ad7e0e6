"""Fixtures of the digest tests: the shared ones (databases, fake forges) and Chromium."""

from __future__ import annotations

import os

import pytest

from tests.fakes.fixtures import *  # noqa: F403
from tests.fakes.fixtures import IN_CI
from tests.fixtures.debian import ensure_package

CHROMIUM = "/usr/bin/chromium"


def _install_chromium() -> str | None:
    return ensure_package("chromium", lambda: os.path.exists(CHROMIUM))


@pytest.fixture(scope="session")
def chromium() -> str:
    problem = _install_chromium()
    if problem is not None:
        message = f"cannot get Chromium: {problem}"
        if IN_CI:
            pytest.fail(message + " (CI=true: the browser tests must run)")
        pytest.skip(message)
    return CHROMIUM
