#!/usr/bin/env python3
"""How long the tier map of a whole QEMU tree takes, cold and from the cache.

    bench/tiers.py --repo QEMU_GIT [--rev master] [--runs 3]

Prints: opening the tree; building the map (no cache; median of --runs, and
the phases of one build: Kconfig, meson, targets, the rest); writing and
reading the cache; looking up meson-named files, a header (which greps the
tree for its includers) and a target/ header; and the size of the result.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from bot.tiers.cache import load_map, save_map
from bot.tiers.gittree import tree_from_git
from bot.tiers.kconfig import parse_kconfig
from bot.tiers.meson import read_meson
from bot.tiers.resolve import TreeTiers
from bot.tiers.rules import load_tier_rules
from bot.tiers.targets import read_targets
from bot.tiers.tiermap import build_tier_map

T = TypeVar("T")

LOOKUPS = (
    "hw/net/e1000.c",
    "hw/char/pl011.c",
    "hw/intc/riscv_aplic.c",
    "hw/m68k/virt.c",
    "hw/arm/musicpal.c",
    "hw/core/machine.c",
    "hw/scsi/esp.c",
    "hw/intc/apic_common.c",
    "hw/display/virtio-gpu.c",
)
HEADER = "include/hw/scsi/esp.h"
TARGET_HEADER = "target/arm/cpu.h"


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", type=Path, required=True)
    ap.add_argument("--rev", default="master")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    rules = load_tier_rules()
    tree, t_open = timed(lambda: tree_from_git(args.repo, args.rev))
    print(f"tree {tree.tree_id[:12]} of {args.repo} at {args.rev}")
    print(f"open tree                 {ms(t_open)}")

    # Phases, on a fresh tree so the first file reads are counted here.
    fresh = tree_from_git(args.repo, args.rev)
    _, t_kc = timed(lambda: parse_kconfig(fresh.read))
    _, t_meson = timed(lambda: read_meson(fresh.read, rules.layout))
    _, t_targets = timed(lambda: read_targets(fresh, rules))
    builds = []
    tmap = None
    for _ in range(args.runs):
        tmap, t = timed(lambda: build_tier_map(tree_from_git(args.repo, args.rev), rules))
        builds.append(t)
    assert tmap is not None
    print(
        f"build map (median of {args.runs}) {ms(statistics.median(builds))}"
        f"   min {ms(min(builds)).strip()}  max {ms(max(builds)).strip()}"
    )
    print(f"  of which Kconfig parse  {ms(t_kc)}")
    print(f"  of which meson read     {ms(t_meson)}")
    print(f"  of which targets        {ms(t_targets)}")

    with tempfile.TemporaryDirectory() as tmp:
        path, t_save = timed(lambda: save_map(Path(tmp), tmap))
        cached, t_load = timed(lambda: load_map(Path(tmp), tree.tree_id, rules.digest))
        assert cached is not None
        print(f"cache write               {ms(t_save)}   ({path.stat().st_size // 1024} KiB)")
        print(f"cache read                {ms(t_load)}")

    resolver = TreeTiers(tree, tmap, rules)
    _, t_lookups = timed(lambda: [resolver.decide(p) for p in LOOKUPS])
    print(f"lookup, meson-named file  {ms(t_lookups / len(LOOKUPS))}   (mean of {len(LOOKUPS)})")
    d, t_header = timed(lambda: resolver.decide(HEADER))
    print(f"lookup, header            {ms(t_header)}   {HEADER}: {d.tier.value}")
    d, t_target = timed(lambda: resolver.decide(TARGET_HEADER))
    print(f"lookup, target/ header    {ms(t_target)}   {TARGET_HEADER}: {d.tier.value}")

    tiers = Counter(e.tier.value if e.tier else "none" for e in tmap.files.values())
    how = Counter(e.how for e in tmap.files.values())
    print(f"files {len(tmap.files)}, boards {len(tmap.boards)}, targets {len(tmap.targets)}")
    print("tiers  " + ", ".join(f"{k} {v}" for k, v in sorted(tiers.items())))
    print("how    " + ", ".join(f"{k} {v}" for k, v in sorted(how.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
