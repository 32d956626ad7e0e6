"""Fixtures of the digest tests: the shared ones (databases, fake forges) and Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.fakes.fixtures import *  # noqa: F403
from tests.fakes.fixtures import IN_CI

CHROMIUM = "/usr/bin/chromium"


def _install_chromium() -> str | None:
    """Debian's chromium package, installed once when missing (the tests run as root)."""
    if os.path.exists(CHROMIUM):
        return None
    apt = shutil.which("apt-get")
    if apt is None:
        return "apt-get is not available"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    steps = ([apt, "update", "-q"], [apt, "install", "-y", "-q", "chromium"])
    for step in steps:
        proc = subprocess.run(step, capture_output=True, text=True, env=env, timeout=900)
        if proc.returncode != 0:
            return f"{' '.join(step)} failed: {proc.stderr.strip()[-400:]}"
    return None if os.path.exists(CHROMIUM) else f"{CHROMIUM} missing after install"


@pytest.fixture(scope="session")
def chromium() -> str:
    problem = _install_chromium()
    if problem is not None:
        message = f"cannot get Chromium: {problem}"
        if IN_CI:
            pytest.fail(message + " (CI=true: the browser tests must run)")
        pytest.skip(message)
    return CHROMIUM
