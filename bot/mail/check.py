"""One series version through the pipeline: its base, its change, its acks, its report.

The base is the ``base-commit:`` the series names when the mirror has it, else
the mirror's branch as it stood when the series was posted. Acks: a
maintainer's ``Acked-by:`` on the cover letter covers every finding, one on a
patch covers the findings in that patch's files, and one given on an earlier
version covers the findings it covered then (by fingerprint), not new ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.change import Change
from bot.findings import Finding, Override, Report
from bot.judge.catalogue import load_catalogue
from bot.judge.policy import load_policy
from bot.mail.overrides import Ack, Maintainers, load_maintainers
from bot.mail.series import Series
from bot.pipeline import AppliedLabel, ReviewOptions, review
from bot.scanner.cache import open_scan_cache
from bot.settings import cache_dir
from bot.sources.errors import SourceError
from bot.sources.gitrepo import GitRepo
from bot.sources.patch import change_from_patch


@dataclass(frozen=True, slots=True)
class CarriedAck:
    """An honoured ack from an earlier version, and the findings it covered there."""

    who: str
    version: int
    fingerprints: frozenset[str]


@dataclass(frozen=True, slots=True)
class Coverage:
    """Which findings of this version an ack covers."""

    who: str
    version: int
    """The version the ack was given on."""
    covered: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class SeriesReview:
    series: Series
    change: Change
    report: Report
    base_how: str
    """How the base was chosen, for the reply."""
    acks: tuple[dict[str, Any], ...]
    """This version's acks, as stored (honoured or not, with what they covered)."""
    coverage: tuple[Coverage, ...]
    not_covered: tuple[Finding, ...]
    """Errors and warnings an earlier version's ack does not cover (new since)."""


def choose_base(git: GitRepo, series: Series, branch: str) -> tuple[str, str]:
    """(commit, how it was chosen); `SourceError` when the branch has nothing then."""
    if series.base_commit:
        try:
            return git.commit(series.base_commit).oid, "its base-commit"
        except SourceError:
            pass
    when = series.posted_at.isoformat()
    out = git.run(["rev-list", "-1", f"--before={when}", branch, "--"]).decode().strip()
    if not out:
        raise SourceError(f"{branch} has no commit from before {when}")
    how = f"{branch} as of {series.posted_at:%Y-%m-%d %H:%M} UTC"
    if series.base_commit:
        how += f" (base-commit {series.base_commit[:12]} is not in the mirror)"
    return out, how


def review_series(
    series: Series,
    git: GitRepo,
    *,
    branch: str = "master",
    carried: Sequence[CarriedAck] = (),
    notes: Sequence[str] = (),
) -> SeriesReview:
    """Review one version; raises `SourceError` when it holds no usable patch."""
    base, how = choose_base(git, series, branch)
    change = change_from_patch(series.mbox(), git, base)
    if notes:
        change = replace(change, notes=(*notes, *change.notes))
    policy = load_policy()
    base_tree = change.base_tree
    maintainers = load_maintainers(base_tree.read("MAINTAINERS") if base_tree else None)
    series_paths = tuple(f.path for f in change.files)
    judged = [(ack, _honoured(ack, maintainers, series_paths)) for ack in series.acks]
    honoured = [a for a, ok in judged if ok]
    labels: list[AppliedLabel] = []
    if honoured or carried:
        who = honoured[-1].who() if honoured else carried[-1].who
        labels.append(AppliedLabel(policy.ack_label, by=who, by_is_maintainer=True))
    options = ReviewOptions(
        labels=tuple(labels),
        cache_dir=cache_dir("tiers"),
        scans=open_scan_cache(cache_dir("scans")),
    )
    report = review(change, options, catalogue=load_catalogue(), policy=policy)
    report, coverage, not_covered = _limit_acks(report, series, honoured, carried)
    ignored = tuple(
        Override(policy.ack_label, a.who(), "acknowledge findings", False, _why_not(a))
        for a, ok in judged
        if not ok
    )
    report = replace(report, overrides=(*report.overrides, *ignored))
    stored = tuple(_ack_json(a, ok, report.findings) for a, ok in judged)
    return SeriesReview(series, change, report, how, stored, coverage, not_covered)


def _honoured(ack: Ack, maintainers: Maintainers, paths: Sequence[str]) -> bool:
    return ack.from_the_person and maintainers.may_ack(ack.address, ack.paths or paths)


def _why_not(ack: Ack) -> str:
    if not ack.from_the_person:
        return f"the Acked-by names someone other than its sender ({ack.sender})"
    return "not a maintainer of migration or of the files it changes"


def _covers(ack: Ack, finding: Finding) -> bool:
    return ack.paths is None or finding.path in ack.paths


def _limit_acks(
    report: Report, series: Series, honoured: Sequence[Ack], carried: Sequence[CarriedAck]
) -> tuple[Report, tuple[Coverage, ...], tuple[Finding, ...]]:
    """Keep an ack's effect on the findings it covers; restore the others."""
    if not honoured and not carried:
        return report, (), ()
    findings: list[Finding] = []
    coverage: dict[tuple[str, int], list[Finding]] = {}
    not_covered: list[Finding] = []
    for finding in report.findings:
        if finding.override is None or finding.base_severity is None:
            findings.append(finding)
            continue
        by_now = [a for a in honoured if _covers(a, finding)]
        by_then = [c for c in carried if finding.fingerprint in c.fingerprints]
        if not by_now and not by_then:
            findings.append(
                replace(finding, severity=finding.base_severity, base_severity=None, override=None)
            )
            if carried:
                not_covered.append(findings[-1])
            continue
        findings.append(finding)
        for a in by_now:
            # 0: an earlier version, for a patch that has not changed since.
            coverage.setdefault((a.who(), 0 if a.earlier else series.version), []).append(finding)
        for c in by_then:
            coverage.setdefault((c.who, c.version), []).append(finding)
    used = {who for who, _ in coverage}
    overrides = [o if not o.honoured or o.by in used else _unused(o) for o in report.overrides]
    report = replace(report, findings=tuple(findings), overrides=tuple(overrides))
    return (
        report,
        tuple(Coverage(who, v, tuple(fs)) for (who, v), fs in coverage.items()),
        tuple(not_covered),
    )


def _unused(override: Override) -> Override:
    return replace(override, effect="covers no finding of this version")


def _ack_json(ack: Ack, honoured: bool, findings: Sequence[Finding]) -> dict[str, Any]:
    covered = [
        f.fingerprint for f in findings if honoured and _covers(ack, f) and f.override is not None
    ]
    return {
        "by": ack.who(),
        "sender": ack.sender,
        "message_id": ack.message_id,
        "paths": list(ack.paths) if ack.paths is not None else None,
        "honoured": honoured,
        "fingerprints": covered,
    }


def ack_after_review(
    ack: Ack, maintainers_text: str | None, findings: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """An ack that came after the reply: what it covers of the stored findings."""
    maintainers = load_maintainers(maintainers_text)
    paths = sorted({str(f.get("path", "")) for f in findings})
    honoured = _honoured(ack, maintainers, paths)
    covered = [
        str(f["fingerprint"])
        for f in findings
        if honoured
        and (ack.paths is None or f.get("path") in ack.paths)
        and (f.get("base_severity") or f.get("severity")) in ("error", "warning")
    ]
    return {
        "by": ack.who(),
        "sender": ack.sender,
        "message_id": ack.message_id,
        "paths": list(ack.paths) if ack.paths is not None else None,
        "honoured": honoured,
        "fingerprints": covered,
    }
