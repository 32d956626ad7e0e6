"""Tier decisions for any path: the tree's map first, then what the path says.

Order of evidence for one path:

1. the build (meson.build, or Makefile.objs before QEMU 5.2) names it: the
   map's entry (`bot.tiers.tiermap`);
2. under ``target/<arch>/`` (headers, ``.c.inc``): every board of that arch;
3. a header or ``.inc``: the files that ``#include`` it (found with the tree's
   grep, include/ prefix stripped), strictest first, recursively for headers;
4. a file meson builds without naming it (a Rust crate): its directory's
   meson.build conditions;
5. otherwise, or without a tree: the path rules of rules/tiers.toml.
"""

from __future__ import annotations

import contextlib
import fnmatch
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from bot.change import Tree
from bot.findings import Tier, TierDecision, TierResolver, TierSource
from bot.tiers.cache import load_map, save_inputs, save_map
from bot.tiers.rules import TierRules, load_tier_rules
from bot.tiers.tiermap import Reach, TierMap, build_tier_map, strictest

_HEADER = re.compile(r"\.(h|hh|hpp|inc)$")
_INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*"([^"]+)"', re.M)


def default_decision(path: str, rules: TierRules, why: str = "") -> TierDecision:
    """The path rule for ``path`` (first matching glob), or the strict default."""
    prefix = f"{why}; " if why else ""
    for rule in rules.fallback_rules:
        if fnmatch.fnmatchcase(path, rule.glob):
            return TierDecision(
                tier=rule.tier,
                reason=f"tier {rule.tier.value}: {path}: {prefix}path rule '{rule.glob}': "
                f"{rule.reason}",
                source=TierSource.DEFAULT,
            )
    tier = rules.fallback_default
    return TierDecision(
        tier=tier,
        reason=f"tier {tier.value}: {path}: {prefix}{rules.fallback_default_reason}",
        source=TierSource.DEFAULT,
    )


def path_default_resolver(rules: TierRules | None = None) -> TierResolver:
    """Tiers from path rules alone, for a change judged without any tree."""
    r = rules or load_tier_rules()

    def resolve(path: str) -> TierDecision:
        return default_decision(path, r)

    return resolve


@dataclass(frozen=True, slots=True)
class _Found:
    path: str
    tier: Tier
    boards: int
    reason: str
    """The whole line, ``tier X: path ...``."""

    @property
    def body(self) -> str:
        """The reason without ``tier X: path``, to quote inside another one."""
        head = f"tier {self.tier.value}: {self.path} "
        return self.reason[len(head) :] if self.reason.startswith(head) else self.reason


