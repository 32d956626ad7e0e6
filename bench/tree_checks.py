"""Cost and output of the head-tree checks (bot.compare.treefacts) over real commits.

For each commit: the whole review's time, and the time spent in `tree_facts`
(the searches of the head tree those checks make), in one process as the CLI
runs them (`check --repo R SHA`). Prints every finding of the given rules, to
judge by hand, and the median added time.

    python bench/tree_checks.py --repo MIRROR --rules MIG031,MIG045,... SHA...
    git log --format=%h ... | python bench/tree_checks.py --repo MIRROR -
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import bot.compare.treefacts as treefacts
import bot.pipeline as pipeline
from bot.judge.catalogue import load_catalogue
from bot.judge.policy import load_policy
from bot.pipeline import ReviewOptions, review
from bot.settings import cache_dir
from bot.sources.commits import change_from_range


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repo", required=True, type=Path)
    ap.add_argument("--rules", default="")
    ap.add_argument("--json", type=Path)
    ap.add_argument("revs", nargs="+")
    args = ap.parse_args()
    revs = [r.strip() for r in sys.stdin] if args.revs == ["-"] else args.revs
    rules = set(filter(None, args.rules.split(",")))
    spent: list[float] = []
    real = treefacts.tree_facts

    def timed(*a, **k):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        try:
            return real(*a, **k)
        finally:
            spent.append(time.perf_counter() - t)

    pipeline.tree_facts = timed  # type: ignore[assignment]
    catalogue, policy = load_catalogue(), load_policy()
    totals, extra, rows = [], [], []
    for rev in filter(None, revs):
        start = time.perf_counter()
        spent.clear()
        change = change_from_range(args.repo, rev)
        report = review(
            change, ReviewOptions(cache_dir=cache_dir("tiers")), catalogue=catalogue, policy=policy
        )
        totals.append(time.perf_counter() - start)
        extra.append(sum(spent))
        for f in report.findings:
            if not rules or f.rule_id in rules:
                row = {
                    "rev": rev,
                    "rule": f.rule_id,
                    "severity": f.severity.value,
                    "where": f"{f.path}:{f.line}",
                    "message": f.message,
                }
                rows.append(row)
                print(f"{rev} {f.rule_id} {f.severity.value} {f.path}:{f.line} {f.message}")
        print(f"# {rev} {totals[-1]:.2f}s total, {extra[-1]:.3f}s tree checks", flush=True)
    if totals:
        print(
            f"commits {len(totals)}: median total {statistics.median(totals):.2f}s, "
            f"median tree checks {statistics.median(extra):.3f}s, "
            f"max tree checks {max(extra):.2f}s, "
            f"share of total {sum(extra) / sum(totals):.1%}"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
