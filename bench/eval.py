#!/usr/bin/env python3
"""Run `migbot check` over the labelled dev corpus and print how it did.

    bench/eval.py --repo QEMU_GIT --corpus ../shared/eval/dev.jsonl [--tier-from-tree]

Per set: hits / partial hits / misses for `flag` and `warn`, false alarms for
`info`/`ok`, any output at all for `silent`; recall per break label; time
taken; then every miss and false alarm by id with the bot's strongest finding.
"""

from __future__ import annotations

import argparse
import collections
import json
import time
from dataclasses import dataclass
from pathlib import Path

from bot.findings import Report, Severity
from bot.judge.catalogue import load_catalogue
from bot.judge.policy import load_policy
from bot.pipeline import ReviewOptions, review
from bot.scanner.cache import open_scan_cache
from bot.settings import cache_dir
from bot.sources.commits import change_from_range
from bot.sources.errors import SourceError
from bot.sources.gitrepo import open_repo
from bot.tiers.pick import pick_resolver

SCANS = open_scan_cache(cache_dir("scans"))

_VERSIONED = ("pc-i440fx", "pc-q35", "virt-", "pseries", "s390-ccw")


def expected_tier(entry: dict[str, object]) -> str | None:
    """The tier the labeller's reading implies, where it implies one."""
    label = entry.get("label")
    if label == "forward-only-on-versioned":
        return "bidirectional"
    if label == "forward-only-ok":
        return "not bidirectional"
    machines = " ".join(str(m) for m in entry.get("machines", []) or [])  # type: ignore[union-attr]
    if (
        entry.get("set") == "break"
        and "unversioned" not in machines
        and any(v in machines for v in _VERSIONED)
    ):
        return "bidirectional"
    return None


@dataclass
class Outcome:
    entry: dict[str, object]
    report: Report | None
    error: str | None
    seconds: float
    tier: str | None = None
    """The tier migbot computed for the entry's first C file."""

    def tier_agrees(self) -> bool | None:
        want = expected_tier(self.entry)
        if want is None or self.tier is None:
            return None
        if want == "not bidirectional":
            return self.tier != "bidirectional"
        return self.tier == want

    @property
    def worst(self) -> Severity | None:
        return self.report.worst() if self.report else None

    def verdict(self) -> str:
        """hit/partial/miss for flag+warn; ok/false-alarm for info+ok; ok/noise for silent."""
        expect = self.entry["expect"]
        w = self.worst
        if self.report is None:
            return "error"
        if expect == "flag":
            if w is Severity.ERROR:
                return "hit"
            return "partial" if w is Severity.WARNING else "miss"
        if expect == "warn":
            return "hit" if w in (Severity.ERROR, Severity.WARNING) else "miss"
        if expect in ("info", "ok"):
            return "false-alarm" if w in (Severity.ERROR, Severity.WARNING) else "ok"
        if expect == "silent":
            return "noise" if self.report.findings else "ok"
        return "?"


def run(repo: Path, corpus: Path, limit: int | None, only: set[str]) -> list[Outcome]:
    git = open_repo(repo)
    rows = [json.loads(line) for line in corpus.read_text().splitlines() if line.strip()]
    if only:
        rows = [r for r in rows if r["id"] in only]
    if limit:
        rows = rows[:limit]
    out = []
    for row in rows:
        commits = row["commits"]
        spec = (
            f"{row['base']}..{commits[-1]}"
            if row.get("base")
            else (f"{commits[0]}^..{commits[-1]}")
        )
        t0 = time.perf_counter()
        tier = None
        try:
            change = change_from_range(git, spec)
            report = review(
                change,
                ReviewOptions(cache_dir=cache_dir("tiers"), scans=SCANS),
                catalogue=load_catalogue(),
                policy=load_policy(),
            )
            err = None
            c_files = [f for f in row["files"] if f.endswith(".c")]
            if c_files and expected_tier(row) is not None:
                tier = pick_resolver(change, cache_dir("tiers"))(c_files[0]).tier.value
        except SourceError as exc:
            report, err = None, str(exc)
        out.append(Outcome(row, report, err, time.perf_counter() - t0, tier))
    return out


