"""The git door: a branch's first-parent history (and patch-series refs) -> `ChangeInput`s.

A change belongs to the week it became reachable from the branch, not to its
author or committer date: series often land weeks after they were written. So
the walk follows ``git rev-list --first-parent BRANCH``; each first-parent
commit C brings ``C^1..C`` (for a merge, the whole merged series) and is dated
by C's committer date. Each such landing is analysed as one change, the way a
merge request is reviewed as a whole.

Series refs (``--series-refs``) are changes still on the list: dated by their
tip, based where they leave the branch. A series whose every patch subject
landed in the window counts as an earlier review of that landing, which is how
"fixed before merge" shows without a forge.
"""

from __future__ import annotations

import fnmatch
import multiprocessing
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.digest.model import ChangeInput, CompatNote, FindingNote, Patch
from bot.findings import Finding, Report, Severity
from bot.sources.commits import change_from_range
from bot.sources.gitrepo import GitRepo

WALK_SLACK = timedelta(days=14)
"""First-parent committer dates are nearly, not strictly, monotonic: walk a little further."""
_MERGE_SUBJECT = re.compile(r"^Merge (?:tag|branch|remote-tracking branch) '([^']+)'(?: of (\S+))?")
_SEP = "\x1f"


@dataclass(frozen=True, slots=True)
class Landing:
    """A first-parent commit of the branch and what it brought."""

    sha: str
    parent: str | None
    when: datetime
    subject: str
    merge: bool


@dataclass(frozen=True, slots=True)
class Series:
    """A patch series branch that has not landed (as far as its commits go)."""

    name: str
    tip: str
    when: datetime


@dataclass(frozen=True, slots=True)
class Analysed:
    """What the analyzer said about one range."""

    verdict: str
    findings: tuple[FindingNote, ...]
    compat: tuple[CompatNote, ...]


@dataclass(frozen=True, slots=True)
class LinkTemplates:
    commit: str | None = None
    """``https://gitlab.com/qemu-project/qemu/-/commit/{sha}``."""
    series: str | None = None
    """``https://lore.kernel.org/qemu-devel/{name}/``, for names that look like a Message-ID."""

    def commit_url(self, sha: str) -> str | None:
        return self.commit.format(sha=sha) if self.commit else None

    def series_url(self, name: str) -> str | None:
        if not self.series or "@" not in name:
            return None
        return self.series.format(name=name)


def _when(unix: str) -> datetime:
    return datetime.fromtimestamp(int(unix), UTC)


def landings(repo: GitRepo, branch: str, since: datetime, until: datetime) -> list[Landing]:
    """First-parent commits of ``branch`` committed in [since, until), oldest first."""
    after = int((since - WALK_SLACK).timestamp())
    out = repo.run(
        [
            "rev-list",
            "--first-parent",
            f"--since={after}",
            f"--format=%H{_SEP}%ct{_SEP}%P{_SEP}%s",
            "--no-commit-header",
            repo.commit(branch).oid,
        ]
    )
    found = []
    for line in out.decode("utf-8", "replace").splitlines():
        sha, unix, parents, subject = line.split(_SEP, 3)
        when = _when(unix)
        if since <= when < until:
            ps = parents.split()
            found.append(Landing(sha, ps[0] if ps else None, when, subject, len(ps) > 1))
    return found[::-1]


def series_refs(
    repo: GitRepo,
    patterns: Sequence[str],
    exclude: Sequence[str],
    since: datetime,
    until: datetime,
) -> list[Series]:
    """Refs whose name (short or full) matches a pattern and none of ``exclude``,
    with a tip committed in [since, until)."""
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
        names = (full, short)

        def hit(globs: Sequence[str], names: tuple[str, str] = names) -> bool:
            return any(fnmatch.fnmatchcase(n, g) for n in names for g in globs)

        if not unix or not hit(patterns) or hit(exclude):
            continue
        when = _when(unix)
        if since <= when < until:
            found.append(Series(short, oid, when))
    return sorted(found, key=lambda s: (s.when, s.name))


