"""Lookups in a whole tree that the analyzer needs beyond the touched files.

Each lookup is cached per tree id: a tree's content never changes under an id.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable, Sequence

from bot.change import Tree
from bot.scanner.cache import ScanCache, text_id
from bot.scanner.cpp import Define, split_directives
from bot.scanner.lexer import tokenize
from bot.scanner.macros import MacroTable, fallback_table
from bot.scanner.model import FileModel
from bot.scanner.scan import scan

_lock = threading.Lock()
_tables: dict[str, MacroTable] = {}
_header_defines: dict[str, tuple[Define, ...]] = {}
_MAX_CACHED_TABLES = 16


def macro_table(tree: Tree | None, cache: ScanCache | None = None) -> MacroTable:
    """``VMSTATE_*`` definitions of the tree's headers; the fallback table without one.

    With a cache the table is kept by its content (the headers' paths and blob
    ids), and a tree id only points at it: trees that share their macro headers,
    nearly every commit of a year, share one table, and each header's defines
    are kept by its own content, so a new header costs one header's lexing."""
    if tree is None or tree.grep is None:
        return fallback_table()
    with _lock:
        cached = _tables.get(tree.tree_id)
    if cached is not None:
        return cached
    if cache is None:
        return _learn(tree, None)
    pointer = ScanCache.key("macro-table-of", tree.tree_id, "")
    digest = cache.get_many([pointer]).get(pointer)
    if isinstance(digest, str):
        content = _content_key(digest)
        table = cache.get_many([content]).get(content)
        if isinstance(table, MacroTable):
            _remember(tree.tree_id, table)
            return table
    table = _learn(tree, cache)
    if table.digest:
        cache.put_many({pointer: table.digest})
    return table


def _content_key(digest: str) -> str:
    return ScanCache.key("macro-table", digest, "")


def same_table(tree: Tree, table: MacroTable, cache: ScanCache | None) -> None:
    """Record that ``tree`` has ``table`` (a change that touched no macro header):
    the next change, based on this tree, finds it without reading headers."""
    _remember(tree.tree_id, table)
    if cache is not None and table.digest:
        cache.put_many({ScanCache.key("macro-table-of", tree.tree_id, ""): table.digest})


def _learn(tree: Tree, cache: ScanCache | None) -> MacroTable:
    assert tree.grep is not None
    paths = sorted(tree.grep("#define VMSTATE_", "*.h"))
    headers: list[tuple[str, str, str]] = []
    digest = hashlib.sha256()
    for path in paths:
        text = tree.read(path)
        if text is None:
            continue
        blob = text_id(text)
        headers.append((path, text, blob))
        digest.update(f"{path}\0{blob}\0".encode("utf-8", "surrogateescape"))
    if not headers:
        # Not a QEMU tree (or a very old one): the table still judges the common macros.
        return fallback_table()
    table_digest = digest.hexdigest()[:16]
    if cache is not None:
        found = cache.get_many([_content_key(table_digest)]).get(_content_key(table_digest))
        if isinstance(found, MacroTable):
            _remember(tree.tree_id, found)
            return found
    keys = {path: ScanCache.key("defines", blob, path) for path, _, blob in headers}
    known = cache.get_many(keys.values()) if cache is not None else {}
    table = MacroTable()
    learned: dict[str, object] = {}
    for path, text, _ in headers:
        defines = known.get(keys[path])
        if not isinstance(defines, tuple):
            defines = learned[keys[path]] = _defines(path, text)
        table.add(defines)
    table.learned_from = tuple(path for path, _, _ in headers)
    table.digest = table_digest
    if cache is not None:
        cache.put_many({**learned, _content_key(table_digest): table})
    _remember(tree.tree_id, table)
    return table


def _remember(tree_id: str, table: MacroTable) -> None:
    with _lock:
        if tree_id not in _tables and len(_tables) >= _MAX_CACHED_TABLES:
            _tables.pop(next(iter(_tables)))
        _tables[tree_id] = table


def _defines(path: str, text: str) -> tuple[Define, ...]:
    """Defines of one header, cached by content (headers rarely change between commits)."""
    key = hashlib.sha1(text.encode("utf-8", "surrogateescape"), usedforsecurity=False).hexdigest()
    with _lock:
        hit = _header_defines.get(key)
    if hit is None:
        hit = split_directives(tokenize(text, path), path).defines
        with _lock:
            _header_defines[key] = hit
    return hit


_STRING_DEFINE = re.compile(r'^\s*#\s*define\s+([A-Z_][A-Z0-9_]*)\s+"([^"]*)"')
_STRING_DEFINE_ERE = r'^[[:space:]]*#[[:space:]]*define[[:space:]]+[A-Z_][A-Z0-9_]*[[:space:]]+"'
_NAME_PARTS = re.compile(r'"[^"]*"|[A-Za-z_][A-Za-z0-9_]*')