class TreeTiers:
    """Decisions for the paths of one tree, from its tier map."""

    def __init__(self, tree: Tree, tmap: TierMap, rules: TierRules, grep_budget: int = 12) -> None:
        self.tree = tree
        self.map = tmap
        self.rules = rules
        self.grep_budget = grep_budget
        self._memo: dict[str, TierDecision] = {}
        self._found: dict[str, _Found | None] = {}
        self._greps = 0

    def decide(self, path: str) -> TierDecision:
        d = self._memo.get(path)
        if d is None:
            self._greps = 0
            # A header found nowhere last time may have run out of grep budget.
            self._found = {k: v for k, v in self._found.items() if v is not None}
            d = self._memo[path] = self._decide(path)
        return d

    def _decision(self, f: _Found) -> TierDecision:
        return TierDecision(
            f.tier, f.reason, self.map.machines_of(f.boards), source=TierSource.TREE
        )

    def _decide(self, path: str) -> TierDecision:
        entry = self.map.files.get(path)
        if entry is not None and entry.tier is None:
            if entry.how is Reach.USER_ONLY:
                return TierDecision(
                    Tier.BEST_EFFORT,
                    f"tier best-effort: {path} is built for user-mode emulators only: "
                    "no machine holds it",
                    source=TierSource.TREE,
                )
            return default_decision(path, self.rules, f"the build lists it but {entry.reason}")
        found = self._find(path, depth=0)
        if found is not None:
            return self._decision(found)
        return default_decision(path, self.rules, "not built by any rule the tree shows")

    def _find(self, path: str, depth: int) -> _Found | None:
        if path in self._found:
            return self._found[path]
        self._found[path] = None  # guards include cycles
        found = self._find_uncached(path, depth)
        self._found[path] = found
        return found

    def _find_uncached(self, path: str, depth: int) -> _Found | None:
        entry = self.map.files.get(path)
        if entry is not None:
            if entry.tier is None:
                return None
            return _Found(path, entry.tier, entry.boards, entry.reason)
        parts = path.split("/")
        if len(parts) > 2 and parts[0] == "target":
            found = self._arch(path, parts[1])
            if found is not None:
                return found
        if _HEADER.search(path) and self.tree.grep is not None and depth < 4:
            found = self._via_includers(path, depth)
            if found is not None:
                return found
        return self._via_dir(path)

    def _arch(self, path: str, arch: str) -> _Found | None:
        mask = self.map.arch_mask(arch)
        tier = self.map.tier_of(mask)
        if tier is None:
            return None
        names = sorted(t.short for t in self.map.targets if t.base_arch == arch)
        board = self._cite(mask, tier)
        reason = (
            f"tier {tier.value}: {path} is part of target/{arch}/, which every board of "
            f"{', '.join(names)} runs, e.g. {board}"
        )
        return _Found(path, tier, mask, reason)

    def _cite(self, mask: int, tier: Tier) -> str:
        """The board to name for a tier: versioned first, 64-bit first."""
        best = [b for i, b in enumerate(self.map.boards) if (mask >> i) & 1 and b.tier is tier]
        best.sort(key=lambda b: (not any(m.versioned for m in b.machines), "64" not in b.short))
        return best[0].label() if best else "no board"

    def _includers(self, path: str) -> list[str]:
        if self._greps >= self.grep_budget or self.tree.grep is None:
            return []
        self._greps += 1
        base = posixpath.basename(path)
        out: list[str] = []
        for cand in self.tree.grep(base + '"', ""):
            if cand == path:
                continue
            text = self.tree.read(cand) or ""
            for inc in _INCLUDE.findall(text):
                if not inc.endswith(base):
                    continue
                # The compiler's search: the includer's directory, the tree root
                # and include/ (QEMU builds with -I. -Iinclude).
                resolved = {
                    posixpath.normpath(posixpath.join(posixpath.dirname(cand), inc)),
                    posixpath.normpath(inc),
                    posixpath.normpath(posixpath.join("include", inc)),
                }
                if path in resolved:
                    out.append(cand)
                    break
        return sorted(out)

    def _via_includers(self, path: str, depth: int) -> _Found | None:
        includers = self._includers(path)
        # Files first (cheap lookups), headers after (each costs a grep).
        includers.sort(key=lambda p: (bool(_HEADER.search(p)), p))
        results: list[tuple[str, _Found]] = []
        for inc in includers:
            f = self._find(inc, depth + 1)
            if f is not None:
                results.append((inc, f))
                if f.tier is Tier.BIDIRECTIONAL:
                    break  # nothing stricter to find
        if not results:
            return None
        tier = strictest(f.tier for _, f in results)
        assert tier is not None
        mask = 0
        for _, f in results:
            mask |= f.boards
        cited, f = next((p, f) for p, f in results if f.tier is tier)
        more = f" (of {len(includers)} includers)" if len(includers) > 1 else ""
        reason = f"tier {tier.value}: {path} is included by {cited}{more}, which {f.body}"
        return _Found(path, tier, mask, reason)

    def _via_dir(self, path: str) -> _Found | None:
        d = posixpath.dirname(path)
        while d:
            entry = self.map.dirs.get(d)
            if entry is not None and entry.tier is not None:
                reason = (
                    f"tier {entry.tier.value}: {path} is not named by any build rule; "
                    f"{entry.reason}"
                )
                return _Found(path, entry.tier, entry.boards, reason)
            d = posixpath.dirname(d)
        return None


def load_or_build(tree: Tree, rules: TierRules, cache_dir: Path | None) -> TierMap:
    """The tree's map from the cache, or built and stored (``cache_dir`` None: no cache)."""
    if cache_dir is not None:
        cached = load_map(cache_dir, tree.tree_id, rules.digest)
        if cached is not None:
            return cached
    recorder = _Recorder(tree)
    tmap = build_tier_map(recorder.tree, rules)
    if cache_dir is not None:
        with contextlib.suppress(OSError):  # a read-only cache costs time, not results
            save_map(cache_dir, tmap)
            if tmap.reusable:
                save_inputs(cache_dir, tree.tree_id, rules.digest, recorder.paths, recorder.needles)
    return tmap


class _Recorder:
    """A view of a tree that notes what building a map reads and searches for."""

    def __init__(self, tree: Tree) -> None:
        self.paths: set[str] = set()
        self.needles: set[str] = set()
        grep = tree.grep

        def read(path: str) -> str | None:
            self.paths.add(path)
            return tree.read(path)

        def search(needle: str, pathspec: str) -> list[str]:
            self.needles.add(needle)
            assert grep is not None
            return grep(needle, pathspec)

        self.tree = Tree(tree.tree_id, read, search if grep is not None else None)


def tree_resolver(
    tree: Tree,
    cache_dir: Path | None = None,
    *,
    rules: TierRules | None = None,
    use_cache: bool = True,
) -> TierResolver:
    """Tiers computed from the tree (map built on first use, cached by tree id).

    ``cache_dir`` None (or ``use_cache=False``) keeps everything in memory:
    the caller says where the cache is, the core never reads the environment.
    If the tree cannot be read as a QEMU tree, every answer falls back to the
    path rules, saying why.
    """
    r = rules or load_tier_rules()
    directory = cache_dir if use_cache else None
    state: dict[str, TreeTiers | str] = {}

    def resolve(path: str) -> TierDecision:
        got = state.get("tiers")
        if got is None:
            got = state["tiers"] = open_tiers(tree, r, directory)
        if isinstance(got, str):
            return default_decision(path, r, got)
        return got.decide(path)

    return resolve


def open_tiers(tree: Tree, rules: TierRules, cache_dir: Path | None) -> TreeTiers | str:
    """The tree's decisions, or why the tree could not be read (then: path rules)."""
    try:
        return TreeTiers(tree, load_or_build(tree, rules, cache_dir), rules)
    except Exception as e:  # an old, odd or hostile tree must not stop a review
        return f"the tree could not be read ({type(e).__name__}: {e})"
