"""Shared fixtures live in tests/fakes/fixtures.py."""

from __future__ import annotations

from tests.fakes.fixtures import *  # noqa: F403
