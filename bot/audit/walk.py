"""Every migration-relevant C file of one revision, scanned in parallel.

The door of the audit onto git: list the candidate files with one ``git grep``,
read them through the repository's ``cat-file`` process, prune the bodies the
scanner does not need (`bot.audit.prune`) and scan them in worker processes.
Worker processes get the macro table and the header string defines once, at
start; each task is one file's text, each result its `FileModel`.
"""

from __future__ import annotations

import bisect
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context

from bot.audit.prune import prune
from bot.change import Tree
from bot.report.progress import progress
from bot.scanner.cache import ScanCache, digest_of
from bot.scanner.macros import MacroTable
from bot.scanner.model import FileModel
from bot.scanner.scan import scan
from bot.scanner.treeinfo import macro_table
from bot.sources.gitrepo import GitRepo

CANDIDATE = r"VMState|GlobalProperty|Property|_MACHINE|vmsd|vmstate_register|TypeInfo"
"""Files without any of these words hold nothing the audit reads (the scanner's
own prefilter, applied by ``git grep`` before any file is read)."""

EXCLUDED = ("tests/", "scripts/", "contrib/", "docs/", "roms/", "subprojects/")
"""Test VMSDs are wrong on purpose; the others are not QEMU's devices."""

_BLOCKER = re.compile(r"\bmigrate_add_blocker\w*\s*\(")
_NOT_CREATABLE = re.compile(r"\buser_creatable\s*=\s*false\b")
_SAVEVM = re.compile(r"\b(?:register_savevm_live|vmstate_register\w*)\s*\(")
_BLOCKER_H = re.compile(r'^\s*#\s*include\s+"migration/blocker\.h"', re.M)
_RESET = re.compile(
    r"\b(?:device_class_set_legacy_reset|device_class_set_parent_reset)\s*\("
    r"|->phases\.(?:enter|hold|exit)\s*=|\bdc->reset\s*=|->handle_reset\s*="
)
_STRING_DEFINE = re.compile(
    r"^\s*#\s*define\s+(?P<name>[A-Za-z_]\w*)[ \t]+(?P<body>[^\n]*\"[^\n]*)$", re.M
)
_STRING_TEMPLATE = re.compile(
    r"^\s*#\s*define\s+(?P<name>[A-Za-z_]\w*)\(\s*(?P<param>[A-Za-z_]\w*)\s*\)"
    r"[ \t]+(?P<body>[^\n]*?)\s*$",
    re.M,
)
"""``#define M68K_CPU_TYPE_NAME(model) model M68K_CPU_TYPE_SUFFIX``: a name made
from its one argument and strings (CPU models are named so)."""
PARAM = "\0"
"""Where the argument goes in a template's value in the strings (key ``NAME()``)."""
_COMMENT = re.compile(r"/\*.*?\*/|//.*$")
_BODY_TOKEN = re.compile(r'"(?P<lit>(?:\\.|[^"\\])*)"|(?P<ident>[A-Za-z_]\w*)|(?P<other>\S)')


@dataclass(frozen=True, slots=True)
class TextFacts:
    """What the audit reads off a file's raw text with plain patterns."""

    blocker_lines: tuple[int, ...] = ()
    """Lines calling ``migrate_add_blocker*()``."""
    not_user_creatable_lines: tuple[int, ...] = ()
    """Lines setting ``user_creatable = false``."""
    savevm_lines: tuple[int, ...] = ()
    """Lines registering state by hand (``vmstate_register*()``, ``register_savevm_live()``)."""
    reset_lines: tuple[int, ...] = ()
    """Lines installing a reset handler: the device has state to reset."""
    includes_blocker_h: bool = False
    """``#include "migration/blocker.h"``: the file decides about migration itself."""


@dataclass(frozen=True, slots=True)
class ScannedFile:
    model: FileModel
    facts: TextFacts


