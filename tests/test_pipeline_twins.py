"""The policy's C/Rust twins are judged only where the Rust device exists."""

from __future__ import annotations

from bot.pipeline import ReviewOptions
from bot.sources import change_from_range
from tests.fixtures.minirepo import MiniRepo, commit_change
from tests.harness import review

PL011 = "hw/char/pl011.c"
RUST_PL011 = "rust/hw/char/pl011/"
FIELD = "        VMSTATE_UINT32(int_level, PL011State),\n"


def _c_side_grows(repo: MiniRepo) -> list[str]:
    base = repo.rev("HEAD")
    text = (
        repo.read(PL011)
        .replace("    .version_id = 2,\n", "    .version_id = 3,\n")
        .replace(FIELD, FIELD + "        VMSTATE_UINT32_V(ifl, PL011State, 3),\n")
    )
    head = commit_change(repo, {PL011: text}, "hw/char/pl011: migrate ifl")
    report = review(change_from_range(repo.path, f"{base}..{head}"), ReviewOptions())
    return [f.rule_id for f in report.findings]


def test_a_c_device_from_before_its_rust_twin_was_written_is_judged_alone(
    mini_repo: MiniRepo,
) -> None:
    gone = {
        str(p.relative_to(mini_repo.path)): None
        for p in (mini_repo.path / RUST_PL011).rglob("*")
        if p.is_file()
    }
    commit_change(mini_repo, gone, "a tree from before the Rust pl011")
    rules = _c_side_grows(mini_repo)
    assert "MIG025" not in rules and "MIG041" not in rules


def test_a_c_device_changed_without_its_rust_twin_is_still_reported(
    mini_repo: MiniRepo,
) -> None:
    rules = _c_side_grows(mini_repo)
    assert "MIG025" in rules or "MIG041" in rules
