"""Patch series still on the list (``--series-refs``), as changes of the git door.

A series ref is dated by its tip (when it was posted) and based where it
leaves the branch. Versions of one series (same first patch subject: the
author of that patch may change between versions) become one change whose
earlier versions are its earlier reviews, like the pushes of a merge request.
A series whose every patch subject landed in one first-parent commit becomes
an earlier review of that landing: that is how "fixed before merge" shows
without a forge.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from bot.digest.model import ChangeInput, FindingNote
from bot.sources.gitrepo import GitRepo

_SEP = "\x1f"


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    tip: str
    when: datetime


@dataclass(frozen=True, slots=True)
class SeriesChange:
    """One series version as a change, with what identifies it across versions."""

    change: ChangeInput
    subjects: frozenset[str]
    first: str
    """The first patch's subject: what names the series across its versions."""


def series_refs(
    repo: GitRepo,
    patterns: Sequence[str],
    exclude: Sequence[str],
    since: datetime,
    until: datetime,
) -> list[Series]:
    """Refs whose name (short or full) matches a pattern and none of ``exclude``,
    with a tip committed in [since, until), oldest first."""
    out = repo.run(
        [
            "for-each-ref",
            f"--format=%(refname){_SEP}%(refname:short){_SEP}%(objectname){_SEP}"
            "%(committerdate:unix)",
        ]
    )
    found = []
    for line in out.decode("utf-8", "replace").splitlines():
        full, short, oid, unix = line.split(_SEP)

        def hit(globs: Sequence[str], names: tuple[str, str] = (full, short)) -> bool:
            return any(fnmatch.fnmatchcase(n, g) for n in names for g in globs)

        if not unix or not hit(patterns) or hit(exclude):
            continue
        when = datetime.fromtimestamp(int(unix), UTC)
        if since <= when < until:
            found.append(Series(short, oid, when))
    return sorted(found, key=lambda s: (s.when, s.name))


def _older_findings(newest: ChangeInput, older: Sequence[ChangeInput]) -> tuple[FindingNote, ...]:
    still = {f.fingerprint for f in newest.findings}
    earlier = {f.fingerprint: f for f in newest.earlier_findings}
    for change in older:
        for f in (*change.findings, *change.earlier_findings):
            if f.fingerprint not in still:
                earlier.setdefault(f.fingerprint, f)
    return tuple(earlier.values())


def merge_versions(versions: Sequence[SeriesChange]) -> list[SeriesChange]:
    """One change per series: the newest version, with the older ones as its history."""
    groups: dict[str, list[SeriesChange]] = {}
    for v in versions:
        groups.setdefault(v.first, []).append(v)
    out = []
    for group in groups.values():
        group.sort(key=lambda v: v.change.when)
        newest = group[-1]
        older = [v.change for v in group[:-1]]
        merged = replace(
            newest.change,
            verdicts=tuple(x for c in [*older, newest.change] for x in c.verdicts),
            earlier_findings=_older_findings(newest.change, older),
        )
        out.append(replace(newest, change=merged))
    return out


def fold_landed(
    landed: Sequence[ChangeInput],
    series: Sequence[SeriesChange],
    subject_landing: Mapping[str, str],
) -> list[ChangeInput]:
    """Landings, with each series whose every subject landed in one of them folded
    in as its earlier review; the other series as open changes."""
    by_key = {c.key: c for c in landed}
    open_series = []
    for s in series:
        where = {subject_landing.get(subject) for subject in s.subjects}
        key = next(iter(where)) if len(where) == 1 else None
        if key is None or key not in by_key:
            open_series.append(s.change)
            continue
        target = by_key[key]
        by_key[key] = replace(
            target,
            verdicts=(*s.change.verdicts, *target.verdicts),
            earlier_findings=_older_findings(target, [s.change]),
        )
    return [*by_key.values(), *open_series]
