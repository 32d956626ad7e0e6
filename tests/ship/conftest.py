"""Fixtures of the shipping tests: migbot installed the way the Dockerfile installs it."""

from __future__ import annotations

import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.ship.shiptools import (
    ROOT,
    Instruction,
    clean_env,
    dockerfile_instructions,
    run,
)


@dataclass(frozen=True)
class Installed:
    """migbot in a fresh virtualenv, from a wheel built as the Dockerfile builds it."""

    context: Path
    """The build context as the builder stage sees it (its COPY instructions applied)."""
    wheel: Path
    venv: Path
    home: Path

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    @property
    def migbot(self) -> str:
        return str(self.bin / "migbot")

    @property
    def python(self) -> str:
        return str(self.bin / "python")

    def env(self) -> dict[str, str]:
        """An environment with this virtualenv first on PATH."""
        return clean_env(self.home, self.bin)


def _stage(instructions: list[Instruction], stage: str) -> list[Instruction]:
    return [i for i in instructions if i.stage == stage]


def _apply_copy(instruction: Instruction, workdir: Path) -> None:
    """``COPY src... dest`` from the repository (the build context) into ``workdir``."""
    *sources, dest = instruction.args.split()
    assert not any(s.startswith("--") for s in sources), instruction
    target = workdir / dest
    for source in sources:
        src = ROOT / source
        if src.is_dir():
            shutil.copytree(
                src,
                target,
                symlinks=True,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
                dirs_exist_ok=True,
            )
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target / src.name)


def pip_step(command: str, *, pip: str, wheels: Path) -> str:
    """A RUN of the Dockerfile made runnable here: our pip, our wheel directory."""
    command = re.sub(r"--mount=\S+\s*", "", command)
    command = re.sub(r"(?<![\w/-])pip(?= )", pip, command)
    return command.replace("/wheels", str(wheels))


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Run the Dockerfile's build and install steps, outside a container.

    Builder: its COPY instructions into a fresh directory, then its ``pip
    wheel`` RUN. Runtime: a clean virtualenv (python:3.11-slim has nothing
    else), then its ``pip install`` RUN with the wheel where the bind mount
    puts it. Dependencies come from the package index, as in the image.
    """
    tmp = tmp_path_factory.mktemp("installed")
    home = tmp / "home"
    env = clean_env(home)
    instructions = dockerfile_instructions((ROOT / "Dockerfile").read_text(encoding="utf-8"))
    builder = _stage(instructions, "builder")
    workdirs = [i.args for i in builder if i.keyword == "WORKDIR"]
    assert workdirs, "the builder stage sets a WORKDIR"
    context = tmp / "context"
    context.mkdir()
    for instruction in builder:
        if instruction.keyword == "COPY":
            _apply_copy(instruction, context)
    wheels = tmp / "wheels"
    builds = [i.args for i in builder if i.keyword == "RUN"]
    assert len(builds) == 1 and "pip wheel" in builds[0] and "--no-deps" in builds[0], builds
    step = pip_step(builds[0], pip=f"{sys.executable} -m pip", wheels=wheels)
    proc = run(["bash", "-c", step], cwd=context, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (wheel,) = wheels.glob("migbot-*.whl")

    venv = tmp / "venv"
    proc = run([sys.executable, "-m", "venv", str(venv)], env=env)
    assert proc.returncode == 0, proc.stderr
    installs = [
        i.args for i in _stage(instructions, "runtime") if i.keyword == "RUN" and "pip " in i.args
    ]
    assert len(installs) == 1, installs
    step = pip_step(installs[0], pip=str(venv / "bin" / "pip"), wheels=wheels)
    proc = run(["bash", "-c", step], cwd=tmp, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr
    return Installed(context=context, wheel=wheel, venv=venv, home=home)
