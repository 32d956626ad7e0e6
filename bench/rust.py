#!/usr/bin/env python3
"""What the Rust side adds to the audit: the Rust scan and twin check, against the C scan.

    bench/rust.py --repo QEMU_GIT [--rev master] [--runs 5]

Prints, for each run, the seconds of the Rust scan of the whole tree (every
Rust device file, with its crate and the bindings' table learned cold) and of
the twin check, next to the C scan of the same revision run once as the
baseline, and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from bot.audit.output import twin_line
from bot.audit.rusttwins import scan_rust_tree, twin_results
from bot.audit.walk import scan_tree
from bot.scanner.rust import tree as rust_tree
from bot.scanner.treeinfo import macro_table
from bot.sources.gitrepo import GitRepo


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repo", required=True, type=Path)
    ap.add_argument("--rev", default="master")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    git = GitRepo(args.repo)
    start = time.perf_counter()
    c_scan = scan_tree(git, args.rev)
    c_seconds = time.perf_counter() - start
    tree = git.tree(c_scan.tree_id)
    table = macro_table(tree)
    print(f"C scan (baseline): {len(c_scan.files)} files in {c_seconds:.2f} s")
    times = []
    for run in range(args.runs):
        rust_tree._tables.clear()  # learn the bindings' table again: a cold audit
        t0 = time.perf_counter()
        files, _ = scan_rust_tree(tree, table)
        t1 = time.perf_counter()
        results = twin_results(c_scan, files, tree)
        t2 = time.perf_counter()
        times.append(t2 - t0)
        print(
            f"run {run + 1}: Rust scan {len(files)} files in {t1 - t0:.3f} s, "
            f"twin check of {len(results)} VMSDs in {t2 - t1:.3f} s"
        )
    med = statistics.median(times)
    print(f"Rust side, median of {args.runs}: {med:.3f} s ({med / c_seconds:.1%} of the C scan)")
    for r in results:
        print("  " + twin_line(r.twin))


if __name__ == "__main__":
    main()
