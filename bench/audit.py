#!/usr/bin/env python3
"""The whole-tree audit of a QEMU repository: time, counts, findings.

    bench/audit.py --repo QEMU_GIT [--rev master] [--jobs N] [--tier T] [--reference]

Prints the wall time and CPU time (this process and its workers) of
``migbot audit``, what was scanned, the inventory summary and every finding.
``--reference`` also dumps the VMSDs from source for the machines of QEMU's
reference dumps (tests/data/vmstate-static-checker/) and compares each
reference dump to them, as tests/functional/generic/test_vmstate.py does with a
built QEMU.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

from bot.audit.dump import dump_vmstate
from bot.audit.dumpreport import issues_to_report
from bot.audit.dumptree import machine_filter
from bot.audit.index import TreeIndex
from bot.audit.output import summary_line
from bot.audit.run import audit
from bot.audit.walk import scan_tree
from bot.compare.dumps import compare_dumps
from bot.findings import Tier
from bot.sources.gitrepo import GitRepo

REFERENCE = "tests/data/vmstate-static-checker"


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def reference_dumps(git: GitRepo, rev: str, jobs: int | None) -> None:
    commit = git.commit(rev)
    listing = git.run(["ls-tree", "-r", "--name-only", commit.tree, "--", REFERENCE]).decode()
    cases = [p for p in listing.split() if p.count("/") == 4 and p.endswith(".json")]
    if not cases:
        print("no reference dumps in this revision")
        return
    t0 = time.perf_counter()
    scan = scan_tree(git, rev, jobs=jobs)
    index = TreeIndex.build(scan.models, scan.strings)
    print(f"\nreference dumps against dumps from source ({time.perf_counter() - t0:.1f} s scan):")
    for path in sorted(cases):
        arch, machine = path.split("/")[-2], path.split("/")[-1].removesuffix(".json")
        text = git.read_path(commit.tree, path)
        assert text is not None
        chosen = machine_filter(git, commit.tree, machine, None, arch)
        ours = dump_vmstate(
            index, machine=machine, include=chosen.include, target_bits=chosen.target_bits
        )
        issues = compare_dumps(json.loads(text), ours.data)
        report = issues_to_report(issues, src_name=f"{arch}/{machine}", dst_name="source")
        upstream = sum(1 for i in issues if i.upstream and i.kind != "machine-mismatch")
        print(
            f"  {arch}/{machine}: {len(ours.data) - 1} sections from source; "
            f"{upstream} upstream-checker differences, {len(report.findings)} findings"
        )
        for f in report.findings:
            print(f"    {f.severity.value:7} {f.rule_id} {f.message}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, required=True, help="QEMU git repository")
    parser.add_argument("--rev", default="HEAD")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: CPUs)")
    parser.add_argument("--tier", choices=[t.value for t in Tier], help="force one tier")
    parser.add_argument("--reference", action="store_true", help="compare the reference dumps")
    args = parser.parse_args()

    wall, cpu = time.perf_counter(), cpu_seconds()
    result = audit(args.repo, args.rev, tier=Tier(args.tier) if args.tier else None, jobs=args.jobs)
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    report = result.report
    print(f"audit of {args.rev} ({result.commit[:12]}) with {result.jobs} worker(s)")
    print(
        f"  wall {wall:.1f} s (scan {result.scan_seconds:.1f} s), "
        f"CPU {cpu:.1f} s in this process and its workers"
    )
    print(f"  {result.files} files scanned; {summary_line(result.inventory)}")
    for tier, counts in result.inventory.by_tier:
        print(f"  {tier}: {counts.vmsds} VMSDs, {counts.fields} fields in {counts.files} files")
    print(f"  {len(report.not_understood)} constructs not understood")
    print(
        f"  {len(result.problems)} problems before tiers, {len(report.findings)} findings: "
        + ", ".join(
            f"{s.value} {report.count(s)}"
            for s in sorted({f.severity for f in report.findings}, key=lambda s: -s.rank)
        )
    )
    for note in report.notes:
        print(f"  note: {note}")
    print()
    for f in report.findings:
        print(f"{f.path}:{f.line}: {f.severity.value} {f.rule_id} [{f.tier.value}] {f.message}")
    if args.reference:
        reference_dumps(GitRepo(args.repo), args.rev, args.jobs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
