"""rules/tiers.toml: the tier knowledge that cannot be read from a QEMU tree."""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.data import rules_dir
from bot.errors import InputError
from bot.findings import Tier


@dataclass(frozen=True, slots=True)
class MesonLayout:
    """Names that give source sets their meaning (from rules/tiers.toml)."""

    system_sets: frozenset[str]
    user_sets: frozenset[str]
    arch_registries: frozenset[str]
    module_registries: frozenset[str]


class TierRulesError(InputError):
    pass


@dataclass(frozen=True, slots=True)
class HostProfile:
    name: str
    host: bool
    off: frozenset[str] = frozenset()
    on: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Pluggable:
    bus: str
    board_has_any: tuple[str, ...]
    markers: tuple[re.Pattern[str], ...]
    kconfig: frozenset[str] = frozenset()
    not_if: tuple[re.Pattern[str], ...] = ()


@dataclass(frozen=True, slots=True)
class FallbackRule:
    glob: str
    tier: Tier
    reason: str


@dataclass(frozen=True, slots=True)
class TierRules:
    versioned_families: tuple[str, ...]
    ignored_machines: frozenset[str]
    kvm_fallback: frozenset[str]
    kvm_boards: Mapping[str, frozenset[str]]
    """target -> the only board symbols that may count as KVM-capable there."""
    kvm_machines: Mapping[str, frozenset[str]]
    """target -> machine names that count as KVM-capable there whatever their
    symbols (trees before Kconfig name boards after their files)."""
    known_targets: tuple[str, ...]
    profiles: tuple[HostProfile, ...]
    layout: MesonLayout
    false_keys: frozenset[str]
    pluggable: tuple[Pluggable, ...]
    fallback_default: Tier
    fallback_default_reason: str
    fallback_rules: tuple[FallbackRule, ...]
    digest: str
    """Hash of the rules text: part of the cache key, since rules change results."""


def default_rules_path() -> Path:
    """``$MIGBOT_RULES_DIR/tiers.toml``, else the shipped rules/ (see bot.data)."""
    return rules_dir() / "tiers.toml"


def _strs(d: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    v = d.get(key, [])
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise TierRulesError(f"{where}.{key} must be a list of strings")
    return tuple(v)


def _tier(value: object, where: str) -> Tier:
    try:
        return Tier(str(value))
    except ValueError:
        raise TierRulesError(f"{where}: unknown tier {value!r}") from None


def _regexes(d: dict[str, Any], key: str, where: str) -> tuple[re.Pattern[str], ...]:
    out = []
    for s in _strs(d, key, where):
        try:
            out.append(re.compile(s))
        except re.error as e:
            raise TierRulesError(f"{where}.{key}: bad regular expression {s!r}: {e}") from None
    return tuple(out)


def parse_tier_rules(text: str) -> TierRules:
    """Validate and load the rules; a mistake names the key at fault."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise TierRulesError(f"tiers.toml: {e}") from None
    if data.get("schema") != 1:
        raise TierRulesError("tiers.toml: schema must be 1")
    targets = data.get("targets", {})
    machines = data.get("machines", {})
    meson = data.get("meson", {})
    profiles = tuple(
        HostProfile(
            name=str(p.get("name", f"profile{i}")),
            host=bool(p.get("host", True)),
            off=frozenset(_strs(p, "off", f"profiles[{i}]")),
            on=frozenset(_strs(p, "on", f"profiles[{i}]")),
        )
        for i, p in enumerate(data.get("profiles", []))
    ) or (HostProfile("full-host", True),)
    pluggable = tuple(
        Pluggable(
            bus=str(p["bus"]),
            board_has_any=_strs(p, "board_has_any", f"pluggable[{i}]"),
            markers=_regexes(p, "markers", f"pluggable[{i}]"),
            kconfig=frozenset(_strs(p, "kconfig", f"pluggable[{i}]")),
            not_if=_regexes(p, "not_if", f"pluggable[{i}]"),
        )
        for i, p in enumerate(data.get("pluggable", []))
    )
    fb = data.get("fallback", {})
    rules = tuple(
        FallbackRule(
            glob=str(r["glob"]),
            tier=_tier(r["tier"], f"fallback.rule[{i}]"),
            reason=str(r.get("reason", "")),
        )
        for i, r in enumerate(fb.get("rule", []))
    )
    return TierRules(
        versioned_families=_strs(machines, "versioned_families", "machines"),
        ignored_machines=frozenset(_strs(machines, "ignore", "machines")),
        kvm_fallback=frozenset(_strs(targets, "kvm_fallback", "targets")),
        kvm_boards={
            str(t): frozenset(_strs(targets.get("kvm_boards", {}), t, "targets.kvm_boards"))
            for t in targets.get("kvm_boards", {})
        },
        kvm_machines={
            str(t): frozenset(_strs(targets.get("kvm_machines", {}), t, "targets.kvm_machines"))
            for t in targets.get("kvm_machines", {})
        },
        known_targets=_strs(targets, "known", "targets"),
        profiles=profiles,
        layout=MesonLayout(
            system_sets=frozenset(_strs(meson, "system_sets", "meson")),
            user_sets=frozenset(_strs(meson, "user_sets", "meson")),
            arch_registries=frozenset(_strs(meson, "arch_registries", "meson")),
            module_registries=frozenset(_strs(meson, "module_registries", "meson")),
        ),
        false_keys=frozenset(_strs(meson, "false_keys", "meson")),
        pluggable=pluggable,
        fallback_default=_tier(fb.get("default", "bidirectional"), "fallback.default"),
        fallback_default_reason=str(fb.get("default_reason", "no rule matched")),
        fallback_rules=rules,
        digest=hashlib.sha256(text.encode()).hexdigest()[:16],
    )


def load_tier_rules(path: Path | None = None) -> TierRules:
    p = path or default_rules_path()
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise TierRulesError(f"{p}: {e.strerror}") from None
    return parse_tier_rules(text)
