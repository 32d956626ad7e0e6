""".pre-commit-hooks.yaml: valid hook definitions whose entries work in a real clone."""

from __future__ import annotations

import shlex

import yaml

from tests.cli.conftest import ADD_FCR, ROOT, UART, run
from tests.fixtures.minirepo import MiniRepo

HOOKS = ROOT / ".pre-commit-hooks.yaml"


def hooks() -> dict[str, dict[str, object]]:
    data = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    assert isinstance(data, list)
    return {h["id"]: h for h in data}


def test_hooks_have_what_pre_commit_requires() -> None:
    for hook in hooks().values():
        assert {"id", "name", "entry", "language"} <= set(hook)
        assert hook["language"] == "python", "pre-commit installs this repository with pip"
        assert hook["pass_filenames"] is False, "migbot reads the change, not file names"
    assert hooks()["migbot-branch"]["stages"] == ["pre-push", "manual"]


def _entry(hook_id: str) -> list[str]:
    argv = shlex.split(str(hooks()[hook_id]["entry"]))
    assert argv[0] == "migbot"
    return argv[1:]


def test_staged_hook_stops_a_commit_that_breaks_migration(
    repo: MiniRepo, env: dict[str, str]
) -> None:
    text = repo.read(UART).replace(ADD_FCR[0], ADD_FCR[1])
    (repo.path / UART).write_text(text)
    nothing = run(env, *_entry("migbot"), cwd=repo.path)
    assert (nothing.code, nothing.err) == (0, "migbot: nothing staged\n")
    repo.git("add", UART)
    got = run(env, *_entry("migbot"), cwd=repo.path)
    assert got.code == 1, got.err
    assert "MIG001 field-added-unversioned" in got.out and "'fcr'" in got.out


def test_branch_hook_checks_the_branch(repo: MiniRepo, env: dict[str, str]) -> None:
    repo.git("checkout", "-q", "-b", "topic")
    (repo.path / UART).write_text(repo.read(UART).replace(ADD_FCR[0], ADD_FCR[1]))
    repo.commit("hw/char: acme_uart: add fcr")
    got = run(env, *_entry("migbot-branch"), cwd=repo.path)
    assert got.code == 1
    assert got.out.startswith("0001/0001 hw/char: acme_uart: add fcr: 1 error\n")
