"""Fixtures of the audit tests: the QEMU-style tree in a real git repository."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.audit.run import AuditResult, audit
from bot.findings import Tier, TierDecision

from .qemutree import Repo, make_tree


@pytest.fixture(scope="session", autouse=True)
def _private_tier_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Tier maps of the test trees go to a temporary cache, not ~/.cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MIGBOT_CACHE_DIR", str(tmp_path_factory.mktemp("migbot-cache")))
        yield


@pytest.fixture(scope="session")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    return make_tree(tmp_path_factory.mktemp("audit-tree"))


def versioned_bidirectional(path: str) -> TierDecision:
    """Every file on pc-q35: what the Kconfig tiers would say for x86 devices."""
    return TierDecision(
        Tier.BIDIRECTIONAL, f"tier bidirectional: {path} is on pc-q35", ("pc-q35-*",), "tree"
    )


@pytest.fixture(scope="session")
def audited(tree: Repo) -> AuditResult:
    return audit(tree.path, "HEAD", tier_of=versioned_bidirectional, jobs=1)
