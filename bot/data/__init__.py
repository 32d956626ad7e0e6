"""Where the rules/ data directory is: the source tree, or the installed package."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path


@cache
def rules_dir() -> Path:
    """The rules/ directory (``MIGBOT_RULES_DIR`` overrides, for deployments)."""
    env = os.environ.get("MIGBOT_RULES_DIR")
    if env:
        return Path(env)
    packaged = Path(__file__).resolve().parent / "rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent.parent / "rules"