def finding_note(f: Finding) -> FindingNote:
    return FindingNote(
        rule_id=f.rule_id,
        slug=f.slug,
        severity=str(f.severity),
        tier=str(f.tier),
        path=f.path,
        fingerprint=f.fingerprint,
        vmsd=f.vmsd,
        subject=f.subject,
        override=f.override.label if f.override else None,
        base_severity=str(f.base_severity) if f.base_severity else None,
    )


def _verdict(report: Report) -> str:
    if report.reaches(Severity.ERROR):
        return "fail"
    return "warn" if report.reaches(Severity.WARNING) else "pass"


def analyse(repo: GitRepo, base: str | None, head: str) -> Analysed:
    """Run the review pipeline over ``base..head`` (``head`` alone for a root commit)."""
    from bot.pipeline import review
    from bot.service.compat import compat_entries_touched  # pure: reads hunks only

    change = change_from_range(repo, f"{base}..{head}" if base else head)
    report = review(change)
    return Analysed(
        _verdict(report),
        tuple(finding_note(f) for f in report.findings),
        tuple(CompatNote.from_json(c) for c in compat_entries_touched(change)),
    )


_worker_repos: dict[str, GitRepo] = {}


def _analyse_in_worker(job: tuple[str, str | None, str]) -> Analysed:
    path, base, head = job
    repo = _worker_repos.get(path)
    if repo is None:
        repo = _worker_repos[path] = GitRepo(Path(path))
    return analyse(repo, base, head)


def analyse_all(
    repo: GitRepo, ranges: Sequence[tuple[str | None, str]], jobs: int = 1
) -> list[Analysed]:
    """Analyse ranges, in ``jobs`` processes when more than one (libclang is not
    thread-safe, and the work is CPU-bound)."""
    if jobs <= 1 or len(ranges) <= 1:
        return [analyse(repo, base, head) for base, head in ranges]
    # spawn: a forked child would share the parent's cat-file pipes.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(jobs, len(ranges)), mp_context=context) as pool:
        work = [(str(repo.path), base, head) for base, head in ranges]
        return list(pool.map(_analyse_in_worker, work))


def patches(
    repo: GitRepo, base: str | None, head: str, paths: Iterable[str], links: LinkTemplates
) -> tuple[Patch, ...]:
    """The commits of ``base..head`` (no merges) touching ``paths``, oldest first."""
    spec = f"{base}..{head}" if base else head
    wanted = sorted(set(paths))
    args = ["log", "--no-merges", "--reverse", f"--format=%H{_SEP}%an{_SEP}%s", spec]
    if wanted:
        args += ["--", *wanted]
    out = repo.run(args).decode("utf-8", "replace")
    found = []
    for line in out.splitlines():
        sha, author, subject = line.split(_SEP, 2)
        found.append(Patch(sha, subject, author or None, links.commit_url(sha)))
    return tuple(found)


def _authors(found: Sequence[Patch]) -> str | None:
    names = list(dict.fromkeys(p.author for p in found if p.author))
    if len(names) > 3:
        return ", ".join(names[:3]) + f" and {len(names) - 3} more"
    return ", ".join(names) or None


def _paths(a: Analysed) -> set[str]:
    return {f.path for f in a.findings} | {c.path for c in a.compat if c.path}


def landing_change(
    repo: GitRepo, landing: Landing, result: Analysed, links: LinkTemplates
) -> ChangeInput:
    affecting = bool(result.findings or result.compat)
    touched = patches(repo, landing.parent, landing.sha, _paths(result), links) if affecting else ()
    title, via = landing.subject, None
    match = _MERGE_SUBJECT.match(landing.subject) if landing.merge else None
    if match:
        title, via = match.group(1), match.group(2)
    if landing.merge:
        author = _authors(touched)
    else:
        author = _authors(patches(repo, landing.parent, landing.sha, (), links)[-1:])
    return ChangeInput(
        key=f"git:{landing.sha}",
        ref=landing.sha[:12],
        title=title,
        url=links.commit_url(landing.sha),
        author=author,
        labels=(),
        state="merged",
        when=landing.when,
        verdicts=(result.verdict,),
        findings=result.findings,
        compat=result.compat,
        patches=touched if landing.merge else (),
        via=via,
    )


