"""``migbot tiers`` on a real (bare) git repository."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.tiers import tiers
from bot.findings import Tier
from bot.tiers import tree_from_git
from tests.tiers.minitree import files, git_repo


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return git_repo(tmp_path_factory.mktemp("mini"), files())


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(tiers, list(args))
    return result.exit_code, result.output


def test_tree_from_a_bare_repository(repo: Path) -> None:
    tree = tree_from_git(repo, "master")
    assert len(tree.tree_id) == 40
    assert tree.read("hw/Kconfig") is not None
    assert tree.read("no/such/file") is None
    assert tree.grep is not None
    assert tree.grep('hw/net/e1000_regs.h"', "hw") == ["hw/net/e1000.c"]


def test_text(repo: Path, tmp_path: Path) -> None:
    code, out = run(
        "--repo", str(repo), "--rev", "master", "--cache-dir", str(tmp_path),
        "hw/net/e1000.c", "hw/arm/musicpal.c",
    )  # fmt: skip
    assert code == 0, out
    assert "hw/net/e1000.c: bidirectional (tree)" in out
    assert "implied by I440FX (pc-i440fx-*, x86_64, KVM)" in out
    assert "hw/arm/musicpal.c: best-effort (tree)" in out
    assert "machines: musicpal" in out


def test_json_and_all(repo: Path, tmp_path: Path) -> None:
    code, out = run(
        "--repo", str(repo), "--rev", "master", "--no-cache", "--all", "--format", "json"
    )
    assert code == 0, out
    doc = json.loads(out)
    by_path = {f["path"]: f for f in doc["files"]}
    assert by_path["hw/m68k/virt.c"]["tier"] == Tier.FORWARD.value
    assert by_path["hw/m68k/virt.c"]["machines"] == ["virt-*"]
    assert by_path["hw/ppc/spapr.c"]["source"] == "tree"
    assert doc["tree_id"] == tree_from_git(repo, "master").tree_id
    assert "hw/core/machine.c" in by_path


def test_without_repo_uses_path_rules() -> None:
    code, out = run("--format", "json", "hw/riscv/virt.c")
    assert code == 0, out
    (only,) = json.loads(out)["files"]
    assert only["tier"] == "forward"
    assert only["source"] == "default"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give at least one FILE"),
        (("--all",), "--all needs --repo"),
        (("--all", "x.c"), "not both"),
    ],
)
def test_usage_errors(args: tuple[str, ...], message: str) -> None:
    code, out = run(*args)
    assert code == 2
    assert message in out


def test_bad_revision(repo: Path) -> None:
    code, out = run("--repo", str(repo), "--rev", "nope", "x.c")
    assert code == 2
    assert "unknown revision" in out


def test_a_tree_it_cannot_read_falls_back_to_path_rules(tmp_path: Path) -> None:
    content = {p: t for p, t in files().items() if not p.startswith("configs/")}
    old = git_repo(tmp_path, content)
    code, out = run("--repo", str(old), "--rev", "master", "--no-cache", "hw/riscv/virt.c")
    assert code == 0, out
    assert "hw/riscv/virt.c: forward (default)" in out
    assert "no configs/targets/*-softmmu.mak" in out
    code, out = run("--repo", str(old), "--rev", "master", "--no-cache", "--all")
    assert code == 2
