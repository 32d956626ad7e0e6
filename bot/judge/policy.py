"""The policy data of rules/policy.toml: labels, twins, what to scan."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache

from bot.data import rules_dir
from bot.findings import Severity, Tier


@dataclass(frozen=True, slots=True)
class Policy:
    tier_labels: tuple[tuple[str, Tier], ...]
    ack_label: str
    affected_label: str
    ack_severities: tuple[tuple[Severity, Severity], ...]
    twins: tuple[tuple[str, str], ...]
    scan_suffixes: tuple[str, ...]
    rule_docs: str | None = None
    """Where docs/rules.md is published (``[docs] rules``): rule ids link there."""

    def tier_for_label(self, label: str) -> Tier | None:
        return next((t for name, t in self.tier_labels if name == label), None)

    def acked(self, severity: Severity) -> Severity:
        return dict(self.ack_severities).get(severity, severity)

    def scans(self, path: str) -> bool:
        return path.endswith(self.scan_suffixes)


@cache
def load_policy() -> Policy:
    data = tomllib.loads((rules_dir() / "policy.toml").read_text())
    labels = data["labels"]
    return Policy(
        tier_labels=tuple((labels[t.value], t) for t in Tier),
        ack_label=labels["ack"],
        affected_label=labels["affected"],
        ack_severities=tuple((Severity(k), Severity(v)) for k, v in data.get("ack", {}).items()),
        twins=tuple((t["c"], t["rust"]) for t in data.get("twins", [])),
        scan_suffixes=tuple(data.get("scan", {}).get("suffixes", [".c", ".h"])),
        rule_docs=data.get("docs", {}).get("rules") or None,
    )