class TreeLookups:
    """Name resolution and nested-VMSD users in one tree, memoised."""

    def __init__(self, tree: Tree | None, table: MacroTable, extra: Iterable[FileModel] = ()):
        self.tree = tree
        self.table = table
        self._extra = list(extra)
        self._names: dict[str, str | None] = {}
        self._users: dict[str, tuple[str, ...]] = {}
        self._mentions: dict[str, bool] = {}
        self._strings: dict[str, str] | None = None
        self._extra_defines: dict[str, str] | None = None

    def _extra_strings(self) -> dict[str, str]:
        """String defines of the change's own files, first definition first: one
        dict for every lookup (a merge brings thousands of files and names)."""
        if self._extra_defines is None:
            merged: dict[str, str] = {}
            for m in self._extra:
                for key, value in dict(m.string_defines).items():
                    if value and key not in merged:
                        merged[key] = value
            self._extra_defines = merged
        return self._extra_defines

    def resolve(self, name: str) -> str | None:
        """A name expression: a macro, a string, or adjacent ones (``TYPE_X "-lan"``)."""
        parts = _NAME_PARTS.findall(name)
        if len(parts) > 1 and "".join(parts).replace(" ", "") == name.replace(" ", ""):
            pieces = [p[1:-1] if p.startswith('"') else self._resolve_one(p) for p in parts]
            return None if any(p is None for p in pieces) else "".join(p or "" for p in pieces)
        return self._resolve_one(name)

    def _resolve_one(self, name: str) -> str | None:
        if name in self._names:
            return self._names[name]
        value = self.table.strings.get(name)
        if value is None:
            value = self._extra_strings().get(name)
        if (
            value is None
            and self.tree is not None
            and self.tree.lines is not None
            and re.fullmatch(r"[A-Z_][A-Z0-9_]*", name)
        ):
            value = self._header_strings().get(name)
        elif (
            value is None
            and self.tree is not None
            and self.tree.grep is not None
            and (re.fullmatch(r"[A-Z_][A-Z0-9_]*", name))
        ):
            pattern = re.compile(rf'^\s*#\s*define\s+{re.escape(name)}\s+"([^"]*)"', re.M)
            for path in self.tree.grep(f"define {name}", "*.h")[:8]:
                text = self.tree.read(path) or ""
                found = pattern.search(text)
                if found:
                    value = found.group(1)
                    break
        self._names[name] = value
        return value

    def _header_strings(self) -> dict[str, str]:
        """``#define NAME "value"`` of every header, from one search of the tree:
        the first header (in path order) that defines the name, its first value.
        A change that moves hundreds of devices asks for hundreds of names."""
        if self._strings is None:
            assert self.tree is not None and self.tree.lines is not None
            found: dict[str, str] = {}
            for _path, line in self.tree.lines(_STRING_DEFINE_ERE, "*.h"):
                m = _STRING_DEFINE.match(line)
                if m and m.group(1) not in found:
                    found[m.group(1)] = m.group(2)
            self._strings = found
        return self._strings

    def mentions(self, ident: str) -> bool:
        """Whether any C file or header of the tree spells the identifier ``ident``
        (True when the tree cannot be searched: unknown is not absent)."""
        if self.tree is None or self.tree.grep is None:
            return True
        if ident not in self._mentions:
            word = re.compile(rf"\b{re.escape(ident)}\b")
            self._mentions[ident] = any(
                word.search(self.tree.read(path) or "")
                for pattern in ("*.c", "*.h")
                for path in self.tree.grep(ident, pattern)[:64]
            )
        return self._mentions[ident]

    def vmsds_named(self, macro: str) -> Sequence[str]:
        """Paths of .c files whose VMSDs take their ``.name`` from ``macro``."""
        if self.tree is None or self.tree.grep is None:
            return ()
        out = []
        for path in self.tree.grep(macro, "*.c")[:24]:
            text = self.tree.read(path)
            if text is None:
                continue
            model = scan(text, path, self.table)
            if any(v.name_expr == macro for v in model.vmsds):
                out.append(path)
        return out

    def _wrappers(self, ident: str) -> list[str]:
        """Macros that expand, directly or through each other, to ``ident``."""
        found: list[str] = []
        frontier = {ident}
        for _depth in range(4):
            nxt = {
                name
                for name, d in self.table.functions.items()
                if name not in found and any(t.text in frontier for t in d.body)
            }
            if not nxt:
                break
            found.extend(sorted(nxt))
            frontier = nxt
        return found

    def nested_users(self, ident: str) -> Sequence[str]:
        """Names of VMSDs that embed ``ident`` through VMSTATE_STRUCT* (not VSTRUCT)."""
        if ident in self._users:
            return self._users[ident]
        users: list[str] = []
        models = list(self._extra)
        seen = {m.path for m in models}
        # Devices often embed a common VMSD through a macro (VMSTATE_CLOCK,
        # VMSTATE_PCI_DEVICE): search for the macro names too.
        needles = [ident, *self._wrappers(ident)]
        tree = self.tree
        if tree is not None and tree.grep is not None:
            paths: list[str] = []
            for needle in needles[:8]:
                paths.extend(p for p in tree.grep(needle, "*.c") if p not in paths)
            for path in paths[:24]:
                if path in seen:
                    continue
                text = tree.read(path)
                if text is not None:
                    models.append(scan(text, path, self.table))
        for m in models:
            for v in m.vmsds:
                for f in v.fields:
                    if f.vmsd == ident and "VMS_VSTRUCT" not in f.flags:
                        users.append(v.name or v.name_expr or v.ident)
        result = tuple(dict.fromkeys(users))
        self._users[ident] = result
        return result
