"""Who may acknowledge on the list: the maintainers named in the base tree's MAINTAINERS.

An ``Acked-by:`` in a reply counts as the ack label when the person it names
sent that reply and is an ``M:`` of the "Migration" section or of a section
whose ``F:`` patterns cover a file the series changes. Anyone else's ack is
recorded as not honoured and changes nothing.
"""

from __future__ import annotations

import email.utils
import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass

MIGRATION_SECTION = "Migration"
_ENTRY = re.compile(r"^([A-Z]):\s*(.*?)\s*$")
_RULE = re.compile(r"^[=\-]{3,}\s*$")


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    maintainers: tuple[str, ...]
    """``M:`` addresses, lower-case."""
    files: tuple[str, ...]
    excluded: tuple[str, ...] = ()

    def covers(self, path: str) -> bool:
        if any(_matches(path, p) for p in self.excluded):
            return False
        return any(_matches(path, p) for p in self.files)


def parse_maintainers(text: str) -> list[Section]:
    """The sections of a MAINTAINERS file (the prose at the top is skipped)."""
    sections: list[Section] = []
    title: str | None = None
    entries: dict[str, list[str]] = {}

    def close() -> None:
        if title is not None and entries:
            sections.append(
                Section(
                    title,
                    tuple(_address(m) for m in entries.get("M", []) if _address(m)),
                    tuple(entries.get("F", [])),
                    tuple(entries.get("X", [])),
                )
            )

    for line in text.splitlines():
        found = _ENTRY.match(line)
        if found and title is not None:
            entries.setdefault(found.group(1), []).append(found.group(2))
        elif not line.strip() or _RULE.match(line):
            close()
            title, entries = None, {}
        elif not found:
            close()
            title, entries = line.strip(), {}
    close()
    return sections


def _address(entry: str) -> str:
    return email.utils.parseaddr(entry)[1].lower()


def _matches(path: str, pattern: str) -> bool:
    """get_maintainer's reading of an F: pattern: a folder/, a glob, or a file."""
    if pattern.endswith("/"):
        return path.startswith(pattern)
    if any(c in pattern for c in "*?["):
        # A wildcard stays within its folder: tests/*/x matches one level only.
        return fnmatch.fnmatchcase(path, pattern) and path.count("/") == pattern.count("/")
    return path == pattern or path.startswith(pattern + "/")


@dataclass(frozen=True, slots=True)
class Maintainers:
    sections: tuple[Section, ...]

    def migration(self) -> frozenset[str]:
        return frozenset(
            m for s in self.sections if s.title == MIGRATION_SECTION for m in s.maintainers
        )

    def of_file(self, path: str) -> frozenset[str]:
        return frozenset(m for s in self.sections if s.covers(path) for m in s.maintainers)

    def may_ack(self, address: str, paths: Iterable[str]) -> bool:
        """A migration maintainer, or a maintainer of one of ``paths``."""
        address = address.lower()
        if address in self.migration():
            return True
        return any(address in self.of_file(p) for p in paths)


def load_maintainers(text: str | None) -> Maintainers:
    """From the base tree's MAINTAINERS (None when the tree has none: nobody may ack)."""
    return Maintainers(tuple(parse_maintainers(text or "")))


@dataclass(frozen=True, slots=True)
class Ack:
    """An ``Acked-by:`` found in a reply."""

    name: str
    address: str
    """The address the trailer names, lower-case."""
    sender: str
    """Who sent the reply, lower-case."""
    message_id: str
    paths: tuple[str, ...] | None
    """The files of the patch it answered; None when it answered the cover letter."""
    earlier: bool = False
    """Given on an earlier version whose patch this one repeats unchanged (b4 carries it)."""

    @property
    def from_the_person(self) -> bool:
        """The trailer names its sender: nobody acks on another's behalf."""
        return self.address == self.sender

    def who(self) -> str:
        return f"{self.name} <{self.address}>" if self.name else self.address
