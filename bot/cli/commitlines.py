"""checkpatch-style lines for a range: ``0002/0005 hw/net: subject: 1 error``.

Each commit of the range is reviewed on its own (against its parent), so the
author sees which patch of the series needs the work before the details of the
whole range.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.change import Change
from bot.findings import Report
from bot.report.common import printable, verdict
from bot.report.progress import progress
from bot.sources.commits import change_from_range
from bot.sources.defaults import commits_of
from bot.sources.gitrepo import GitRepo


def commit_lines(repo: GitRepo, spec: str, judged: Callable[[Change], Report]) -> list[str]:
    """One line per commit of ``spec``, oldest first."""
    commits = commits_of(repo, spec)
    total = len(commits)
    width = max(4, len(str(total)))
    lines = []
    with progress("checking commits", total=total) as step:
        for number, (oid, subject) in enumerate(commits, 1):
            step(0, description=f"{number}/{total} {oid[:12]}")
            report = judged(change_from_range(repo, oid))
            summary = verdict(report) or "ok"
            lines.append(f"{number:0{width}d}/{total:0{width}d} {printable(subject)}: {summary}")
            step()
    return lines
