"""Commits as whole-tree snapshots, and the per-file diffs a forge shows for them."""

from __future__ import annotations

import difflib
import hashlib
import itertools
import re
from dataclasses import dataclass

_counter = itertools.count(1)
_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def new_sha(seed: str) -> str:
    return hashlib.sha1(f"{seed}:{next(_counter)}".encode()).hexdigest()


@dataclass
class FileDiff:
    old_path: str
    new_path: str
    new_file: bool
    deleted_file: bool
    renamed_file: bool
    diff: str
    additions: int
    deletions: int


def _lines(text: str | None) -> list[str]:
    if not text:
        return []
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return lines


def unified(old: str | None, new: str | None) -> str:
    out = list(difflib.unified_diff(_lines(old), _lines(new), n=3))
    return "".join(out[2:])


def file_diffs(old: dict[str, str], new: dict[str, str]) -> list[FileDiff]:
    out = []
    for path in sorted(set(old) | set(new)):
        a, b = old.get(path), new.get(path)
        if a == b:
            continue
        text = unified(a, b)
        adds = sum(1 for ln in text.splitlines() if ln.startswith("+"))
        dels = sum(1 for ln in text.splitlines() if ln.startswith("-"))
        out.append(FileDiff(path, path, a is None, b is None, False, text, adds, dels))
    return out


def diff_lines(diff: str) -> tuple[set[int], set[int], set[tuple[int, int]]]:
    """(added new lines, removed old lines, context (old, new) pairs) of a diff."""
    added: set[int] = set()
    removed: set[int] = set()
    context: set[tuple[int, int]] = set()
    old = new = 0
    for line in diff.splitlines():
        match = _HEADER.match(line)
        if match:
            old, new = int(match.group(1)), int(match.group(3))
            continue
        if line.startswith("+"):
            added.add(new)
            new += 1
        elif line.startswith("-"):
            removed.add(old)
            old += 1
        elif line.startswith("\\"):
            continue
        else:
            context.add((old, new))
            old += 1
            new += 1
    return added, removed, context


class Repo:
    """A repository: commits (full snapshots) and branches."""

    def __init__(self, files: dict[str, str]) -> None:
        self.commits: dict[str, dict[str, str]] = {}
        self.parents: dict[str, str | None] = {}
        self.branches: dict[str, str] = {}
        self.branches["master"] = self.commit(None, files)

    def commit(self, parent: str | None, files: dict[str, str]) -> str:
        sha = new_sha(repr(sorted(files.items())))
        self.commits[sha] = dict(files)
        self.parents[sha] = parent
        return sha

    def change(self, parent: str, changes: dict[str, str | None]) -> str:
        files = dict(self.commits[parent])
        for path, text in changes.items():
            if text is None:
                files.pop(path, None)
            else:
                files[path] = text
        return self.commit(parent, files)
