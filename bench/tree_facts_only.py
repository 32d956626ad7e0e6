"""The head-tree checks alone (bot.compare.treefacts) over many commits, fast.

Builds each change and the scanned models as `pipeline.review` does, then runs
only `tree_facts` (no tier map, no other comparison): for judging every fact
of the new checks by hand over hundreds of commits, with the time they take.
Run `bench/tree_checks.py` on the commits that report something to see the
findings at their computed tier.

    git log --format=%h ... | python bench/tree_facts_only.py --repo MIRROR -
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from bot.compare.context import Context
from bot.compare.treefacts import tree_facts
from bot.judge.policy import load_policy
from bot.judge.registry import meanings
from bot.pipeline import _models
from bot.scanner.treeinfo import TreeLookups, macro_table
from bot.scanner.treesearch import TreeSearch
from bot.sources.commits import change_from_range


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repo", required=True, type=Path)
    ap.add_argument("revs", nargs="+")
    args = ap.parse_args()
    revs = [r.strip() for r in sys.stdin] if args.revs == ["-"] else args.revs
    policy = load_policy()
    costs: list[float] = []
    for rev in filter(None, revs):
        change = change_from_range(args.repo, rev)
        old_table = macro_table(change.base_tree)
        new_table = macro_table(change.head_tree) if change.head_tree else old_table
        pairs = [
            _models(fc, old_table, new_table)
            for fc in change.files
            if not fc.binary and policy.scans(fc.path) and fc.texts_known
        ]
        lookups = TreeLookups(
            change.head_tree, new_table, [p.new for p in pairs if p.new is not None]
        )
        old_lookups = TreeLookups(
            change.base_tree, old_table, [p.old for p in pairs if p.old is not None]
        )
        ctx = Context(resolve=lookups.resolve, resolve_old=old_lookups.resolve)
        texts = {fc.path: (fc.old_text, fc.new_text) for fc in change.files if fc.texts_known}
        start = time.perf_counter()
        facts = tree_facts(
            pairs,
            ctx,
            texts,
            TreeSearch(change.head_tree, new_table),
            TreeSearch(change.base_tree, old_table),
        )
        costs.append(time.perf_counter() - start)
        for fact in facts:
            for m in meanings(fact):
                print(f"{rev} {m.rule_id} {fact.path}:{fact.line} {m.values}", flush=True)
        print(f"# {rev} {costs[-1]:.3f}s", flush=True)
    if costs:
        print(
            f"commits {len(costs)}: tree checks median {statistics.median(costs):.3f}s, "
            f"mean {statistics.mean(costs):.3f}s, max {max(costs):.2f}s"
        )


if __name__ == "__main__":
    main()
