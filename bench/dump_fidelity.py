#!/usr/bin/env python3
"""How closely ``migbot dump`` matches QEMU's own ``-dump-vmstate`` output.

    bench/dump_fidelity.py --repo QEMU_GIT [--rev V7.2.0] [--dumps-rev master]
                           [--only pc-q35-7.2 ...] [--show 8] [--json out.json]

QEMU keeps real dumps of QEMU 7.2 in tests/data/vmstate-static-checker/
<arch>/<machine>.json (added in 2025, taken from 7.2.17 built
``--without-default-devices``, a few devices removed by hand). They are read
with git from ``--dumps-rev`` (never copied anywhere), and each is held item
by item against ``migbot dump`` of the v7.2.0 source (``--rev``; by default
the first-parent master commit whose VERSION reads 7.2.0) with the same
machine and target.

Per machine it prints sections matched, missing (in QEMU's dump, not ours)
and extra (ours only: the real binary was built without default devices, so
extras are expected); descriptions whose name and versions match; fields
matched by name and version (aligned in order, nested descriptions and
subsections included; a field of a missing section counts as unmatched);
sizes matched; and then the first mismatches of each class.
"""

from __future__ import annotations

import argparse
import difflib
import json
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.audit.dumptree import dump_tree
from bot.scanner.cache import open_scan_cache
from bot.settings import cache_dir as settings_cache_dir
from bot.sources.gitrepo import GitRepo

REFERENCE = "tests/data/vmstate-static-checker"
MACHINE = "vmschkmachine"
STABLE = {
    "goldfish_rtc": "3521f9cadc goldfish_rtc: Fix tick_offset migration (2025, version 3)",
    "cfi.pflash01/pflash_cfi01_blk_write": "284a7ee2e2 hw/pflash: implement update buffer",
}
"""Differences of 7.2.17 (the dumps) from 7.2.0 (the source): fixes backported to
the stable branch after the release. Their mismatches are counted apart."""


@dataclass
class Tally:
    sections: int = 0
    matched_sections: int = 0
    missing_sections: int = 0
    extra_sections: int = 0
    descriptions: int = 0
    descriptions_ok: int = 0
    fields: int = 0
    fields_ok: int = 0
    """Real fields with a field of ours at the same place, same name and version."""
    sizes_ok: int = 0
    exists_ok: int = 0
    classes: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def miss(self, cls: str, where: str, what: str = "") -> None:
        if any(where == k or where.startswith(k + "/") for k in STABLE):
            cls = f"stable-backport ({cls})"
        self.classes[cls] += 1
        self.examples[cls].append(f"{where}{': ' + what if what else ''}")


def count_fields(desc: Mapping[str, Any]) -> tuple[int, int]:
    """(descriptions, fields) in ``desc``, nested ones included."""
    d, f = 1, 0
    for item in desc.get("Fields", []):
        f += 1
        if "Description" in item:
            dd, ff = count_fields(item["Description"])
            d, f = d + dd, f + ff
    for sub in desc.get("Subsections", []):
        dd, ff = count_fields(sub)
        d, f = d + dd, f + ff
    return d, f


def compare_description(
    real: Mapping[str, Any], ours: Mapping[str, Any], where: str, t: Tally
) -> None:
    t.descriptions += 1
    ok = True
    if real.get("name") != ours.get("name"):
        t.miss("description-name", where, f"{real.get('name')!r} ours {ours.get('name')!r}")
        ok = False
    for key in ("version_id", "minimum_version_id"):
        if real.get(key) != ours.get(key):
            t.miss(f"description-{key}", where, f"{real.get(key)} ours {ours.get(key)}")
            ok = False
    t.descriptions_ok += ok
    compare_fields(real.get("Fields", []), ours.get("Fields", []), where, t)
    compare_subsections(real.get("Subsections", []), ours.get("Subsections", []), where, t)


