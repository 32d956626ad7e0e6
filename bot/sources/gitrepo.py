"""A git repository read with plumbing only: works on bare mirrors.

One ``git cat-file --batch`` process per `GitRepo` serves every object read
(commits, blobs, ``tree:path``); blobs are decoded once and cached by id.
Nothing here runs code from the repository: no work tree, no hooks, no
textconv or external diff drivers, no system config.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bot.change import Tree
from bot.sources.errors import SourceError
from bot.sources.text import decode

_HEADER = re.compile(rb"^([0-9a-f]{40,64}) (\w+) (\d+)$")
_UNSAFE_REV = re.compile(r"[\s\x00-\x1f\x7f]")
CACHE_BYTES = 64 * 1024 * 1024
"""Decoded blob text kept in memory per repository (least recently used goes)."""


@dataclass(frozen=True, slots=True)
class Commit:
    oid: str
    tree: str
    parents: tuple[str, ...]
    subject: str
    message: str = ""


@dataclass(frozen=True, slots=True)
class _Object:
    oid: str
    kind: str
    data: bytes


def git_env() -> dict[str, str]:
    """The environment for every git call.

    Inherited ``GIT_*`` variables (a hook's GIT_DIR, say) would redirect git to
    another repository, so they all go; system config is skipped and messages
    are kept in English so errors can be recognised.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_TERMINAL_PROMPT="0",
        GIT_OPTIONAL_LOCKS="0",
        LC_ALL="C",
        LANGUAGE="C",
    )
    return env


