"""rules/tiers.toml loads, and a mistake in it names the key."""

from __future__ import annotations

import pytest

from bot.findings import Tier
from bot.tiers.rules import TierRulesError, default_rules_path, load_tier_rules, parse_tier_rules


def test_the_shipped_rules_load() -> None:
    rules = load_tier_rules()
    assert "aarch64-softmmu" in rules.kvm_fallback
    assert "arm-softmmu" not in rules.kvm_fallback
    assert {p.name for p in rules.profiles} == {"full-host", "minimal-host"}
    assert {p.bus for p in rules.pluggable} >= {"PCI", "virtio"}
    assert rules.fallback_default is Tier.BIDIRECTIONAL
    assert "system_ss" in rules.layout.system_sets
    assert len(rules.digest) == 16


def test_digest_follows_the_text() -> None:
    text = default_rules_path().read_text()
    assert parse_tier_rules(text).digest != parse_tier_rules(text + "\n# x\n").digest


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("schema = 2\n", "schema must be 1"),
        ("schema = 1\n[[fallback.rule]]\nglob = 'x'\ntier = 'sideways'\n", "unknown tier"),
        ("schema = 1\n[meson]\nsystem_sets = 'system_ss'\n", "meson.system_sets"),
        (
            "schema = 1\n[[pluggable]]\nbus = 'PCI'\nmarkers = ['(']\n",
            "bad regular expression",
        ),
        ("schema = 1\nthis is not toml\n", "tiers.toml"),
    ],
)
def test_mistakes_are_named(text: str, message: str) -> None:
    with pytest.raises(TierRulesError, match=message):
        parse_tier_rules(text)


def test_kvm_boards_are_loaded() -> None:
    rules = load_tier_rules()
    assert rules.kvm_boards["aarch64-softmmu"] == {"ARM_VIRT"}
    with pytest.raises(TierRulesError, match=r"targets\.kvm_boards\.x"):
        parse_tier_rules("schema = 1\n[targets.kvm_boards]\nx = 'ARM_VIRT'\n")