def compare_fields(
    real: Sequence[Mapping[str, Any]], ours: Sequence[Mapping[str, Any]], where: str, t: Tally
) -> None:
    names_r = [f["field"] for f in real]
    names_o = [f["field"] for f in ours]
    pairs: dict[int, int] = {}
    sm = difflib.SequenceMatcher(a=names_r, b=names_o, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            pairs.update({i1 + k: j1 + k for k in range(i2 - i1)})
        elif tag == "replace" and i2 - i1 == j2 - j1:
            # same count: a renamed field at the same place
            pairs.update({i1 + k: j1 + k for k in range(i2 - i1)})
    used = set(pairs.values())
    for i, rf in enumerate(real):
        here = f"{where}/{rf['field']}"
        if i not in pairs:
            t.fields += 1
            t.miss("field-missing", here, f"size {rf.get('size')}")
            if "Description" in rf:
                d, f = count_fields(rf["Description"])
                t.descriptions += d
                t.fields += f
            continue
        of = ours[pairs[i]]
        t.fields += 1
        name_ok = rf["field"] == of["field"]
        version_ok = rf.get("version_id") == of.get("version_id")
        if not name_ok:
            t.miss("field-name", here, f"ours {of['field']!r}")
        if not version_ok:
            t.miss("field-version", here, f"{rf.get('version_id')} ours {of.get('version_id')}")
        if name_ok and version_ok:
            t.fields_ok += 1
        if rf.get("size") == of.get("size"):
            t.sizes_ok += 1
        elif of.get("size") is None:
            t.miss("size-null", here, f"real {rf.get('size')}")
        else:
            t.miss("size-differs", here, f"real {rf.get('size')} ours {of.get('size')}")
        if rf.get("field_exists") == of.get("field_exists"):
            t.exists_ok += 1
        else:
            t.miss("field-exists", here, f"real {rf.get('field_exists')}")
        if "num" in rf and rf.get("num") != of.get("num"):
            t.miss("field-num", here, f"real {rf.get('num')} ours {of.get('num')}")
        if "Description" in rf and "Description" in of:
            compare_description(rf["Description"], of["Description"], here, t)
        elif "Description" in rf:
            t.miss("nested-missing", here, rf["Description"].get("name", ""))
            d, f = count_fields(rf["Description"])
            t.descriptions += d
            t.fields += f
        elif "Description" in of:
            t.miss("nested-extra", here, of["Description"].get("name", ""))
    for j, of in enumerate(ours):
        if j not in used:
            t.miss("field-extra", f"{where}/{of['field']}", f"size {of.get('size')}")


def compare_subsections(
    real: Sequence[Mapping[str, Any]], ours: Sequence[Mapping[str, Any]], where: str, t: Tally
) -> None:
    by_name = {s.get("name"): s for s in ours}
    seen = set()
    for rs in real:
        name = rs.get("name")
        here = f"{where}/{name}"
        if name in by_name:
            seen.add(name)
            compare_description(rs, by_name[name], here, t)
        else:
            t.miss("subsection-missing", here)
            d, f = count_fields(rs)
            t.descriptions += d
            t.fields += f
    for name in by_name:
        if name not in seen:
            t.miss("subsection-extra", f"{where}/{name}")


def compare(real: Mapping[str, Any], ours: Mapping[str, Any]) -> Tally:
    t = Tally()
    for name, sec in real.items():
        if name == MACHINE:
            continue
        t.sections += 1
        if name not in ours:
            t.missing_sections += 1
            t.miss("section-missing", name)
            d, f = count_fields(sec["Description"])
            t.descriptions += d
            t.fields += f
            continue
        t.matched_sections += 1
        mine = ours[name]
        for key in ("version_id", "minimum_version_id"):
            if sec.get(key) != mine.get(key):
                t.miss(f"section-{key}", name, f"{sec.get(key)} ours {mine.get(key)}")
        compare_description(sec["Description"], mine["Description"], name, t)
    for name in ours:
        if name != MACHINE and name not in real:
            t.extra_sections += 1
            t.miss("section-extra", name)
    return t


def pct(a: int, b: int) -> str:
    return f"{a}/{b} ({100.0 * a / b:.1f} %)" if b else f"{a}/0"


def v720(git: GitRepo) -> str:
    out = git.run(
        ["log", "--first-parent", "--format=%H", "--grep=Update VERSION for v7.2.0$", "master"]
    ).decode()
    for sha in out.split():
        text = git.read_path(git.commit(sha).tree, "VERSION")
        if text is not None and text.strip() == "7.2.0":
            return sha
    raise SystemExit("no first-parent master commit with VERSION 7.2.0")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, required=True, help="QEMU git repository")
    parser.add_argument("--rev", default=None, help="source revision (default: v7.2.0)")
    parser.add_argument("--dumps-rev", default="master", help="where the real dumps are read")
    parser.add_argument("--only", nargs="*", default=None, help="machine types to run")
    parser.add_argument("--show", type=int, default=8, help="mismatches listed per class")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()

    git = GitRepo(args.repo)
    rev = args.rev or v720(git)
    dumps_tree = git.commit(args.dumps_rev).tree
    listing = git.run(["ls-tree", "-r", "--name-only", dumps_tree, "--", REFERENCE]).decode()
    cases = sorted(p for p in listing.split() if p.count("/") == 4 and p.endswith(".json"))
    scans = open_scan_cache(settings_cache_dir("scans"))
    print(f"source {rev[:12]}, real dumps from {args.dumps_rev}")
    totals = Tally()
    figures: dict[str, Any] = {}
    for path in cases:
        arch, machine = path.split("/")[-2], path.split("/")[-1].removesuffix(".json")
        if args.only and machine not in args.only:
            continue
        text = git.read_path(dumps_tree, path)
        assert text is not None
        real = json.loads(text)
        t0 = time.perf_counter()
        ours = dump_tree(git, rev, machine=machine, target=arch, jobs=args.jobs, scans=scans)
        t = compare(real, ours.data)
        print(f"\n{arch}/{machine} ({time.perf_counter() - t0:.0f} s)")
        print(
            f"  sections: matched {pct(t.matched_sections, t.sections)}, "
            f"missing {t.missing_sections}, extra {t.extra_sections}"
        )
        print(f"  descriptions name+versions: {pct(t.descriptions_ok, t.descriptions)}")
        print(f"  fields name+version:        {pct(t.fields_ok, t.fields)}")
        print(f"  sizes:                      {pct(t.sizes_ok, t.fields)}")
        print(f"  field_exists:               {pct(t.exists_ok, t.fields)}")
        for cls, n in t.classes.most_common():
            print(f"  {n:4} {cls}")
            for ex in t.examples[cls][: args.show]:
                print(f"         {ex}")
        figures[machine] = {
            "sections": t.sections,
            "matched_sections": t.matched_sections,
            "missing_sections": t.missing_sections,
            "extra_sections": t.extra_sections,
            "descriptions": t.descriptions,
            "descriptions_ok": t.descriptions_ok,
            "fields": t.fields,
            "fields_ok": t.fields_ok,
            "sizes_ok": t.sizes_ok,
            "classes": dict(t.classes),
        }
        for k in ("sections", "matched_sections", "missing_sections", "extra_sections"):
            setattr(totals, k, getattr(totals, k) + getattr(t, k))
        for k in ("descriptions", "descriptions_ok", "fields", "fields_ok", "sizes_ok"):
            setattr(totals, k, getattr(totals, k) + getattr(t, k))
        for k in ("exists_ok",):
            setattr(totals, k, getattr(totals, k) + getattr(t, k))
        totals.classes.update(t.classes)
    print("\nall machines")
    print(
        f"  sections: matched {pct(totals.matched_sections, totals.sections)}, "
        f"missing {totals.missing_sections}, extra {totals.extra_sections}"
    )
    print(f"  descriptions name+versions: {pct(totals.descriptions_ok, totals.descriptions)}")
    print(f"  fields name+version:        {pct(totals.fields_ok, totals.fields)}")
    print(f"  sizes:                      {pct(totals.sizes_ok, totals.fields)}")
    print(f"  field_exists:               {pct(totals.exists_ok, totals.fields)}")
    print("  " + ", ".join(f"{cls} {n}" for cls, n in totals.classes.most_common()))
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
