"""The tests' own house rules: they mirror bot/, and run on any interpreter that has bot.

* every folder of tests/ is a package of bot/, or one of the shared folders;
* no test or benchmark edits ``sys.path`` (pytest's ``pythonpath`` and the
  editable install make ``bot`` and ``tests`` importable);
* no test runs a script from the project's .venv/bin: the CLI is
  ``sys.executable -m bot`` (`tests.harness.MIGBOT`) or click's runner (the
  shipping tests install the package into a virtualenv of their own on purpose).
"""

from __future__ import annotations

import re
from pathlib import Path

import bot

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
PACKAGES = {p.parent.name for p in Path(bot.__file__).resolve().parent.glob("*/__init__.py")}
SHARED = {"house", "ship", "fakes", "fixtures"}
"""Folders that test no one package: layering, shipping files, fake forges, the fixture tree."""


def _python_files(*folders: Path) -> list[Path]:
    return [p for folder in folders for p in sorted(folder.rglob("*.py"))]


def test_every_test_folder_is_a_package_of_bot_or_a_shared_one() -> None:
    folders = {p.name for p in TESTS.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders - PACKAGES - SHARED == set()


def test_no_sys_path_edits() -> None:
    edits = [
        str(p.relative_to(ROOT))
        for p in _python_files(TESTS, ROOT / "bench")
        if p != Path(__file__).resolve() and re.search(r"sys\.path\.(insert|append)", p.read_text())
    ]
    assert edits == []


def test_no_test_runs_a_script_from_a_virtualenv() -> None:
    uses = [
        str(p.relative_to(ROOT))
        for p in _python_files(TESTS)
        if p != Path(__file__).resolve() and re.search(r"[\"'/]\.venv\b|VENV_BIN", p.read_text())
    ]
    assert uses == []
