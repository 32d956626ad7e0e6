"""A commit or a range of a git repository, as a `Change`.

Two git calls per change: ``diff-tree --raw -p`` lists the files (paths, blob
ids, status; exact bytes thanks to ``-z``) and their hunks in one pass, then
the batch process of the `GitRepo` reads each blob once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.change import Change, FileChange, FileStatus
from bot.sources.diff import FilePatch, parse_file_patches
from bot.sources.errors import SourceError
from bot.sources.gitrepo import Commit, GitRepo, open_repo
from bot.sources.releases import history_of
from bot.sources.text import decode, diff_hunks, split_lines

_GITLINK = "160000"
_STATUS = {
    "A": FileStatus.ADDED,
    "D": FileStatus.DELETED,
    "M": FileStatus.MODIFIED,
    "T": FileStatus.MODIFIED,
    "R": FileStatus.RENAMED,
    "C": FileStatus.ADDED,
}
DIFF_OPTIONS = (
    "-r",
    "-M",
    "-z",
    "--raw",
    "-p",
    "-U3",
    "--no-textconv",
    "--no-ext-diff",
    "--no-color",
    "--src-prefix=a/",
    "--dst-prefix=b/",
)
"""Fixed so that neither user config nor the repository can change the output."""


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One line of ``git diff-tree --raw``."""

    old_mode: str
    new_mode: str
    old_oid: str | None
    new_oid: str | None
    status: FileStatus
    old_path: str | None
    new_path: str | None

    @property
    def key(self) -> tuple[str | None, str | None]:
        return self.old_path, self.new_path


def change_from_range(repo: Path | GitRepo, spec: str) -> Change:
    """The change of ``spec`` in ``repo``: ``A..B``, ``A...B`` or one commit.

    One commit means its first parent to it; a root commit is compared with
    the empty tree. Raises `SourceError` for a bad repository or revision.
    """
    git = open_repo(repo)
    base, head, title = _endpoints(git, spec.strip())
    base_tree = base.tree if base else git.empty_tree(head.oid)
    entries, patches = read_diff(git, base_tree, head.tree)
    files = tuple(_file_change(git, entry, patches) for entry in entries)
    return Change(
        origin=f"git:{spec.strip()}",
        base=base.oid if base else None,
        head=head.oid,
        files=files,
        title=title,
        base_tree=git.tree(base_tree, _known(entries, new_side=False)),
        head_tree=git.tree(head.tree, _known(entries, new_side=True)),
        messages=_messages(git, base, head),
        history=history_of(git, base.oid) if base else None,
    )


def _messages(git: GitRepo, base: Commit | None, head: Commit) -> tuple[str, ...]:
    """The commit messages of the range, newest first.

    A merge brings the commits of its other parents: their messages (and their
    ``Fixes:`` trailers) belong to the change as much as the merge's own."""
    if base is None or (head.parents[:1] == (base.oid,) and len(head.parents) == 1):
        return (head.message.strip(),)
    out = git.run(["log", "--no-color", "--format=%B%x00", f"{base.oid}..{head.oid}"])
    return tuple(m.strip() for m in decode(out).split("\0") if m.strip())


def _endpoints(git: GitRepo, spec: str) -> tuple[Commit | None, Commit, str]:
    """Base commit (None: the empty tree), head commit and title of a spec."""
    if ".." not in spec:
        head = git.commit(spec)
        parent = git.commit(head.parents[0]) if head.parents else None
        return parent, head, head.subject
    if "..." in spec:
        left, right = spec.split("...", 1)
        head = git.commit(right or "HEAD")
        base = git.commit(git.merge_base(git.commit(left or "HEAD").oid, head.oid))
    else:
        left, right = spec.split("..", 1)
        base, head = git.commit(left or "HEAD"), git.commit(right or "HEAD")
    # A range of one commit reads best under that commit's subject.
    one_commit = bool(head.parents) and head.parents[0] == base.oid
    return base, head, head.subject if one_commit else spec


def read_diff(
    git: GitRepo, old_tree: str, new_tree: str
) -> tuple[list[RawEntry], dict[tuple[str | None, str | None], FilePatch]]:
    """The files changed between two trees, and their patches by (old, new) path."""
    out = git.run(["-c", "core.quotePath=false", "diff-tree", *DIFF_OPTIONS, old_tree, new_tree])
    entries, patch = _split_raw(out)
    patches: dict[tuple[str | None, str | None], FilePatch] = {}
    if entries and patch.strip():
        for fp in parse_file_patches(patch):
            key = (fp.old_path, fp.new_path)
            # Never pair a file with another's hunks: should a key come twice,
            # its hunks are recomputed from the blobs instead.
            patches[key] = fp if key not in patches else _AMBIGUOUS
    return entries, {k: v for k, v in patches.items() if v is not _AMBIGUOUS}


