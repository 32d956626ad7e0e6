"""Twins are found from the tree, and a split is judged per part, on the mini tree's pl011."""

from __future__ import annotations

from dataclasses import replace

from bot.findings import Tier
from bot.judge.policy import load_policy
from bot.pipeline import ReviewOptions
from bot.sources import change_from_range
from tests.fixtures.minirepo import MiniRepo, commit_change
from tests.harness import review

RUST = "rust/hw/char/pl011/src/device.rs"
C = "hw/char/pl011.c"


def _ids(repo: MiniRepo, rev_range: str, *, twins: bool = True) -> list[tuple[str, str]]:
    policy = load_policy()
    if not twins:
        policy = replace(policy, twins=())
    report = review(
        change_from_range(repo.path, rev_range), ReviewOptions(tier=Tier.FORWARD), policy=policy
    )
    return sorted((f.rule_id, f.path) for f in report.findings)


def test_twin_is_found_by_its_section_name_without_the_policy_table(mini_repo: MiniRepo) -> None:
    text = mini_repo.read(RUST).replace("    pub control: u32,\n", "    pub control: u16,\n")
    commit_change(mini_repo, {RUST: text})
    assert ("MIG041", RUST) in _ids(mini_repo, "HEAD~1..HEAD", twins=False)


def test_a_side_catching_up_is_not_a_finding(mini_repo: MiniRepo) -> None:
    c_text = mini_repo.read(C).replace(
        "        VMSTATE_UINT32(int_level, PL011State),\n",
        "        VMSTATE_UINT32(int_level, PL011State),\n"
        "        VMSTATE_UINT32(ifl, PL011State),\n",
    )
    commit_change(mini_repo, {C: c_text})
    rust_text = (
        mini_repo.read(RUST)
        .replace("    pub int_level: u32,\n", "    pub int_level: u32,\n    pub ifl: u32,\n")
        .replace(
            "            vmstate_of!(PL011Registers, int_level),\n",
            "            vmstate_of!(PL011Registers, int_level),\n"
            "            vmstate_of!(PL011Registers, ifl),\n",
        )
    )
    commit_change(mini_repo, {RUST: rust_text})
    # The C commit split the pair; the Rust commit brings it back in step: the
    # Rust field is the stream C already sends, not a new unversioned field.
    assert ("MIG041", C) in _ids(mini_repo, "HEAD~2..HEAD~1")
    assert _ids(mini_repo, "HEAD~1..HEAD") == []
