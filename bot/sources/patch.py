"""A patch, a ``git format-patch`` series (mbox) or a bare diff, as a `Change`.

With a repository the series is applied in memory on its base, patch after
patch, so each file gets its text at the base and after the whole series and
hunks recomputed between the two. Without one, a file's texts are known only
when the series itself shows all of it (a file it creates or deletes).
A hunk that does not apply is noted and its file's texts are left unknown:
nothing is guessed.
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from bot.change import Change, FileChange, FileStatus, History, Hunk, Tree
from bot.sources.apply import apply_hunks
from bot.sources.diff import FilePatch, parse_file_patches
from bot.sources.errors import SourceError
from bot.sources.gitrepo import Commit, GitRepo, open_repo
from bot.sources.releases import history_of
from bot.sources.text import diff_hunks, split_lines

if TYPE_CHECKING:
    from bot.sources.mbox import PatchMail

BaseReader = Callable[[str], "str | None"]


class PatchDoesNotApply(SourceError):
    """With ``strict``: a hunk of the series does not apply on the base."""


def change_from_patch(
    data: bytes,
    repo: Path | GitRepo | None = None,
    base: str | None = None,
    *,
    strict: bool = False,
) -> Change:
    """The change a patch, mbox series or bare diff makes.

    ``base`` defaults to the series' ``base-commit:`` trailer, else the
    repository's HEAD. Raises `SourceError` for input that holds no patch, a
    malformed diff, or (with a repository) an unknown base. With ``strict``
    (and a repository), a hunk that does not apply raises `PatchDoesNotApply`
    naming it, instead of leaving a note: the review would judge a file whose
    text is unknown.
    """
    # The email package costs a tenth of a second to import: only for patches.
    from bot.sources.mbox import split_mails

    mails = split_mails(data)
    notes: list[str] = []
    replies = sum(1 for m in mails if m.is_reply)
    if replies:
        notes.append(f"{replies} repl{'y' if replies == 1 else 'ies'} in the mbox ignored")
    patches = _in_order([m for m in mails if m.diff and not m.is_reply])
    if not patches:
        raise SourceError(
            "not a patch: no diff found" + (f" in {len(mails)} messages" if len(mails) > 1 else "")
        )
    cover = next((m for m in mails if m.number == 0 and not m.is_reply), None)
    trailer = next((m.base_commit for m in mails if m.base_commit), None)
    parsed = [(mail, _parse(mail)) for mail in patches]

    series: _Series
    base_id: str | None
    base_tree: Tree | None = None
    history: History | None = None
    if repo is None:
        series = _Series(None, notes)
        base_id = base or trailer
    else:
        git = open_repo(repo)
        commit = _base_commit(git, base, trailer, notes)
        base_id = commit.oid
        base_tree = git.tree(commit.tree)
        history = history_of(git, commit.oid)
        series = _Series(base_tree.read, notes, partial(git.gitlink_text, commit.tree))
    for mail, file_patches in parsed:
        for fp in file_patches:
            series.apply(mail, fp)
    if strict and repo is not None and series.unapplied:
        where = f" on {base_id[:12]}" if base_id else ""
        raise PatchDoesNotApply(f"the patch does not apply{where}: " + "; ".join(series.unapplied))
    files = series.file_changes()
    return Change(
        origin="mbox" if len(mails) > 1 else "patch" if mails[0].subject else "diff",
        base=base_id,
        head=None,
        files=files,
        title=(cover or patches[0]).subject,
        base_tree=base_tree,
        head_tree=_patched_tree(base_tree, series) if base_tree else None,
        notes=tuple(notes),
        messages=tuple(m.message for m in patches if m.message),
        history=history,
    )


def _in_order(mails: list[PatchMail]) -> list[PatchMail]:
    """Patches by their number when all have one; else as they came."""
    if any(m.number is None for m in mails):
        return mails
    seen: dict[int, PatchMail] = {}
    for mail in mails:
        if mail.number in seen:
            raise SourceError(
                f"two patches numbered {mail.number}/{mail.total} in the mbox;"
                " give one version of the series"
            )
        seen[mail.number or 0] = mail
    return sorted(mails, key=lambda m: m.number or 0)


def _parse(mail: PatchMail) -> list[FilePatch]:
    try:
        return parse_file_patches(mail.diff)
    except SourceError as exc:
        if not mail.subject:
            raise
        raise SourceError(f"{mail.label()}: {exc}") from exc


def _base_commit(git: GitRepo, base: str | None, trailer: str | None, notes: list[str]) -> Commit:
    """The commit to apply on: asked for, else the trailer's, else HEAD.

    A ``base-commit:`` the repository lacks (a maintainer's tree) falls back to
    HEAD, with a note; a base asked for explicitly must exist.
    """
    if base is not None:
        return git.commit(base)
    if trailer is not None:
        try:
            return git.commit(trailer)
        except SourceError:
            head = _head(git)
            notes.append(
                f"base-commit {trailer} is not in the repository; applied on HEAD ({head.oid[:12]})"
            )
            return head
    return _head(git)


def _head(git: GitRepo) -> Commit:
    try:
        return git.commit("HEAD")
    except SourceError:
        raise SourceError("the repository has no HEAD commit; give a base") from None


@dataclass(eq=False)
class _Track:
    """One file followed through the series (it may move or vanish)."""

    base_path: str | None
    """Where it was at the base; None when the series creates it."""
    base_text: str | None
    """Its text at the base, when ``known``."""
    path: str | None
    """Where it is now; None once deleted."""
    lines: list[str] | None
    """Its text now, when ``known``."""
    known: bool
    hunks: list[Hunk] = field(default_factory=list)
    """Every patch's hunks, shown as they are when the texts are unknown."""
    binary: bool = False
    touches: int = 0
    """How many file patches of the series changed it."""
    mode_changed: bool = False


class _Series:
    """Applies file patches in order and keeps each file's state."""

    def __init__(
        self,
        read_base: BaseReader | None,
        notes: list[str],
        read_gitlink: BaseReader | None = None,
    ) -> None:
        self._read_base = read_base
        self._read_gitlink = read_gitlink
        self._notes = notes
        self.unapplied: list[str] = []
        """Each hunk that did not apply, named by patch, file and hunk."""
        self._tracks: list[_Track] = []
        self._live: dict[str, _Track] = {}
        self._gone: dict[str, _Track] = {}

    def apply(self, mail: PatchMail, fp: FilePatch) -> None:
        label = f"{mail.label()}: {fp.path}"
        if fp.status is FileStatus.ADDED:
            track = self._create(label, fp)
        else:
            assert fp.old_path is not None
            track = self._take(label, fp.old_path)
            if fp.status is FileStatus.RENAMED:
                assert fp.new_path is not None
                self._move(label, track, fp.new_path)
        track.touches += 1
        track.mode_changed |= fp.mode_changed
        track.hunks.extend(h.to_hunk() for h in fp.hunks)
        if fp.binary:
            track.binary = True
            if self._read_base is not None:
                self._notes.append(f"{label}: binary patch not applied")
            self._forget(track)
        elif track.known:
            assert track.lines is not None
            result = apply_hunks(track.lines, fp.hunks)
            if result.failures:
                for failure in result.failures:
                    self._notes.append(f"{label}: {failure.describe()}")
                    self.unapplied.append(f"{label}: {failure.describe()}")
                self._forget(track)
            else:
                track.lines = result.lines
        elif fp.status is FileStatus.DELETED and self._read_base is None:
            _reconstruct_deleted(track, fp)
        if fp.status is FileStatus.DELETED:
            if track.known and track.lines:
                self._notes.append(f"{label}: the deletion leaves {len(track.lines)} lines behind")
                self._forget(track)
            self._live.pop(track.path or "", None)
            self._gone[track.path or ""] = track
            track.path, track.lines = None, None

    def _create(self, label: str, fp: FilePatch) -> _Track:
        assert fp.new_path is not None
        path = fp.new_path
        lines: list[str] | None = []
        known = True
        if fp.copied and fp.old_path is not None:
            source = self._take(label, fp.old_path)
            lines, known = list(source.lines or []), source.known
        if path in self._live:
            self._notes.append(f"{label}: created, but it already exists")
            track = self._live[path]
            self._forget(track)
            return track
        if path in self._gone:
            # Deleted earlier in the series and now created again: one file.
            track = self._gone.pop(path)
            track.path, track.lines, track.known = path, lines, track.known and known
            self._live[path] = track
            return track
        base_text = self._read_base(path) if self._read_base else None
        if base_text is not None:
            self._notes.append(f"{label}: created, but it exists at the base")
            track = _Track(path, base_text, path, None, known=False)
        else:
            track = _Track(None, None, path, lines, known=known)
        self._tracks.append(track)
        self._live[path] = track
        return track

    def _take(self, label: str, path: str) -> _Track:
        """The file at ``path`` now, brought in from the base on first touch."""
        if path in self._live:
            return self._live[path]
        if path in self._gone:
            self._notes.append(f"{label}: deleted earlier in the series")
            track = self._gone.pop(path)
            track.path, track.lines = path, None
            self._forget(track)
            self._live[path] = track
            return track
        if self._read_base is None:
            track = _Track(path, None, path, None, known=False)
        else:
            text = self._read_base(path)
            if text is None and self._read_gitlink is not None:
                text = self._read_gitlink(path)
            if text is None:
                self._notes.append(f"{label}: does not exist at the base")
            track = _Track(
                path, text, path, None if text is None else split_lines(text), text is not None
            )
        self._tracks.append(track)
        self._live[path] = track
        return track

    def _move(self, label: str, track: _Track, new_path: str) -> None:
        if new_path in self._live and self._live[new_path] is not track:
            self._notes.append(f"{label}: renamed onto a file that already exists")
            self._forget(track)
        self._live.pop(track.path or "", None)
        track.path = new_path
        self._live[new_path] = track

    def _forget(self, track: _Track) -> None:
        """Give up on a file's texts (its hunks stay, to be shown as they are)."""
        track.known = False

    def file_changes(self) -> tuple[FileChange, ...]:
        """Each file from its state at the base to its state after the series."""
        changes: list[FileChange] = []
        for track in self._tracks:
            change = _file_change(track)
            if change is not None:
                changes.append(change)
        return tuple(changes)

    def overlay(self) -> dict[str, str | None]:
        """Paths whose text the series changed: new text, or None (gone or unknown)."""
        texts: dict[str, str | None] = {}
        for track in self._tracks:
            if track.base_path is not None:
                texts[track.base_path] = None
        for track in self._tracks:
            if track.path is not None:
                known = track.known and track.lines is not None and not track.binary
                texts[track.path] = "".join(track.lines or []) if known else None
        return texts


def _reconstruct_deleted(track: _Track, fp: FilePatch) -> None:
    """Without a repository, a deletion shows the whole file: that is its text.

    Only when no earlier patch changed the file, or it would not be the base's.
    """
    if track.touches > 1 or len(fp.hunks) > 1:
        return
    if fp.hunks and (fp.hunks[0].old_start > 1 or fp.hunks[0].new_side()):
        return
    track.base_text = "".join(fp.hunks[0].old_side()) if fp.hunks else ""
    track.lines = []
    track.known = True


def _file_change(track: _Track) -> FileChange | None:
    # A file the series did not create existed at the base, as its patches say
    # (when the repository disagrees, a note says so and its texts are unknown).
    existed = track.base_path is not None
    exists = track.path is not None
    if (not existed and not exists) or track.touches == 0:
        return None  # created and deleted within the series, or a copy's source
    if not existed:
        status = FileStatus.ADDED
    elif not exists:
        status = FileStatus.DELETED
    elif track.base_path != track.path:
        status = FileStatus.RENAMED
    else:
        status = FileStatus.MODIFIED
    old_path = track.base_path if existed else None
    if track.binary:
        return FileChange(old_path, track.path, status, binary=True, texts_known=False)
    old_text = track.base_text if existed else None
    if not track.known:
        return FileChange(
            old_path, track.path, status, tuple(track.hunks), old_text, None, texts_known=False
        )
    new_text = "".join(track.lines or []) if exists else None
    if old_text == new_text and old_path == track.path and not track.mode_changed:
        return None  # the series undid its own change
    hunks = diff_hunks(split_lines(old_text or ""), split_lines(new_text or ""))
    return FileChange(old_path, track.path, status, hunks, old_text, new_text)


def _patched_tree(base: Tree, series: _Series) -> Tree:
    """The head tree: the base with the series' files laid over it."""
    overlay = series.overlay()
    digest = hashlib.sha256(base.tree_id.encode())
    for path in sorted(overlay):
        text = overlay[path]
        digest.update(f"\0{path}\0{'-' if text is None else '+' + text}".encode(errors="replace"))

    def read(path: str) -> str | None:
        return overlay[path] if path in overlay else base.read(path)

    def grep(needle: str, pathspec: str) -> list[str]:
        found = set(base.grep(needle, pathspec) if base.grep else [])
        found.difference_update(overlay)
        # Like git grep, a needle of several lines is one of those lines.
        alternatives = needle.split("\n")
        found.update(
            path
            for path, text in overlay.items()
            if text is not None
            and any(n in text for n in alternatives)
            and pathspec_matches(path, pathspec)
        )
        return sorted(found)

    return Tree(tree_id=f"patched:{digest.hexdigest()}", read=read, grep=grep)


def pathspec_matches(path: str, pathspec: str) -> bool:
    """Git's default pathspec match: a wildcard pattern (``*`` crosses ``/``) or a prefix."""
    if not pathspec:
        return True
    if any(c in pathspec for c in "*?["):
        return fnmatch.fnmatchcase(path, pathspec)
    prefix = pathspec.rstrip("/")
    return path == prefix or path.startswith(prefix + "/")
