"""Consecutive commits build one tier map: the head reuses the base's when the
change touched nothing the map was built from."""

from __future__ import annotations

from pathlib import Path

from bot.pipeline import ReviewOptions
from bot.sources import change_from_range
from bot.tiers.cache import cache_path
from bot.tiers.rules import load_tier_rules
from tests.fixtures.minirepo import MiniRepo, commit_change
from tests.harness import review


def _review(repo: MiniRepo, base: str, head: str, cache: Path) -> tuple[str, str]:
    change = change_from_range(repo.path, f"{base}..{head}")
    report = review(change, ReviewOptions(cache_dir=cache))
    assert change.base_tree is not None and change.head_tree is not None
    assert report.tiers, "the change was judged with computed tiers"
    return change.base_tree.tree_id, change.head_tree.tree_id


def _uart_edit(repo: MiniRepo, name: str) -> dict[str, str | None]:
    text = (repo.path / "hw/char/acme_uart.c").read_text()
    return {
        "hw/char/acme_uart.c": text.replace(
            "        VMSTATE_END_OF_LIST()",
            f"        VMSTATE_UINT8({name}, AcmeUARTState),\n        VMSTATE_END_OF_LIST()",
            1,
        )
    }


def test_a_device_change_hands_its_map_to_the_head(mini_repo: MiniRepo, tmp_path: Path) -> None:
    base = mini_repo.rev("HEAD")
    head = commit_change(mini_repo, _uart_edit(mini_repo, "msr"))
    _, head_tree = _review(mini_repo, base, head, tmp_path)
    assert cache_path(tmp_path, head_tree, load_tier_rules().digest).exists()


def test_a_kconfig_change_builds_its_own_map(mini_repo: MiniRepo, tmp_path: Path) -> None:
    base = mini_repo.rev("HEAD")
    kconfig = (mini_repo.path / "hw/char/Kconfig").read_text()
    edits = _uart_edit(mini_repo, "msr") | {"hw/char/Kconfig": kconfig + "\n"}
    head = commit_change(mini_repo, edits)
    _, head_tree = _review(mini_repo, base, head, tmp_path)
    assert not cache_path(tmp_path, head_tree, load_tier_rules().digest).exists()