def series_change(
    repo: GitRepo, series: Series, base: str, result: Analysed, links: LinkTemplates
) -> ChangeInput:
    commits = patches(repo, base, series.tip, (), links)
    first = commits[0] if commits else Patch(series.tip, series.name)
    title = first.subject if len(commits) <= 1 else f"{first.subject} (+{len(commits) - 1})"
    return ChangeInput(
        key=f"series:{series.name}",
        ref=series.name,
        title=title,
        url=links.series_url(series.name),
        author=first.author,
        labels=(),
        state="open",
        when=series.when,
        verdicts=(result.verdict,),
        findings=result.findings,
        compat=result.compat,
        patches=tuple(p for p in commits if p.sha) if len(commits) > 1 else (),
    )


def _fold_landed_series(
    changes: list[ChangeInput],
    series: list[tuple[ChangeInput, frozenset[str]]],
    landed: dict[str, str],
) -> list[ChangeInput]:
    """A series whose every subject landed becomes an earlier review of its landing."""
    by_key = {c.key: c for c in changes}
    for change, subjects in series:
        where = {landed.get(s) for s in subjects}
        if subjects and None not in where and len(where) == 1:
            key = where.pop()
            assert key is not None
            target = by_key[key]
            still = {f.fingerprint for f in target.findings}
            earlier = {f.fingerprint: f for f in target.earlier_findings}
            for f in change.findings:
                if f.fingerprint not in still:
                    earlier.setdefault(f.fingerprint, f)
            by_key[key] = replace(
                target,
                verdicts=(*change.verdicts, *target.verdicts),
                earlier_findings=tuple(earlier.values()),
            )
        else:
            by_key[change.key] = change
    return list(by_key.values())


Progress = Callable[[str], None]


def changes_from_git(
    repo: GitRepo,
    branch: str,
    since: datetime,
    until: datetime,
    *,
    series_patterns: Sequence[str] = (),
    series_exclude: Sequence[str] = (),
    links: LinkTemplates | None = None,
    jobs: int = 1,
    progress: Progress | None = None,
) -> list[ChangeInput]:
    """Every landing of [since, until) on ``branch`` (and open series), analysed."""
    links = links or LinkTemplates()
    say = progress or (lambda _msg: None)
    landed = landings(repo, branch, since, until)
    say(f"{len(landed)} first-parent commits on {branch}")
    results = analyse_all(repo, [(c.parent, c.sha) for c in landed], jobs)
    changes = [landing_change(repo, c, r, links) for c, r in zip(landed, results, strict=True)]
    if not series_patterns:
        return changes
    branch_oid = repo.commit(branch).oid
    pending: list[tuple[Series, str]] = []
    for s in series_refs(repo, series_patterns, series_exclude, since, until):
        base = repo.merge_base(branch_oid, s.tip)
        if base != s.tip:  # a tip already on the branch has landed as it is
            pending.append((s, base))
    say(f"{len(pending)} series")
    results = analyse_all(repo, [(base, s.tip) for s, base in pending], jobs)
    subjects_landed: dict[str, str] = {}
    for c in landed:
        for p in patches(repo, c.parent, c.sha, (), links):
            subjects_landed.setdefault(p.subject, f"git:{c.sha}")
    series = []
    for (s, base), r in zip(pending, results, strict=True):
        change = series_change(repo, s, base, r, links)
        subjects = frozenset(p.subject for p in patches(repo, base, s.tip, (), links))
        series.append((change, subjects))
    return _fold_landed_series(changes, series, subjects_landed)