def summarise(outcomes: list[Outcome]) -> str:
    lines = []
    by_set: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    by_label: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for o in outcomes:
        v = o.verdict()
        by_set[str(o.entry["set"])][v] += 1
        if str(o.entry["set"]).startswith("break"):  # break, break-hard
            by_label[str(o.entry["label"])][v] += 1
    lines.append("per set:")
    for s, c in sorted(by_set.items()):
        lines.append(f"  {s:14} " + ", ".join(f"{k} {n}" for k, n in sorted(c.items())))
    breaks = [o for o in outcomes if o.entry["expect"] in ("flag", "warn")]
    flagged = sum(1 for o in breaks if o.verdict() in ("hit", "partial"))
    quiet = [o for o in outcomes if o.entry["expect"] in ("info", "ok", "silent")]
    alarms = sum(1 for o in quiet if o.verdict() in ("false-alarm", "noise"))
    strict = sum(
        1
        for o in quiet
        if o.entry["expect"] in ("info", "ok") or o.report is None or not o.report.findings
    )
    lines.append(
        f"recall (flag/warn flagged at warning or above): {flagged}/{len(breaks)}"
        f" = {flagged / max(1, len(breaks)):.0%}"
    )
    lines.append(
        f"false alarms on info/ok/silent entries: {alarms}/{len(quiet)}"
        f" (warning or above on info/ok, any output on silent; {strict} quiet entries clean)"
    )
    agree = sum(1 for o in outcomes if o.verdict() in ("hit", "ok"))
    lines.append(
        f"verdict agreement: {agree}/{len(outcomes)} = {agree / max(1, len(outcomes)):.0%}"
    )
    judged = [o for o in outcomes if o.tier_agrees() is not None]
    agreeing = sum(1 for o in judged if o.tier_agrees())
    lines.append(
        f"tier agreement (where the label implies a tier): {agreeing}/{len(judged)}"
        + "".join(
            f"\n    {o.entry['id']}: computed {o.tier}, label implies {expected_tier(o.entry)}"
            for o in judged
            if not o.tier_agrees()
        )
    )
    lines.append("recall per break label:")
    for label, c in sorted(by_label.items()):
        got = c["hit"] + c["partial"]
        lines.append(f"  {label:34} {got}/{sum(c.values())}")
    total = sum(o.seconds for o in outcomes)
    lines.append(
        f"time: {total:.1f} s for {len(outcomes)} changes "
        f"({total / max(1, len(outcomes)):.2f} s each)"
    )
    lines.append("misses and false alarms:")
    for o in outcomes:
        v = o.verdict()
        if v in ("hit", "ok"):
            continue
        top = ""
        if o.report and o.report.findings:
            f = max(o.report.findings, key=lambda f: f.severity.rank)
            top = f"{f.severity} {f.rule_id} {f.path}:{f.line} {f.message[:110]}"
        elif o.error:
            top = f"error: {o.error}"
        lines.append(
            f"  {o.entry['id']:>14} [{o.entry['set']}/{o.entry['label']}, "
            f"expect {o.entry['expect']}] {v}: {top or 'no finding'}"
        )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", type=Path, required=True)
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--limit", type=int)
    ap.add_argument("--only", nargs="*", default=[])
    ap.add_argument("--json", type=Path, help="write per-entry results here")
    args = ap.parse_args()
    outcomes = run(args.repo, args.corpus, args.limit, set(args.only))
    print(summarise(outcomes))
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    {
                        "id": o.entry["id"],
                        "expect": o.entry["expect"],
                        "verdict": o.verdict(),
                        "findings": [
                            [f.severity.value, f.rule_id, f.path, f.line, f.message]
                            for f in (o.report.findings if o.report else ())
                        ],
                    }
                    for o in outcomes
                ],
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
