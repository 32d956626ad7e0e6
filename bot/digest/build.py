"""Changes of a period -> one `Digest`. Pure: values in, a value out.

A change's outcome is read from its review history at the period's end: still
open with errors, merged with errors nobody acknowledged, merged under an
override, fixed before merge (an earlier review failed, the last did not),
merged with warnings, merged clean. Counts per week, subsystem and rule come from the same changes.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from bot.digest.model import (
    OUTCOME_ORDER,
    TIER_ORDER,
    ChangeInput,
    CompatArray,
    CompatLine,
    Count,
    Digest,
    DigestLine,
    FindingNote,
    Outcome,
    OutcomeGroup,
    RetiredLine,
    TierGroup,
    WeekCount,
)
from bot.digest.period import WEEK, Period, label_of, weeks_before

MAX_WHAT = 6
"""Phrases per line; the rest is counted ("+3 more"): a digest line stays a line."""
TOP_RULES = 10
_RANK = {"error": 3, "warning": 2, "notice": 1, "info": 0}
_ARRAY_VERSION = re.compile(r"_(\d+)_(\d+)$")


def outcome_of(change: ChangeInput) -> Outcome:
    failing = bool(change.verdicts) and change.verdicts[-1] == "fail"
    if change.state == "closed":
        return Outcome.CLOSED
    if change.state != "merged":
        return Outcome.OPEN_ERRORS if failing else Outcome.OPEN
    if any(o.honoured for o in change.overrides) or any(f.override for f in change.findings):
        return Outcome.MERGED_OVERRIDE
    if failing:
        return Outcome.MERGED_ERRORS
    if "fail" in change.verdicts[:-1]:
        return Outcome.FIXED
    if change.verdicts and change.verdicts[-1] == "warn":
        return Outcome.MERGED_WARNINGS
    return Outcome.MERGED_CLEAN


def tier_of(change: ChangeInput) -> str:
    """The strictest tier among its findings (the latest review's, else earlier ones)."""
    tiers = {f.tier for f in change.findings} or {f.tier for f in change.earlier_findings}
    return next((t for t in TIER_ORDER if t in tiers), "unknown")


def subsystem(path: str) -> str:
    """``hw/net``, ``target/i386``, ``migration``: where a path belongs, headers included."""
    parts = path.split("/")
    if parts[0] == "include" and len(parts) > 2:
        parts = parts[1:]
    elif parts[0] == "rust" and len(parts) > 2 and parts[1] == "hw":
        parts = parts[1:]  # the Rust twin of a C device belongs with it
    if parts[0] in ("hw", "target") and len(parts) > 2:
        return f"{parts[0]}/{parts[1]}"
    return parts[0] if len(parts) > 1 else "(top level)"


def _phrases(findings: Sequence[FindingNote]) -> tuple[str, ...]:
    """``e1000: field-added-unversioned (foo, bar)``: one phrase per VMSD and rule."""
    subjects: dict[tuple[str, str], list[str]] = defaultdict(list)
    for f in sorted(findings, key=lambda f: (-_RANK.get(f.severity, 0), f.rule_id)):
        where = f.vmsd or f.path.rsplit("/", 1)[-1]
        bucket = subjects[(where, f.slug or f.rule_id)]
        if f.subject and f.subject not in bucket:
            bucket.append(f.subject)
    out = [
        f"{where}: {slug}"
        + (f" ({', '.join(subs[:3])}{', ...' if len(subs) > 3 else ''})" if subs else "")
        for (where, slug), subs in subjects.items()
    ]
    if len(out) > MAX_WHAT:
        out = [*out[: MAX_WHAT - 1], f"+{len(out) - MAX_WHAT + 1} more"]
    return tuple(out)


def _acknowledged(change: ChangeInput) -> tuple[str, ...]:
    out = []
    for o in change.overrides:
        who = o.by or "someone"
        if not o.honoured:
            out.append(f"{o.label} by {who} not honoured (no maintainer rights)")
            continue
        lowered = sorted(
            {f"{f.rule_id} on {f.vmsd or f.path}" for f in change.findings if f.override == o.label}
        )
        what = ", ".join(lowered) if lowered else (o.effect or "the findings")
        out.append(f"{o.label} by {who}: {what}")
    return tuple(out)


def line_of(change: ChangeInput) -> DigestLine:
    latest_errors = [f for f in change.findings if f.severity == "error"]
    still = {f.fingerprint for f in change.findings}
    fixed = sorted(
        {
            f"{f.rule_id} {f.slug} ({f.vmsd or f.path})"
            for f in change.earlier_findings
            if f.fingerprint not in still and (f.base_severity or f.severity) == "error"
        }
    )
    vmsds = sorted({f.vmsd for f in (*change.findings, *change.earlier_findings) if f.vmsd})
    return DigestLine(
        ref=change.ref,
        title=change.title,
        url=change.url,
        author=change.author,
        labels=change.labels,
        state=change.state,
        when=change.when,
        outcome=outcome_of(change),
        tier=tier_of(change),
        vmsds=tuple(vmsds),
        what=_phrases(change.findings or change.earlier_findings) + change.retired,
        compat=_compat_phrases(change),
        acknowledged=_acknowledged(change),
        errors=len(latest_errors),
        warnings=sum(1 for f in change.findings if f.severity == "warning"),
        fixed=tuple(fixed),
        patches=change.patches,
        via=change.via,
    )


def _groups(lines: Iterable[DigestLine]) -> tuple[OutcomeGroup, ...]:
    by: dict[Outcome, dict[str, list[DigestLine]]] = defaultdict(lambda: defaultdict(list))
    for line in sorted(lines, key=lambda x: (x.when, x.ref)):
        by[line.outcome][line.tier].append(line)
    return tuple(
        OutcomeGroup(
            outcome,
            tuple(TierGroup(t, tuple(by[outcome][t])) for t in TIER_ORDER if by[outcome][t]),
        )
        for outcome in OUTCOME_ORDER
        if outcome in by
    )


def _array_key(name: str) -> tuple[int, int, str]:
    """Newest release first: ``hw_compat_10_2`` before ``hw_compat_10_1``."""
    match = _ARRAY_VERSION.search(name)
    major, minor = (int(match.group(1)), int(match.group(2))) if match else (-1, -1)
    return (-major, -minor, name)


def _compat(changes: Iterable[ChangeInput]) -> tuple[CompatArray, ...]:
    added: dict[str, list[CompatLine]] = defaultdict(list)
    removed: dict[str, list[CompatLine]] = defaultdict(list)
    for c in sorted(changes, key=lambda c: (c.when, c.ref)):
        for entry in c.compat:
            into = added if entry.change == "added" else removed
            into[entry.array].append(CompatLine(entry.text, entry.change, c.ref, c.url, c.state))
    return tuple(
        CompatArray(a, tuple(added[a]), tuple(removed[a]))
        for a in sorted({*added, *removed}, key=_array_key)
    )


def _compat_phrases(change: ChangeInput) -> tuple[str, ...]:
    """Added entries in full; removals counted per array (old machine types going away)."""
    out = [f"{c.array} + {c.text}" for c in change.compat if c.change == "added"]
    gone: Counter[str] = Counter(c.array for c in change.compat if c.change != "added")
    out += [f"{a}: {n} removed" for a, n in sorted(gone.items(), key=lambda kv: _array_key(kv[0]))]
    return tuple(out)


def _bucket(when: datetime, until: datetime, count: int) -> int | None:
    """Index of the seven-day bucket (of ``count`` ending at ``until``) holding ``when``."""
    if when >= until:
        return None
    back = int((until - when) // WEEK)
    return count - 1 - back if back < count else None


def _charted(c: ChangeInput) -> bool:
    return c.affecting and c.state != "closed"


def _weeks(changes: Iterable[ChangeInput], until: datetime, count: int) -> tuple[WeekCount, ...]:
    starts = weeks_before(until, count)
    tally: list[Counter[str]] = [Counter() for _ in starts]
    for c in changes:
        i = _bucket(c.when, until, count) if _charted(c) else None
        if i is not None:
            tally[i][tier_of(c)] += 1
    return tuple(
        WeekCount(s, label_of(s, s + WEEK), tuple((t, n[t]) for t in TIER_ORDER))
        for s, n in zip(starts, tally, strict=True)
    )


def _paths(c: ChangeInput) -> set[str]:
    return {f.path for f in (*c.findings, *c.earlier_findings)} | {
        e.path for e in c.compat if e.path
    }


def _subsystems(changes: Sequence[ChangeInput], period: Period, count: int) -> tuple[Count, ...]:
    """Changes per subsystem in the period, with the same counts per week of the chart."""
    current: Counter[str] = Counter()
    weekly: dict[str, list[int]] = defaultdict(lambda: [0] * count)
    for c in changes:
        if not _charted(c):
            continue
        names = {subsystem(p) for p in _paths(c)}
        if period.holds(c.when):
            current.update(names)
        i = _bucket(c.when, period.until, count)
        if i is not None:
            for name in names:
                weekly[name][i] += 1
    ranked = sorted({*current, *weekly}, key=lambda n: (-current[n], -sum(weekly.get(n, ())), n))
    return tuple(Count(n, current[n], weekly=tuple(weekly.get(n, [0] * count))) for n in ranked)


def _rules(changes: Sequence[ChangeInput]) -> tuple[Count, ...]:
    findings: Counter[str] = Counter()
    touched: Counter[str] = Counter()
    slugs: dict[str, str] = {}
    for c in changes:
        seen: dict[str, FindingNote] = {}
        for f in (*c.findings, *c.earlier_findings):
            seen.setdefault(f.fingerprint, f)
        for f in seen.values():
            findings[f.rule_id] += 1
            slugs[f.rule_id] = f.slug
        touched.update({f.rule_id for f in seen.values()})
    ranked = sorted(findings, key=lambda r: (-findings[r], -touched[r], r))[:TOP_RULES]
    return tuple(Count(r, touched[r], findings[r], slugs[r]) for r in ranked)


def build(
    changes: Iterable[ChangeInput],
    period: Period,
    *,
    generated_at: datetime,
    source: str,
    weeks: int = 8,
) -> Digest:
    """The digest of ``period``; ``changes`` may reach back ``weeks`` weeks for the chart."""
    every = list(changes)
    current = [c for c in every if period.holds(c.when)]
    affecting = [c for c in current if c.affecting]
    landed_or_open = [c for c in affecting if c.state != "closed"]
    return Digest(
        key=period.key,
        title=period.title,
        since=period.since,
        until=period.until,
        generated_at=generated_at,
        source=source,
        reviewed=len(current),
        groups=_groups(line_of(c) for c in affecting),
        compat=_compat(landed_or_open),
        weeks=_weeks(every, period.until, max(1, weeks)),
        subsystems=_subsystems(every, period, max(1, weeks)),
        rules=_rules(affecting),
        retired=tuple(
            RetiredLine(what, c.ref, c.url, c.state) for c in landed_or_open for what in c.retired
        ),
    )
