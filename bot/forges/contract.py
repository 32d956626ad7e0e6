"""The contract every forge implements, written once.

A third forge is three new files: its events parser, its `Forge`, its fake.
Forge methods are synchronous (python-gitlab and PyGithub are); the service
calls them from a bounded thread pool.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.change import Change, FileChange, Tree
from bot.errors import MigbotError
from bot.forges.events import MergeRequestRef
from bot.pipeline import AppliedLabel
from bot.review.reconcile import BotNote, ReviewPlan, Verdict
from bot.sources.errors import SourceError
from bot.sources.gitrepo import GitRepo


class ForgeError(MigbotError):
    """A forge call that failed for good (after the client's own retries)."""


@dataclass(frozen=True, slots=True)
class MergeRequestInfo:
    """What the forge says about a merge request right now."""

    ref: MergeRequestRef
    title: str
    author: str | None
    url: str | None
    state: str
    """``open``, ``closed`` or ``merged``."""
    labels: tuple[str, ...]
    base_sha: str
    head_sha: str
    start_sha: str | None = None
    """GitLab's ``diff_refs.start_sha`` (positions need all three)."""


@dataclass(frozen=True, slots=True)
class ForgeChange:
    info: MergeRequestInfo
    change: Change


@dataclass(frozen=True, slots=True)
class LabelEvent:
    """A label added to or removed from a merge request, by whom."""

    label: str
    action: str
    """``add`` or ``remove``."""
    user: str | None
    user_id: int | None = None


@dataclass(frozen=True, slots=True)
class PublishResult:
    summary: str
    created: int = 0
    updated: int = 0
    resolved: int = 0
    reopened: int = 0
    kept: int = 0


class Forge(Protocol):
    """One forge, as the worker sees it."""

    name: str

    def bot_username(self) -> str:
        """The login of the account the bot writes with."""
        ...

    def get_change(self, ref: MergeRequestRef) -> ForgeChange:
        """The merge request's metadata and its `Change` (files, hunks, texts at
        base and head, and `Tree` readers for the whole base and head trees)."""
        ...

    def list_bot_notes(self, ref: MergeRequestRef) -> list[BotNote]:
        """The summary and inline threads the bot's own account wrote (by marker),
        oldest first, with whether each is resolved and whether a human replied."""
        ...

    def publish(
        self, ref: MergeRequestRef, info: MergeRequestInfo, plan: ReviewPlan
    ) -> PublishResult:
        """Carry out a plan: summary, new inline threads, updates, resolutions."""
        ...

    def resolve_notes(self, ref: MergeRequestRef, plan: ReviewPlan) -> int:
        """Resolve (or answer as outdated) the threads the plan resolves; reopen
        those it reopens. Part of `publish`; never deletes anything."""
        ...

    def label_events(self, ref: MergeRequestRef) -> list[LabelEvent]:
        """Label additions and removals, oldest first, with their actor."""
        ...

    def is_maintainer(self, ref: MergeRequestRef, user: str, user_id: int | None = None) -> bool:
        """Whether ``user`` has maintainer rights on the project."""
        ...

    def set_verdict(
        self, ref: MergeRequestRef, sha: str, verdict: Verdict, description: str
    ) -> None:
        """A commit status (GitLab) or check run / status (GitHub) for ``sha``."""
        ...

    def add_labels(self, ref: MergeRequestRef, labels: Sequence[str]) -> None: ...

    def upsert_issue(self, project: str, title: str, body: str, labels: Sequence[str]) -> str:
        """Create or update the open issue with this title; returns its URL."""
        ...


def label_actors(
    events: Iterable[LabelEvent], labels: Iterable[str]
) -> dict[str, LabelEvent | None]:
    """For each current label, the event that last added it (None when unknown)."""
    last: dict[str, LabelEvent] = {}
    for event in events:
        if event.action == "add":
            last[event.label] = event
        elif event.action == "remove":
            last.pop(event.label, None)
    return {label: last.get(label) for label in labels}


def applied_labels(
    forge: Forge,
    ref: MergeRequestRef,
    labels: Sequence[str],
    *,
    relevant: Callable[[str], bool] = lambda _name: True,
) -> list[AppliedLabel]:
    """The merge request's labels with who applied them and whether that person
    is a maintainer (asked only for the labels that can override something)."""
    wanted = [name for name in labels if relevant(name)]
    if not wanted:
        return [AppliedLabel(name) for name in labels]
    actors = label_actors(forge.label_events(ref), wanted)
    rights: dict[str, bool] = {}
    out: list[AppliedLabel] = []
    for name in labels:
        if name not in actors:
            out.append(AppliedLabel(name))
            continue
        event = actors[name]
        if event is None or event.user is None:
            out.append(AppliedLabel(name, None, False))
            continue
        if event.user not in rights:
            rights[event.user] = forge.is_maintainer(ref, event.user, event.user_id)
        out.append(AppliedLabel(name, event.user, rights[event.user]))
    return out


class TreeCache:
    """File texts read through a forge API, cached per (tree sha, path)."""

    def __init__(self, max_entries: int = 4096) -> None:
        self._max = max_entries
        self._lock = threading.Lock()
        self._data: OrderedDict[tuple[str, str], str | None] = OrderedDict()

    def get(self, key: tuple[str, str]) -> tuple[bool, str | None]:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return True, self._data[key]
        return False, None

    def put(self, key: tuple[str, str], value: str | None) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._max:
                self._data.popitem(last=False)


def cached_tree(
    sha: str,
    fetch: Callable[[str], str | None],
    cache: TreeCache,
    known: Mapping[str, str | None] | None = None,
) -> Tree:
    """A `Tree` whose ``read`` fetches through ``fetch`` once per path."""
    for path, text in (known or {}).items():
        cache.put((sha, path), text)

    def read(path: str) -> str | None:
        hit, value = cache.get((sha, path))
        if hit:
            return value
        value = fetch(path)
        cache.put((sha, path), value)
        return value

    return Tree(tree_id=sha, read=read)


_mirrors: dict[str, GitRepo] = {}
_mirrors_lock = threading.Lock()


def forge_change(
    origin: str,
    info: MergeRequestInfo,
    files: Sequence[FileChange],
    notes: Sequence[str],
    *,
    read: Callable[[str, str], str | None],
    mirror: str | None,
    cache: TreeCache,
    base_known: Mapping[str, str | None],
    head_known: Mapping[str, str | None],
) -> ForgeChange:
    """The `Change` of a merge request, its trees read from the mirror when it has
    the commits, else through ``read(sha, path)`` (the forge API), cached."""

    def tree(sha: str, known: Mapping[str, str | None]) -> Tree:
        return mirror_tree(mirror, sha) or cached_tree(sha, lambda p: read(sha, p), cache, known)

    change = Change(
        origin=origin,
        base=info.base_sha,
        head=info.head_sha,
        files=tuple(files),
        title=info.title,
        base_tree=tree(info.base_sha, base_known),
        head_tree=tree(info.head_sha, head_known),
        notes=tuple(notes),
    )
    return ForgeChange(info, change)


def mirror_tree(mirror: str | None, sha: str) -> Tree | None:
    """A `Tree` read from a local bare mirror with ``git cat-file``, when it has ``sha``."""
    if not mirror:
        return None
    with _mirrors_lock:
        repo = _mirrors.get(mirror)
        if repo is None:
            repo = _mirrors[mirror] = GitRepo(Path(mirror))
    try:
        commit = repo.commit(sha)
    except SourceError:  # the mirror has not fetched this commit yet
        return None
    tree = repo.tree(commit.tree)
    return Tree(tree_id=sha, read=tree.read, grep=tree.grep)
