"""The README demo: the patches of examples/ through ``migbot check``.

Without a repository (hunk mode) the first patch must get an error a
maintainer would agree with; the second, the machine-type recipe done right,
must get nothing louder than an info, and exactly MIG027 when judged against
the tree it applies to (the mini QEMU tree).
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import jsonschema
import pytest

from bot.report.jsonfmt import load_schema
from tests.fixtures.minirepo import ROOT, MiniRepo, make_template
from tests.harness import MIGBOT

EXAMPLES = ROOT / "examples"
ADD_FIELD = EXAMPLES / "add-field.patch"
DONE_RIGHT = EXAMPLES / "compat-done-right.patch"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "MIGBOT_"))}
    out["MIGBOT_CACHE_DIR"] = str(tmp_path_factory.mktemp("examples-cache"))
    return out


@pytest.fixture(scope="module")
def mini(tmp_path_factory: pytest.TempPathFactory) -> MiniRepo:
    return make_template(tmp_path_factory.mktemp("examples-tree"))


def migbot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MIGBOT, "check", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )


def as_json(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(proc.stdout)
    jsonschema.validate(data, load_schema())
    return data


def test_add_field_patch_prints_an_error(env: dict[str, str]) -> None:
    proc = migbot(env, "--patch", "examples/add-field.patch", "--no-color")
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ""
    assert "hw/net/acme_nic.c:63: error [MIG001 field-added-unversioned]" in proc.stdout
    assert "field 'itr' added at the end" in proc.stdout
    assert "subsection" in proc.stdout  # the fix names the remedy
    assert "no repository" in proc.stdout


def test_add_field_patch_as_json(env: dict[str, str]) -> None:
    data = as_json(migbot(env, "--patch", str(ADD_FIELD), "--format", "json"))
    assert [(f["rule_id"], f["severity"], f["field"]) for f in data["findings"]] == [
        ("MIG001", "error", "itr")
    ]
    assert data["change"]["title"] == ("hw/net/acme_nic: migrate the interrupt throttling register")


def test_add_field_patch_against_its_tree(env: dict[str, str], mini: MiniRepo) -> None:
    proc = migbot(
        env,
        "--repo",
        str(mini.path),
        "--base",
        "base",
        "--patch",
        str(ADD_FIELD),
        "--format",
        "json",
    )
    assert proc.returncode == 1, proc.stderr
    data = as_json(proc)
    [finding] = data["findings"]
    assert (finding["rule_id"], finding["vmsd"], finding["field"]) == ("MIG001", "acme-nic", "itr")
    assert "version 3" in finding["message"]
    assert data["notes"] == []


def test_compat_done_right_patch_gets_nothing_louder_than_info(env: dict[str, str]) -> None:
    proc = migbot(env, "--patch", str(DONE_RIGHT), "--fail-on", "warning", "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = as_json(proc)
    assert all(f["severity"] in ("info", "notice") for f in data["findings"]), data["findings"]
    assert any("no repository" in n for n in data["notes"])


def test_compat_done_right_patch_against_its_tree(env: dict[str, str], mini: MiniRepo) -> None:
    proc = migbot(
        env,
        "--repo",
        str(mini.path),
        "--base",
        "base",
        "--patch",
        str(DONE_RIGHT),
        "--fail-on",
        "warning",
        "--format",
        "json",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = as_json(proc)
    assert [(f["rule_id"], f["severity"]) for f in data["findings"]] == [("MIG027", "info")]
    assert "hw_compat_10_2" in data["findings"][0]["message"]
    text = migbot(env, "--repo", str(mini.path), "--base", "base", "--patch", str(DONE_RIGHT))
    assert text.returncode == 0
    assert "MIG027" in text.stdout


def test_hunk_mode_does_not_call_a_new_subsection_irrelevant(env: dict[str, str]) -> None:
    proc = migbot(env, "--patch", str(DONE_RIGHT), "--no-color")
    assert "No migration-relevant changes found" not in proc.stdout
