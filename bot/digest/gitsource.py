"""The git door: a branch's first-parent history (and patch-series refs) -> `ChangeInput`s.

A change belongs to the week it became reachable from the branch, not to its
author or committer date: series often land weeks after they were written. So
the walk follows ``git rev-list --first-parent BRANCH``; each first-parent
commit C brings ``C^1..C`` (for a merge, the whole merged series) and is dated
by C's committer date. Each such landing is analysed as one change, the way a
merge request is reviewed as a whole; the patches in it that touched what the
analyzer reported say who wrote what.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.digest.analysis import Analysed, analyse_all
from bot.digest.model import ChangeInput, Patch
from bot.digest.series import SeriesChange, fold_landed, merge_versions, series_refs
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
        when = datetime.fromtimestamp(int(unix), UTC)
        if since <= when < until:
            ps = parents.split()
            found.append(Landing(sha, ps[0] if ps else None, when, subject, len(ps) > 1))
    return found[::-1]


def patches(
    repo: GitRepo,
    base: str | None,
    head: str,
    paths: Iterable[str] = (),
    links: LinkTemplates | None = None,
) -> tuple[Patch, ...]:
    """The commits of ``base..head`` (no merges) touching ``paths``, oldest first."""
    spec = f"{base}..{head}" if base else head
    wanted = sorted(set(paths))
    args = ["log", "--no-merges", "--reverse", f"--format=%H{_SEP}%an{_SEP}%s", spec]
    if wanted:
        args += ["--", *wanted]
    found = []
    for line in repo.run(args).decode("utf-8", "replace").splitlines():
        sha, author, subject = line.split(_SEP, 2)
        found.append(Patch(sha, subject, author or None, links.commit_url(sha) if links else None))
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
    affecting = bool(result.findings or result.compat or result.retired)
    touched = patches(repo, landing.parent, landing.sha, _paths(result), links) if affecting else ()
    title, via = landing.subject, None
    match = _MERGE_SUBJECT.match(landing.subject) if landing.merge else None
    if match:
        title, via = match.group(1), match.group(2)
    if landing.merge:
        author = _authors(touched)
    else:
        author = _authors(patches(repo, landing.parent, landing.sha)[-1:])
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
        retired=result.retired,
        patches=touched if landing.merge else (),
        via=via,
    )


def series_change(
    repo: GitRepo,
    name: str,
    base: str,
    tip: str,
    when: datetime,
    result: Analysed,
    links: LinkTemplates,
) -> SeriesChange:
    # Not linked: a series' commits exist only in this mirror, not upstream.
    commits = patches(repo, base, tip)
    first = commits[0] if commits else Patch(tip, name)
    title = first.subject if len(commits) <= 1 else f"{first.subject} (+{len(commits) - 1})"
    change = ChangeInput(
        key=f"series:{name}",
        ref=name,
        title=title,
        url=links.series_url(name),
        author=first.author,
        labels=(),
        state="open",
        when=when,
        verdicts=(result.verdict,),
        findings=result.findings,
        compat=result.compat,
        retired=result.retired,
        patches=commits if len(commits) > 1 else (),
    )
    return SeriesChange(change, frozenset(p.subject for p in commits), first.subject)


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
    cache_dir: Path | None = None,
    progress: Progress | None = None,
    on_done: Callable[[], None] | None = None,
) -> list[ChangeInput]:
    """Every landing of [since, until) on ``branch`` (and open series), analysed;
    ``on_done`` is called once per commit or series analysed."""
    links = links or LinkTemplates()
    say = progress or (lambda _msg: None)
    landed = landings(repo, branch, since, until)
    say(f"{len(landed)} first-parent commits on {branch}")
    results = analyse_all(
        repo,
        [(c.parent, c.sha) for c in landed],
        jobs=jobs,
        cache_dir=cache_dir,
        on_done=on_done,
    )
    changes = [landing_change(repo, c, r, links) for c, r in zip(landed, results, strict=True)]
    if not series_patterns:
        return changes
    branch_oid = repo.commit(branch).oid
    pending = []
    for s in series_refs(repo, series_patterns, series_exclude, since, until):
        base = repo.merge_base(branch_oid, s.tip)
        if base != s.tip:  # a tip already on the branch has landed as it is
            pending.append((s, base))
    say(f"{len(pending)} series")
    results = analyse_all(
        repo,
        [(base, s.tip) for s, base in pending],
        jobs=jobs,
        cache_dir=cache_dir,
        on_done=on_done,
    )
    versions = [
        series_change(repo, s.name, base, s.tip, s.when, r, links)
        for (s, base), r in zip(pending, results, strict=True)
    ]
    subject_landing: dict[str, str] = {}
    for c in landed:
        for p in patches(repo, c.parent, c.sha):
            subject_landing.setdefault(p.subject, f"git:{c.sha}")
    return fold_landed(changes, merge_versions(versions), subject_landing)