@dataclass(frozen=True, slots=True)
class TreeScan:
    """The scanned files of one revision, and what resolving names needs."""

    commit: str
    tree_id: str
    files: tuple[ScannedFile, ...]
    strings: Mapping[str, str] = field(default_factory=dict)
    """``#define NAME "string"`` of the tree's headers (ambiguous names left out)."""
    candidates: int = 0
    seconds: float = 0.0
    jobs: int = 1
    table: MacroTable | None = None
    """The macro table the files were scanned with."""

    @property
    def models(self) -> tuple[FileModel, ...]:
        return tuple(f.model for f in self.files)


def text_facts(text: str) -> TextFacts:
    """The `TextFacts` of one file's text."""
    starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def lines(rx: re.Pattern[str]) -> tuple[int, ...]:
        return tuple(bisect.bisect_right(starts, m.start()) for m in rx.finditer(text))

    return TextFacts(
        blocker_lines=lines(_BLOCKER),
        not_user_creatable_lines=lines(_NOT_CREATABLE),
        savevm_lines=lines(_SAVEVM),
        reset_lines=lines(_RESET),
        includes_blocker_h=_BLOCKER_H.search(text) is not None,
    )


def header_strings(defines: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Resolve ``#define`` bodies made of string literals and other such names.

    ``defines`` are (name, body) pairs; a name defined twice with different
    bodies (per-target headers) is ambiguous and left out rather than guessed.
    """
    bodies: dict[str, set[str]] = {}
    for name, body in defines:
        if "(" in name:
            # a template, given as ("NAME(param)", body): kept as "NAME()"
            name, param = name.rstrip(")").split("(", 1)
            name = f"{name}()"
            body = f"{param.strip()}\0{body}"
        bodies.setdefault(name, set()).add(_COMMENT.sub("", body).strip())
    out: dict[str, str] = {}
    busy: set[str] = set()

    def value(name: str) -> str | None:
        if name in out:
            return out[name]
        found = bodies.get(name)
        if found is None or len(found) != 1 or name in busy:
            return None
        busy.add(name)
        parts: list[str] = []
        body = next(iter(found))
        param = None
        if name.endswith("()"):
            param, body = body.split("\0", 1)
            body = body.strip()
        while body.startswith("(") and body.endswith(")"):
            body = body[1:-1].strip()  # `#define TYPE_X86_IOMMU_DEVICE ("x86-iommu")`
        for m in _BODY_TOKEN.finditer(body):
            if m.group("lit") is not None:
                parts.append(m.group("lit"))
            elif m.group("ident") == param and PARAM not in parts:
                parts.append(PARAM)
            elif m.group("ident"):
                sub = value(m.group("ident"))
                if sub is None:
                    busy.discard(name)
                    return None
                parts.append(sub)
            else:
                busy.discard(name)
                return None  # an operator or a comment: not a plain string
        busy.discard(name)
        if param is not None and (PARAM not in parts or len(parts) < 2):
            return None  # not a name made from its argument
        out[name] = "".join(parts)
        return out[name]

    for name in bodies:
        value(name)
    return out


def candidate_paths(repo: GitRepo, tree_id: str) -> list[str]:
    """The ``.c`` files that may hold migration state, outside tests and scripts."""
    raw = repo.run(
        ["grep", "-l", "-z", "-I", "-E", "--no-color", "-e", CANDIDATE, tree_id, "--", "*.c"],
        ok=(0, 1),
    )
    prefix = f"{tree_id}:"
    paths = [p.decode("utf-8", "surrogateescape") for p in raw.split(b"\0") if p]
    paths = [p[len(prefix) :] if p.startswith(prefix) else p for p in paths]
    return sorted(p for p in paths if not p.startswith(EXCLUDED))


def tree_strings(repo: GitRepo, tree_id: str) -> dict[str, str]:
    """`header_strings` of every header of the tree, from one ``git grep``."""
    pattern = r"^\s*#\s*define\s+\w+[ \t].*\""
    raw = repo.run(
        ["grep", "-h", "-I", "-E", "--no-color", "-e", pattern, tree_id, "--", "*.h"], ok=(0, 1)
    ).decode("utf-8", "surrogateescape")
    pattern = r"^\s*#\s*define\s+\w+\(\s*\w+\s*\)[ \t]"
    raw_templates = repo.run(
        ["grep", "-h", "-I", "-E", "--no-color", "-e", pattern, tree_id, "--", "*.h"], ok=(0, 1)
    ).decode("utf-8", "surrogateescape")
    return header_strings(
        [(m.group("name"), m.group("body")) for m in _STRING_DEFINE.finditer(raw)]
        + [_template(m) for m in _STRING_TEMPLATE.finditer(raw_templates)]
    )


def _template(m: re.Match[str]) -> tuple[str, str]:
    return f"{m.group('name')}({m.group('param')})", m.group("body")


# --- scanning ------------------------------------------------------------------

_worker_table: MacroTable | None = None
_worker_strings: Mapping[str, str] = {}


def _init_worker(table: MacroTable, strings: Mapping[str, str]) -> None:
    global _worker_table, _worker_strings
    _worker_table = table
    _worker_strings = strings


def _scan_one(item: tuple[str, str]) -> ScannedFile:
    path, text = item
    assert _worker_table is not None
    model = scan(prune(text), path, _worker_table, resolve=_worker_strings.get)
    return ScannedFile(model, text_facts(text))


def scan_texts(
    texts: Sequence[tuple[str, str]],
    table: MacroTable,
    strings: Mapping[str, str],
    jobs: int = 1,
) -> list[ScannedFile]:
    """Scan (path, text) pairs; ``jobs`` > 1 uses that many worker processes.

    Results come back in the order of ``texts`` whatever the parallelism.
    """
    with progress("scanning files", total=len(texts)) as step:
        if jobs <= 1 or len(texts) < 2 * jobs:
            _init_worker(table, strings)
            serial = []
            for t in texts:
                serial.append(_scan_one(t))
                step()
            return serial
        # Biggest files first, so no worker is left with a large file at the end.
        order = sorted(range(len(texts)), key=lambda k: -len(texts[k][1]))
        with ProcessPoolExecutor(
            max_workers=jobs,
            mp_context=get_context("spawn"),
            initializer=_init_worker,
            initargs=(table, dict(strings)),
        ) as pool:
            done = []
            for result in pool.map(_scan_one, [texts[k] for k in order], chunksize=4):
                done.append(result)
                step()
    out: list[ScannedFile | None] = [None] * len(texts)
    for k, result in zip(order, done, strict=True):
        out[k] = result
    return [r for r in out if r is not None]


def default_jobs() -> int:
    """One worker per CPU this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def scan_tree(
    repo: GitRepo,
    rev: str,
    *,
    jobs: int | None = None,
    paths: Callable[[str], bool] | None = None,
    cache: ScanCache | None = None,
) -> TreeScan:
    """Scan the migration-relevant files of ``rev``; ``paths`` narrows the set.

    With a ``cache``, a file is scanned once per blob: any other revision that
    has the same blob (and the same macro table and header strings) reuses it.
    """
    start = time.perf_counter()
    commit = repo.commit(rev)
    tree = repo.tree(commit.tree)
    if cache is None:
        table = macro_table(tree)
        strings = tree_strings(repo, commit.tree)
        candidates = [p for p in candidate_paths(repo, commit.tree) if paths is None or paths(p)]
        texts = [(p, t) for p in candidates if (t := tree.read(p)) is not None]
        files = scan_texts(texts, table, strings, jobs if jobs is not None else default_jobs())
        n_candidates = len(candidates)
    else:
        files, table, strings, n_candidates = _scan_cached(repo, commit.tree, paths, jobs, cache)
    n = jobs if jobs is not None else default_jobs()
    return TreeScan(
        commit=commit.oid,
        tree_id=commit.tree,
        files=tuple(files),
        strings=strings,
        candidates=n_candidates,
        seconds=time.perf_counter() - start,
        jobs=n,
        table=table,
    )


# --- the same, scanning once per blob -------------------------------------------

_CANDIDATE = re.compile(CANDIDATE)
_STRING_DEFINE_TEXT = re.compile(r"^\s*#\s*define\s+\w+[ \t].*\".*$", re.M)
"""The whole line: ``#define M68K_CPU_TYPE_SUFFIX "-" TYPE_M68K_CPU`` ends in a name."""


_HEADER_FORMAT = "2"
"""Changes when what `_headers` reads of a header does (cached per blob)."""


@dataclass(frozen=True, slots=True)
class _Header:
    """What the audit needs of one header blob."""

    strings: tuple[tuple[str, str], ...]
    """``#define NAME "..."`` lines: name and body; templates as ``NAME(param)``."""
    defines_vmstate: bool


def _scan_cached(
    repo: GitRepo,
    tree_id: str,
    paths: Callable[[str], bool] | None,
    jobs: int | None,
    cache: ScanCache,
) -> tuple[list[ScannedFile], MacroTable, dict[str, str], int]:
    blobs = repo.blobs(tree_id, (".c", ".h"))
    headers = _headers(repo, {p: b for p, b in blobs.items() if p.endswith(".h")}, cache)
    strings = header_strings(d for h in headers.values() for d in h.strings)
    tree = repo.tree(tree_id, {p: blobs[p] for p in headers})
    learned = sorted(p for p, h in headers.items() if h.defines_vmstate)
    table_key = ScanCache.key("macro-table", digest_of({p: blobs[p] for p in learned}), "")
    table = cache.through(table_key, lambda: macro_table(_only(tree, learned)))
    given = (table.digest, digest_of(strings))
    sources = {
        p: b
        for p, b in blobs.items()
        if p.endswith(".c") and not p.startswith(EXCLUDED) and (paths is None or paths(p))
    }
    keys = {p: ScanCache.key("audit-file", b, p, *given) for p, b in sources.items()}
    found = cache.get_many(keys.values())
    missing = [p for p in sorted(sources) if keys[p] not in found]
    texts = [(p, repo.blob_text(sources[p])) for p in missing]
    wanted = [(p, t) for p, t in texts if _CANDIDATE.search(t)]
    n = jobs if jobs is not None else default_jobs()
    scanned = dict(zip((p for p, _ in wanted), scan_texts(wanted, table, strings, n), strict=True))
    cache.put_many({keys[p]: scanned.get(p) for p, _ in texts})
    files = [
        f
        for p in sorted(sources)
        if (f := scanned.get(p) if keys[p] not in found else found[keys[p]]) is not None
    ]
    return [f for f in files if isinstance(f, ScannedFile)], table, strings, len(files)


def _headers(repo: GitRepo, blobs: Mapping[str, str], cache: ScanCache) -> dict[str, _Header]:
    keys = {p: ScanCache.key("audit-header", b, p, _HEADER_FORMAT) for p, b in blobs.items()}
    found = cache.get_many(keys.values())
    out: dict[str, _Header] = {}
    fresh: dict[str, object] = {}
    for path, blob in blobs.items():
        hit = found.get(keys[path])
        if not isinstance(hit, _Header):
            text = repo.blob_text(blob)
            strings = tuple(
                (m.group("name"), m.group("body"))
                for line in _STRING_DEFINE_TEXT.finditer(text)
                if (m := _STRING_DEFINE.match(line.group(0)))
            ) + tuple(_template(m) for m in _STRING_TEMPLATE.finditer(text))
            hit = _Header(strings, "#define VMSTATE_" in text)
            fresh[keys[path]] = hit
        out[path] = hit
    cache.put_many(fresh)
    return out


def _only(tree: Tree, paths: Sequence[str]) -> Tree:
    """``tree``, whose search for macro headers answers from the headers already known."""
    known = sorted(paths)

    def grep(needle: str, pathspec: str) -> list[str]:
        if needle == "#define VMSTATE_" and pathspec == "*.h":
            return known
        assert tree.grep is not None
        return tree.grep(needle, pathspec)

    return Tree(tree.tree_id, tree.read, grep)