_AMBIGUOUS = FilePatch(None, "", FileStatus.MODIFIED)


def _split_raw(out: bytes) -> tuple[list[RawEntry], bytes]:
    """Parse the NUL-separated raw records; the patch follows an empty record."""
    entries: list[RawEntry] = []
    pos = 0
    while pos < len(out) and out[pos : pos + 1] == b":":
        end = out.index(b"\0", pos)
        fields = out[pos + 1 : end].decode("ascii").split(" ")
        if len(fields) != 5:
            raise SourceError("git diff-tree output not understood")
        old_mode, new_mode, old_oid, new_oid, status = fields
        pos = end + 1
        paths: list[str] = []
        for _ in range(2 if status[:1] in ("R", "C") else 1):
            end = out.index(b"\0", pos)
            paths.append(decode(out[pos:end]))
            pos = end + 1
        kind = _STATUS.get(status[:1])
        if kind is None:
            raise SourceError(f"git diff-tree reported an unexpected status {status!r}")
        null = set(old_oid) == {"0"}
        entries.append(
            RawEntry(
                old_mode=old_mode,
                new_mode=new_mode,
                old_oid=None if kind is FileStatus.ADDED or null else old_oid,
                new_oid=None if kind is FileStatus.DELETED else new_oid,
                status=kind,
                old_path=None if kind is FileStatus.ADDED and status[:1] == "A" else paths[0],
                new_path=None if kind is FileStatus.DELETED else paths[-1],
            )
        )
    if out[pos : pos + 1] == b"\0":
        pos += 1
    return entries, out[pos:]


def _known(entries: list[RawEntry], new_side: bool) -> dict[str, str | None]:
    """What the diff already says about one side's paths: blob id, or absent."""
    known: dict[str, str | None] = {}
    for e in entries:
        here, there = (e.new_path, e.old_path) if new_side else (e.old_path, e.new_path)
        oid, mode = (e.new_oid, e.new_mode) if new_side else (e.old_oid, e.old_mode)
        if there is not None and there != here and e.status is FileStatus.RENAMED:
            known.setdefault(there, None)
        if here is None:
            if there is not None and e.status is not FileStatus.RENAMED:
                known[there] = None  # added (old side) or deleted (new side)
            continue
        blob = _blob(oid, mode)
        if blob is not None:
            known[here] = blob
    return known


def _blob(oid: str | None, mode: str) -> str | None:
    return None if oid is None or mode == _GITLINK else oid


def _file_change(
    git: GitRepo,
    entry: RawEntry,
    patches: dict[tuple[str | None, str | None], FilePatch],
) -> FileChange:
    # A type change (file to symlink) is shown as a deletion and an addition,
    # so it finds no patch under its key and its hunks come from the blobs.
    patch = patches.get(entry.key)
    old_path = entry.old_path if entry.status is not FileStatus.ADDED else None
    if patch is not None and patch.binary:
        return FileChange(old_path, entry.new_path, entry.status, binary=True, texts_known=True)
    old_text = _text(git, entry.old_oid, entry.old_mode)
    new_text = _text(git, entry.new_oid, entry.new_mode)
    if patch is None and _looks_binary(old_text, new_text):
        return FileChange(old_path, entry.new_path, entry.status, binary=True, texts_known=True)
    if patch is not None and not patch.copied:
        hunks = tuple(h.to_hunk() for h in patch.hunks)
    else:
        hunks = diff_hunks(split_lines(old_text or ""), split_lines(new_text or ""))
    return FileChange(
        old_path=old_path,
        new_path=entry.new_path,
        status=entry.status,
        hunks=hunks,
        old_text=old_text,
        new_text=new_text,
    )


def _text(git: GitRepo, oid: str | None, mode: str) -> str | None:
    if oid is None:
        return None
    if mode == _GITLINK:
        # A submodule has no blob; git shows its commit as this one line.
        return f"Subproject commit {oid}\n"
    return git.blob_text(oid)


def _looks_binary(*texts: str | None) -> bool:
    """Git's test: a NUL among the first 8000 bytes."""
    return any(text is not None and "\0" in text[:8000] for text in texts)
