#!/usr/bin/env python3
"""The tree model's speed, as a developer and a CI job meet it (issue 11's measures).

    bench/tree_model.py --repo QEMU_GIT [--rev master] [--commits 30]
                        [--move SHA] [--merge SHA] [--jobs 2]

Every figure is a whole ``migbot`` process (``python -m bot``), as a person runs
it, with a cache directory of its own that starts empty:

* ``check`` on the last N commits touching hw/ (a developer's series, oldest
  first; ``--first-parent`` takes the first-parent ones instead, years apart in
  QEMU), one process after the other: the first (cold) and the median of the
  rest, in wall and process (CPU) time, next to ``git show`` of the same
  commits in the same run;
* ``check`` of one large header move and one large merge (``--move``/``--merge``;
  the biggest first-parent changes of the last 3,000 commits when not given);
* ``audit`` of REV~1 cold, then of REV (what CI does after each push);
* the largest resident memory of any of these processes.

It ends with issue 11's four figures next to their targets, and the load
average: the machine may be shared, so compare the ratios to ``git show``
more than the seconds.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Run:
    wall: float
    cpu: float
    rss_mb: float
    code: int


def run(args: list[str], env: dict[str, str]) -> Run:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(args, env=env, capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(wall, cpu, after.ru_maxrss / 1024, proc.returncode)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


def biggest(repo: Path, rev: str, merges: bool) -> str:
    """The first-parent commit of the last 3,000 that changes the most files
    (a merge, or a plain commit that renames headers)."""
    out = git(
        repo, "log", "--first-parent", "-n", "3000", "--format=@%h %p", "--shortstat", "-M", rev
    )
    best, best_n, sha, parents = "", -1, "", 0
    for line in out.splitlines():
        if line.startswith("@"):
            sha, *ps = line[1:].split()
            parents = len(ps)
        elif "changed" in line and (parents > 1) == merges:
            n = int(line.split()[0])
            if n > best_n and (merges or "rename" in git(repo, "show", "--stat", "-M", sha)):
                best, best_n = sha, n
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", required=True, type=Path)
    ap.add_argument("--rev", default="master")
    ap.add_argument("--commits", type=int, default=30)
    ap.add_argument("--move")
    ap.add_argument("--merge")
    ap.add_argument("--jobs", default="2")
    ap.add_argument("--first-parent", action="store_true")
    a = ap.parse_args()
    load_before = os.getloadavg()
    cache = Path(tempfile.mkdtemp(prefix="migbot-bench-"))
    env = dict(os.environ, MIGBOT_CACHE_DIR=str(cache))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a developer's install keeps its bytecode
    bot = [sys.executable, "-m", "bot"]
    peak = 0.0

    shas = git(
        a.repo,
        "log",
        *(["--first-parent"] if a.first_parent else []),
        "--no-merges",
        f"-n{a.commits}",
        "--format=%H",
        a.rev,
        "--",
        "hw/",
    ).split()[::-1]
    checks = [run([*bot, "check", "--repo", str(a.repo), s], env) for s in shas]
    shows = [run(["git", "--git-dir", str(a.repo), "show", s], env) for s in shas]
    peak = max([peak, *(r.rss_mb for r in checks)])
    rest = checks[1:] or checks
    wall = statistics.median(r.wall for r in rest)
    cpu = statistics.median(r.cpu for r in rest)
    show = statistics.median(r.wall for r in shows)
    print(f"check, {len(shas)} consecutive hw/ commits (fresh cache):")
    print(f"  first (cold)      {checks[0].wall:6.2f} s wall  {checks[0].cpu:6.2f} s cpu")
    print(f"  median of rest    {wall:6.2f} s wall  {cpu:6.2f} s cpu")
    print(f"  git show median   {show:6.3f} s      ratio {wall / max(show, 1e-3):.0f}x")
    print(f"  exit codes        {sorted({r.code for r in checks})}")

    big: list[Run] = []
    for label, sha in (
        ("header move", a.move or biggest(a.repo, a.rev, merges=False)),
        ("merge", a.merge or biggest(a.repo, a.rev, merges=True)),
    ):
        files = len(git(a.repo, "diff", "--name-only", f"{sha}^", sha).splitlines())
        r = run([*bot, "check", "--repo", str(a.repo), sha], env)
        big.append(r)
        peak = max(peak, r.rss_mb)
        print(
            f"check, {label} {sha[:12]} ({files} files): {r.wall:.2f} s wall, "
            f"{r.cpu:.2f} s cpu, exit {r.code}"
        )

    audits: list[Run] = []
    for label, rev in (("cold", f"{a.rev}~1"), ("after ~1", a.rev)):
        r = run([*bot, "audit", "--repo", str(a.repo), "--rev", rev, "-j", a.jobs], env)
        audits.append(r)
        peak = max(peak, r.rss_mb)
        print(f"audit {rev} ({label}, {a.jobs} jobs): {r.wall:.2f} s wall, {r.cpu:.2f} s cpu")
    print(f"largest resident memory of a process: {peak:.0f} MB")
    print(f"(cache: {cache})")

    def verdict(value: float, target: float) -> str:
        return f"{value:6.2f}  (target < {target:g}: {'met' if value < target else 'MISSED'})"

    print("\nissue 11's figures:")
    print(f"  check, median process time after the first  {verdict(cpu, 0.3)} s cpu")
    print(f"                                   same, wall  {wall:6.2f} s")
    print(
        f"  header move / merge, slower of the two       {verdict(max(r.wall for r in big), 10)} s"
    )
    print(f"  audit cold / after ~1                        {verdict(audits[0].wall, 10)} s")
    print(f"                                               {verdict(audits[1].wall, 2)} s")
    print(f"  memory, largest process                      {verdict(peak, 500)} MB")
    load_after = os.getloadavg()
    print(
        f"  load average {load_before[0]:.1f} at the start, {load_after[0]:.1f} at the end "
        f"({os.cpu_count()} CPUs): seconds scale with it, ratios to git show less so"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