class GitRepo:
    """Read access to one repository (bare or not) through git plumbing.

    Thread-safe. Close it (or use it as a context manager) to stop its
    ``cat-file`` process; trees handed out keep the repository alive.
    """

    def __init__(self, path: Path, cache_bytes: int = CACHE_BYTES) -> None:
        self.path = path
        self.git_dir = _find_git_dir(path)
        self._env = git_env()
        self._lock = threading.Lock()
        self._batch: subprocess.Popen[bytes] | None = None
        self._finalizer: weakref.finalize[[subprocess.Popen[bytes]], GitRepo] | None = None
        self._blobs: OrderedDict[str, str] = OrderedDict()
        self._blob_bytes = 0
        self._cache_bytes = cache_bytes
        self._paths: dict[tuple[str, str], str | None] = {}

    # --- lifecycle -----------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._reset()

    def __enter__(self) -> GitRepo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- processes -----------------------------------------------------------

    def run(self, args: Sequence[str], ok: tuple[int, ...] = (0,)) -> bytes:
        """Run a git command in this repository and return its stdout.

        Raises `SourceError` with git's first error line on another exit code.
        """
        proc = subprocess.run(
            ["git", f"--git-dir={self.git_dir}", *args],
            capture_output=True,
            env=self._env,
            check=False,
        )
        if proc.returncode not in ok:
            command = next((a for a in args if not a.startswith("-") and "=" not in a), "")
            raise SourceError(f"git {command} failed: {_first_line(proc.stderr)}")
        return proc.stdout

    def _process(self) -> subprocess.Popen[bytes]:
        """The batch process, started on first use (call with the lock held)."""
        if self._batch is None or self._batch.poll() is not None:
            self._batch = subprocess.Popen(
                ["git", f"--git-dir={self.git_dir}", "cat-file", "--batch"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=self._env,
            )
            self._finalizer = weakref.finalize(self, _stop, self._batch)
        return self._batch

    def _read(self, name: str) -> _Object | None:
        """One object by any name git understands; None when it does not exist."""
        if "\n" in name:
            # The batch protocol is line based; such a name cannot be asked for.
            return self._read_slow(name)
        with self._lock:
            proc = self._process()
            stdin, stdout = _pipes(proc)
            try:
                stdin.write(name.encode("utf-8", errors="surrogateescape") + b"\n")
                stdin.flush()
                header = stdout.readline().rstrip(b"\n")
                found = _HEADER.match(header)
                if found is not None:
                    size = int(found.group(3))
                    data = stdout.read(size + 1)[:size]
                    if len(data) == size:
                        return _Object(found.group(1).decode(), found.group(2).decode(), data)
            except OSError:
                header = b""
            if header.endswith(b" ambiguous"):
                raise SourceError(f"ambiguous object name: {name}")
            if header.endswith(b" missing"):
                return None
            # A dead or confused process: drop it so the next read starts afresh.
            self._reset()
        raise SourceError(f"git cat-file failed while reading {name}")

    def _reset(self) -> None:
        """Stop the batch process (call with the lock held)."""
        if self._finalizer is not None:
            self._finalizer()
        self._batch = None
        self._finalizer = None

    def _read_slow(self, name: str) -> _Object | None:
        kind = self.run(["cat-file", "-t", name], ok=(0, 128)).strip().decode()
        if not kind:
            return None
        oid = self.run(["rev-parse", "--verify", "--quiet", name], ok=(0, 1)).strip().decode()
        return _Object(oid, kind, self.run(["cat-file", kind, name]))

    # --- commits -------------------------------------------------------------

    def commit(self, rev: str) -> Commit:
        """Resolve a revision to a commit; `SourceError` if there is none."""
        if not rev or rev.startswith("-") or _UNSAFE_REV.search(rev):
            raise SourceError(f"unknown revision: {rev!r}")
        obj = self._read(f"{rev}^{{commit}}")
        if obj is None or obj.kind != "commit":
            raise SourceError(_unknown(rev))
        return _parse_commit(obj.oid, obj.data)

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """Whether ``ancestor`` is reachable from ``descendant`` (both commits)."""
        if _UNSAFE_REV.search(ancestor) or ancestor.startswith("-"):
            return False
        proc = subprocess.run(
            [
                "git",
                f"--git-dir={self.git_dir}",
                "merge-base",
                "--is-ancestor",
                ancestor,
                descendant,
            ],
            capture_output=True,
            env=self._env,
            check=False,
        )
        return proc.returncode == 0

    def first_parent_log(self, rev: str, path: str) -> Iterator[str]:
        """Commits on ``rev``'s first-parent line that touched ``path``, newest first.

        Streamed: a caller that stops early stops git too.
        """
        proc = subprocess.Popen(
            [
                "git",
                f"--git-dir={self.git_dir}",
                "log",
                "--first-parent",
                "--format=%H",
                rev,
                "--",
                path,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=self._env,
        )
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                yield line.decode("ascii").strip()
        finally:
            proc.kill()
            proc.wait()

    def merge_base(self, a: str, b: str) -> str:
        out = self.run(["merge-base", a, b], ok=(0, 1)).strip().decode()
        if not out:
            raise SourceError(f"no common ancestor between {a} and {b}")
        return out

    def empty_tree(self, like: str) -> str:
        """The id of the empty tree, in the hash of ``like`` (an object id).

        Git knows this tree without storing it, for diffs against nothing.
        """
        algorithm = "sha256" if len(like) == 64 else "sha1"
        return hashlib.new(algorithm, b"tree 0\0").hexdigest()

    # --- blobs and trees -----------------------------------------------------

    def blob_text(self, oid: str) -> str:
        """A blob's text, read once per id while it stays in the cache."""
        with self._lock:
            text = self._blobs.get(oid)
            if text is not None:
                self._blobs.move_to_end(oid)
                return text
        obj = self._read(oid)
        if obj is None:
            raise SourceError(f"object {oid} missing from the repository")
        text = decode(obj.data)
        self._remember(oid, text)
        return text

    def _remember(self, oid: str, text: str) -> None:
        with self._lock:
            if oid in self._blobs:
                return
            self._blobs[oid] = text
            self._blob_bytes += len(text)
            while self._blob_bytes > self._cache_bytes and len(self._blobs) > 1:
                _, dropped = self._blobs.popitem(last=False)
                self._blob_bytes -= len(dropped)

    def read_path(self, tree: str, path: str) -> str | None:
        """The text of ``path`` in ``tree``; None when it is absent or not a file."""
        key = (tree, path)
        with self._lock:
            known = key in self._paths
            oid = self._paths.get(key)
        if known:
            return None if oid is None else self.blob_text(oid)
        obj = self._read(f"{tree}:{path}")
        if obj is None or obj.kind != "blob":
            with self._lock:
                self._paths[key] = None
            return None
        text = decode(obj.data)
        self._remember(obj.oid, text)
        with self._lock:
            self._paths[key] = obj.oid
        return text

    def gitlink_text(self, tree: str, path: str) -> str | None:
        """A submodule entry as git's diffs show it: ``Subproject commit <id>``.

        None when ``path`` is not a submodule. Costs a process: call it only
        for paths that `read_path` did not find.
        """
        out = self.run(["--literal-pathspecs", "ls-tree", "-z", tree, "--", path])
        for record in out.split(b"\0"):
            meta, _, name = record.partition(b"\t")
            fields = meta.split(b" ")
            if len(fields) == 3 and fields[0] == b"160000" and decode(name) == path:
                return f"Subproject commit {fields[2].decode()}\n"
        return None

    def grep(self, tree: str, needle: str, pathspec: str = "") -> list[str]:
        """Paths of text files in ``tree`` containing ``needle`` (a fixed string).

        ``pathspec`` is a git pathspec: ``*`` also matches ``/``, a directory
        matches everything below it, empty means the whole tree.
        """
        args = ["grep", "-l", "-z", "-I", "-F", "--no-color", "--no-textconv", "-e", needle, tree]
        out = self.run([*args, "--", pathspec] if pathspec else args, ok=(0, 1))
        prefix = f"{tree}:"
        names = [decode(raw) for raw in out.split(b"\0") if raw]
        return sorted(name[len(prefix) :] if name.startswith(prefix) else name for name in names)

    def grep_lines(self, tree: str, regex: str, pathspec: str = "") -> list[tuple[str, str]]:
        """(path, line) of every line of ``tree`` matching the extended ``regex``,
        sorted by path, in file order within a path."""
        args = ["grep", "-z", "-I", "-E", "--no-color", "--no-textconv", "-e", regex, tree]
        out = self.run([*args, "--", pathspec] if pathspec else args, ok=(0, 1))
        prefix = f"{tree}:"
        found: list[tuple[str, str]] = []
        for record in out.split(b"\n"):
            name, sep, line = record.partition(b"\0")
            if not sep:
                continue
            path = decode(name)
            found.append((path.removeprefix(prefix), decode(line)))
        found.sort(key=lambda pl: pl[0])  # stable: lines stay in file order
        return found

    def blobs(self, tree: str, suffixes: tuple[str, ...] = ()) -> dict[str, str]:
        """Every file of ``tree`` (ending in one of ``suffixes``, when given) and its blob id.

        One ``ls-tree`` call: no file is read.
        """
        out = self.run(["ls-tree", "-r", "-z", "--full-tree", tree])
        found: dict[str, str] = {}
        for record in out.split(b"\0"):
            meta, _, raw = record.partition(b"\t")
            fields = meta.split(b" ")
            if len(fields) != 3 or fields[1] != b"blob":
                continue
            path = decode(raw)
            if not suffixes or path.endswith(suffixes):
                found[path] = fields[2].decode("ascii")
        return found

    def tree(self, tree_id: str, known: Mapping[str, str | None] | None = None) -> Tree:
        """A `Tree` over ``tree_id``; ``known`` maps paths to blob ids already seen."""
        with self._lock:
            for path, oid in (known or {}).items():
                self._paths[(tree_id, path)] = oid

        def read(path: str) -> str | None:
            return self.read_path(tree_id, path)

        def grep(needle: str, pathspec: str) -> list[str]:
            return self.grep(tree_id, needle, pathspec)

        def lines(regex: str, pathspec: str) -> list[tuple[str, str]]:
            return self.grep_lines(tree_id, regex, pathspec)

        return Tree(tree_id=tree_id, read=read, grep=grep, lines=lines)


def open_repo(repo: Path | GitRepo) -> GitRepo:
    """Accept a path or an open repository, as the public functions do."""
    return repo if isinstance(repo, GitRepo) else GitRepo(Path(repo))


def _find_git_dir(path: Path) -> str:
    """The repository's git directory, looking at ``path`` and nowhere above it."""
    if not path.is_dir():
        raise SourceError(f"not a git repository: {path} (no such directory)")
    resolved = path.resolve()
    env = git_env()
    # Without a ceiling git would climb to an enclosing repository.
    env["GIT_CEILING_DIRECTORIES"] = str(resolved.parent)
    proc = subprocess.run(
        ["git", "-C", str(resolved), "rev-parse", "--absolute-git-dir"],
        capture_output=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise SourceError(f"not a git repository: {path} ({_first_line(proc.stderr)})")
    return proc.stdout.decode("utf-8", errors="surrogateescape").strip()


def _parse_commit(oid: str, data: bytes) -> Commit:
    head, _, message = data.partition(b"\n\n")
    tree = ""
    parents: list[str] = []
    encoding = "utf-8"
    for line in head.split(b"\n"):
        key, _, value = line.partition(b" ")
        if key == b"tree":
            tree = value.decode()
        elif key == b"parent":
            parents.append(value.decode())
        elif key == b"encoding":
            encoding = value.decode("ascii", errors="replace").strip()
    try:
        text = message.decode(encoding, errors="replace")
    except LookupError:
        text = decode(message)
    # Git's subject: the first paragraph, its lines joined by spaces.
    subject = " ".join(text.strip().split("\n\n", 1)[0].split()) if text.strip() else ""
    return Commit(oid, tree, tuple(parents), subject, text)


def _pipes(proc: subprocess.Popen[bytes]) -> tuple[IO[bytes], IO[bytes]]:
    assert proc.stdin is not None
    assert proc.stdout is not None
    return proc.stdin, proc.stdout


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End a batch process: closing its input makes cat-file exit by itself."""
    try:
        if proc.stdin is not None:
            proc.stdin.close()
        proc.wait(timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        proc.kill()
        proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


_TAG = re.compile(r"v[0-9]+(?:\.[0-9]+)+(?:-rc[0-9]+)?")


def _unknown(rev: str) -> str:
    """Why a revision is not there; a release tag the repository lacks is explained."""
    tag = rev.split("^")[0].split("~")[0].removeprefix("refs/tags/")
    if _TAG.fullmatch(tag):
        return (
            f"unknown revision: {rev!r}: this repository has no tag {tag} (a mirror "
            "fetched without tags, or older than that release); run 'git fetch --tags' "
            "in it, or give a commit id"
        )
    return f"unknown revision: {rev!r}"


def _first_line(stderr: bytes) -> str:
    text = decode(stderr).strip()
    for line in text.splitlines():
        line = line.removeprefix("fatal: ").removeprefix("error: ").strip()
        if line:
            return line
    return "no message"
