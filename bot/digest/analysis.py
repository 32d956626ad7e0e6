"""Run the review pipeline over git ranges for the digest, in parallel and cached.

A range's result depends only on its two commits and on migbot's own code and
rules, so it is kept on disk under a key made of those: the weekly run on a
mirror, or a chart reaching back eight weeks, analyses only what is new.
"""

from __future__ import annotations

import functools
import hashlib
import json
import multiprocessing
import os
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.digest.model import CompatNote, FindingNote
from bot.findings import Finding, Report, Severity
from bot.scanner.cache import open_scan_cache
from bot.settings import cache_dir
from bot.sources.commits import change_from_range
from bot.sources.gitrepo import GitRepo

Range = tuple[str | None, str]
"""(base, head); base None for a root commit."""


@dataclass(frozen=True, slots=True)
class Analysed:
    """What the analyzer said about one range."""

    verdict: str
    findings: tuple[FindingNote, ...]
    compat: tuple[CompatNote, ...]
    retired: tuple[str, ...] = ()
    """Machine types and compat arrays the range removed (`bot.digest.retired`)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "findings": [{k: getattr(f, k) for k in FindingNote.__slots__} for f in self.findings],
            "compat": [
                {
                    "array": c.array,
                    "driver": c.driver,
                    "property": c.prop,
                    "value": c.value,
                    "change": c.change,
                    "path": c.path,
                }
                for c in self.compat
            ],
            "retired": list(self.retired),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Analysed:
        return cls(
            str(data["verdict"]),
            tuple(FindingNote.from_json(f) for f in data["findings"]),
            tuple(CompatNote.from_json(c) for c in data["compat"]),
            tuple(str(r) for r in data.get("retired", ())),
        )


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
    from bot.compare.touched import compat_entries_touched  # pure: reads hunks only
    from bot.digest.retired import retired_properties, retirements
    from bot.judge.catalogue import RETIRED_CATEGORY, load_catalogue
    from bot.judge.policy import load_policy
    from bot.pipeline import ReviewOptions, review

    change = change_from_range(repo, f"{base}..{head}" if base else head)
    catalogue = load_catalogue()
    report = review(
        change,
        ReviewOptions(cache_dir=cache_dir("tiers"), scans=open_scan_cache(cache_dir("scans"))),
        catalogue=catalogue,
        policy=load_policy(),
    )
    # Fields the analyzer judged retired with their machine types (the rules of
    # the "retired" category) belong beside the machine types in the digest.
    fields = tuple(
        f"field {f.subject} of {f.vmsd} removed with the machine types that sent it"
        for f in report.findings
        if catalogue.get(f.rule_id).category == RETIRED_CATEGORY and f.subject and f.vmsd
    )
    return Analysed(
        _verdict(report),
        tuple(finding_note(f) for f in report.findings),
        tuple(CompatNote.from_json(c) for c in compat_entries_touched(change)),
        retirements(change) + (retired_properties(change, repo, base) if base else ()) + fields,
    )


# --- the disk cache ---------------------------------------------------------------------


@functools.cache
def code_version() -> str:
    """A hash of migbot's code and rules: another version may judge differently."""
    from bot import __version__
    from bot.data import rules_dir

    h = hashlib.sha256(__version__.encode())
    package = Path(__file__).resolve().parents[1]
    files = sorted(package.rglob("*.py")) + sorted(p for p in rules_dir().rglob("*") if p.is_file())
    for path in files:
        h.update(str(path.name).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def _cache_file(cache_dir: Path, base: str | None, head: str) -> Path:
    key = hashlib.sha256(f"{base or ''}..{head}".encode()).hexdigest()[:32]
    return cache_dir / code_version() / f"{key}.json"


def _prune(cache_dir: Path) -> None:
    """Results of other migbot versions will never be read again: drop them."""
    import shutil

    if not cache_dir.is_dir():
        return
    for entry in cache_dir.iterdir():
        if entry.is_dir() and entry.name != code_version():
            shutil.rmtree(entry, ignore_errors=True)


def _cached(cache_dir: Path | None, base: str | None, head: str) -> Analysed | None:
    if cache_dir is None:
        return None
    try:
        return Analysed.from_json(json.loads(_cache_file(cache_dir, base, head).read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _remember(cache_dir: Path | None, base: str | None, head: str, result: Analysed) -> None:
    if cache_dir is None:
        return
    path = _cache_file(cache_dir, base, head)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(result.to_json(), f)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache only costs time


# --- many ranges ----------------------------------------------------------------------------

_worker_repos: dict[str, GitRepo] = {}


def _analyse_in_worker(job: tuple[str, str | None, str]) -> Analysed:
    path, base, head = job
    repo = _worker_repos.get(path)
    if repo is None:
        repo = _worker_repos[path] = GitRepo(Path(path))
    return analyse(repo, base, head)


def analyse_all(
    repo: GitRepo,
    ranges: Sequence[Range],
    *,
    jobs: int = 1,
    cache_dir: Path | None = None,
    on_done: Callable[[], None] | None = None,
) -> list[Analysed]:
    """Analyse ranges (cached ones are read back), in ``jobs`` processes when more
    than one: libclang is not thread-safe, and the work is CPU-bound. ``on_done``
    is called once per range analysed (a progress display)."""
    tick = on_done or (lambda: None)
    if cache_dir is not None:
        _prune(cache_dir)
    results: list[Analysed | None] = [_cached(cache_dir, b, h) for b, h in ranges]
    todo = [i for i, r in enumerate(results) if r is None]
    for _ in range(len(ranges) - len(todo)):
        tick()
    fresh: list[Analysed] = []
    if jobs <= 1 or len(todo) <= 1:
        for i in todo:
            fresh.append(analyse(repo, *ranges[i]))
            tick()
    else:
        # spawn: a forked child would share the parent's cat-file pipes.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(min(jobs, len(todo)), mp_context=context) as pool:
            work = [(str(repo.path), *ranges[i]) for i in todo]
            for result in pool.map(_analyse_in_worker, work):
                fresh.append(result)
                tick()
    for i, result in zip(todo, fresh, strict=True):
        results[i] = result
        _remember(cache_dir, *ranges[i], result)
    return [r for r in results if r is not None]
