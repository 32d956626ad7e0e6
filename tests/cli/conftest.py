"""The command line as a contributor runs it: ``python -m bot`` in a real git repository."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures.minirepo import MiniRepo, clone, make_template

ROOT = Path(__file__).resolve().parents[2]
UART = "hw/char/acme_uart.c"
ADD_FCR = (
    "        VMSTATE_UINT8(lcr, AcmeUARTState),\n",
    "        VMSTATE_UINT8(lcr, AcmeUARTState),\n        VMSTATE_UINT8(fcr, AcmeUARTState),\n",
)
BUMP = ("    .version_id = 1,\n", "    .version_id = 2,\n")
ADD_MCR2 = (
    "        VMSTATE_UINT8(mcr, AcmeUARTState),\n",
    "        VMSTATE_UINT8(mcr, AcmeUARTState),\n        VMSTATE_UINT8(mcr2, AcmeUARTState),\n",
)


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> MiniRepo:
    return make_template(tmp_path_factory.mktemp("ux-template"))


@pytest.fixture
def repo(template: MiniRepo, tmp_path: Path) -> MiniRepo:
    return clone(template, tmp_path)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "MIGBOT_"))}
    out.pop("GITHUB_STEP_SUMMARY", None)
    out["MIGBOT_CACHE_DIR"] = str(tmp_path_factory.mktemp("ux-cache"))
    out["PYTHONPATH"] = str(ROOT)
    return out


def run(env: dict[str, str], *args: str, cwd: Path | None = None) -> Run:
    proc = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        env=env,
        cwd=cwd or ROOT,
        check=False,
    )
    return Run(proc.returncode, proc.stdout.decode(), proc.stderr.decode())


def edit(repo: MiniRepo, path: str, *pairs: tuple[str, str], message: str = "edit") -> str:
    text = repo.read(path)
    for old, new in pairs:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    (repo.path / path).write_text(text)
    return repo.commit(message)
