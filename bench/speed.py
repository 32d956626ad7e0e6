#!/usr/bin/env python3
"""How fast `migbot check` is on real history, against reading the same data.

    bench/speed.py --repo QEMU_GIT [--range master~200..master] [--count 100]

Prints, over the non-merge commits of the range: the analysis time per commit
(p50, p90, max) next to `git show` of the same commits (the floor: reading the
data), as a ratio measured in the same run; then the time to scan every VMSD
of a whole tree (one process, and with a process per core).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bot.judge.catalogue import load_catalogue
from bot.judge.policy import load_policy
from bot.pipeline import ReviewOptions, review
from bot.scanner.cache import open_scan_cache
from bot.scanner.treeinfo import macro_table
from bot.settings import cache_dir
from bot.sources import change_from_range, open_repo

SCANS = open_scan_cache(cache_dir("scans"))


def commits(repo: Path, spec: str, count: int) -> list[str]:
    return subprocess.run(
        ["git", "--git-dir", str(repo), "rev-list", "--no-merges", f"--max-count={count}", spec],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def per_commit(repo: Path, shas: list[str]) -> tuple[list[float], list[float]]:
    git = open_repo(repo)
    ours, floor = [], []
    for sha in shas:
        t0 = time.perf_counter()
        subprocess.run(
            ["git", "--git-dir", str(repo), "show", "--no-textconv", sha],
            check=True,
            capture_output=True,
        )
        floor.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        review(
            change_from_range(git, sha),
            ReviewOptions(cache_dir=cache_dir("tiers"), scans=SCANS),
            catalogue=load_catalogue(),
            policy=load_policy(),
        )
        ours.append(time.perf_counter() - t0)
    return ours, floor


_TABLE = None


def _scan_paths(args: tuple[str, str, list[str]]) -> tuple[int, int]:
    from bot.scanner.scan import scan

    repo, rev, paths = args
    git = open_repo(Path(repo))
    tree = git.tree(git.commit(rev).tree)
    table = macro_table(tree)
    vmsds = fields = 0
    for path in paths:
        text = tree.read(path)
        if text is None:
            continue
        model = scan(text, path, table)
        vmsds += len(model.vmsds)
        fields += sum(len(v.fields) for v in model.vmsds)
    return vmsds, fields


def whole_tree(repo: Path, rev: str, jobs: int) -> tuple[float, int, int, int]:
    t0 = time.perf_counter()
    paths = subprocess.run(
        [
            "git",
            "--git-dir",
            str(repo),
            "grep",
            "-l",
            "-F",
            "VMStateDescription",
            rev,
            "--",
            "*.c",
            "*.h",
            "*.inc",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    paths = [p.split(":", 1)[1] for p in paths]
    chunks = [paths[i::jobs] for i in range(jobs)]
    if jobs == 1:
        results = [_scan_paths((str(repo), rev, paths))]
    else:
        with ProcessPoolExecutor(jobs) as pool:
            results = list(pool.map(_scan_paths, [(str(repo), rev, c) for c in chunks]))
    vmsds = sum(r[0] for r in results)
    fields = sum(r[1] for r in results)
    return time.perf_counter() - t0, len(paths), vmsds, fields


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", type=Path, required=True)
    ap.add_argument("--range", default="master~300..master")
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--rev", default="master", help="tree for the whole-tree scan")
    args = ap.parse_args()
    shas = commits(args.repo, args.range, args.count)
    ours, floor = per_commit(args.repo, shas)
    print(f"per commit over {len(shas)} commits of {args.range}:")
    print(
        f"  migbot check: p50 {statistics.median(ours) * 1000:.0f} ms, "
        f"p90 {pct(ours, 0.9) * 1000:.0f} ms, max {max(ours) * 1000:.0f} ms, "
        f"total {sum(ours):.1f} s"
    )
    print(
        f"  git show:     p50 {statistics.median(floor) * 1000:.0f} ms, "
        f"p90 {pct(floor, 0.9) * 1000:.0f} ms, total {sum(floor):.1f} s"
    )
    print(f"  ratio (total migbot / total git show): {sum(ours) / sum(floor):.1f}x")
    for jobs in (1, os.cpu_count() or 1):
        secs, files, vmsds, fields = whole_tree(args.repo, args.rev, jobs)
        print(
            f"whole tree {args.rev} with {jobs} process(es): {files} files, {vmsds} VMSDs, "
            f"{fields} fields in {secs:.1f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
