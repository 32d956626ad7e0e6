"""What the audit asks git beyond the scanned files: string literals, a past release.

Two questions, one ``git grep`` each:

* where is each compat driver and property spelled as a C string (`literal_hits`);
* which section names existed in the oldest release whose machine types are
  still registered (`baseline`), found through the history of ``VERSION``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.audit.checks import Baseline
from bot.audit.walk import EXCLUDED
from bot.scanner.cache import ScanCache, digest_of
from bot.scanner.model import MachineVersion
from bot.sources.errors import SourceError
from bot.sources.gitrepo import GitRepo

DELETION_YEARS = 6
"""``MACHINE_VER_DELETION_MAJOR`` of include/hw/core/boards.h."""


def literal_hits(
    repo: GitRepo, tree_id: str, strings: Iterable[str], skip: Iterable[tuple[str, int]] = ()
) -> dict[str, list[tuple[str, int]]]:
    """Where each of ``strings`` appears as a whole C string literal.

    ``skip`` lists (path, line) places not to count (the compat entries
    themselves); tests, scripts and the other `EXCLUDED` directories never count.
    """
    wanted = sorted({s for s in strings if s and '"' not in s and "\n" not in s})
    out: dict[str, list[tuple[str, int]]] = {s: [] for s in wanted}
    if not wanted:
        return out
    args = ["grep", "-n", "-o", "-z", "-I", "-F", "--no-color"]
    for s in wanted:
        args += ["-e", f'"{s}"']
    raw = repo.run([*args, tree_id, "--", "*.c", "*.h", "*.rs"], ok=(0, 1))
    ignored = set(skip)
    prefix = f"{tree_id}:"
    # -z: "tree:path\0line\0match\n" per hit.
    for record in raw.decode("utf-8", "surrogateescape").split("\n"):
        parts = record.split("\0")
        if len(parts) != 3:
            continue
        path, line, match = parts
        path = path.removeprefix(prefix)
        if path.startswith(EXCLUDED) or (path, int(line)) in ignored:
            continue
        key = match[1:-1]
        if key in out:
            out[key].append((path, int(line)))
    return out


def qemu_version(repo: GitRepo, tree_id: str) -> tuple[int, int, int] | None:
    text = repo.read_path(tree_id, "VERSION")
    if text is None:
        return None
    try:
        major, minor, micro = (int(x) for x in text.strip().split(".")[:3])
    except ValueError:
        return None
    return major, minor, micro


def registered(version: tuple[int, int], qemu: tuple[int, int, int]) -> bool:
    """Whether a machine version is still registered by QEMU ``qemu``.

    The rule of ``MACHINE_VER_SHOULD_DELETE`` (boards.h): a development
    snapshot (micro >= 50) counts as the next release.
    """
    major, minor, micro = qemu
    if micro >= 50:
        major, minor = (major + 1, 0) if minor == 2 else (major, minor + 1)
    age = major - version[0]
    return not (age > DELETION_YEARS or (age == DELETION_YEARS and minor >= version[1]))


def oldest_registered(
    machines: Iterable[MachineVersion], qemu: tuple[int, int, int]
) -> tuple[int, int] | None:
    versions = sorted({(m.version[0], m.version[1]) for m in machines if len(m.version) >= 2})
    return next((v for v in versions if registered(v, qemu)), None)


def release_commit(repo: GitRepo, head: str, version: tuple[int, int]) -> str | None:
    """The first-parent commit of ``head`` whose VERSION reads ``X.Y.0``."""
    wanted = f"{version[0]}.{version[1]}.0"
    try:
        raw = repo.run(["log", "--first-parent", "--format=%H %T", head, "--", "VERSION"])
    except SourceError:
        return None
    for line in raw.decode().splitlines():
        oid, _, tree = line.partition(" ")
        text = repo.read_path(tree, "VERSION")
        if text is not None and text.strip() == wanted:
            return oid
    return None


def oldest_in_tree(
    repo: GitRepo, tree_id: str, machines: Iterable[MachineVersion]
) -> tuple[int, int] | None:
    """The oldest machine version the tree's QEMU still registers, when known."""
    qemu = qemu_version(repo, tree_id)
    return oldest_registered(machines, qemu) if qemu is not None else None


def baseline(
    repo: GitRepo,
    head: str,
    tree_id: str,
    machines: Sequence[MachineVersion],
    names: Iterable[str],
    cache: ScanCache | None = None,
) -> tuple[Baseline | None, str]:
    """Which of ``names`` the oldest still-registered release spelled as a string.

    Returns the baseline (None when it cannot be found) and a note saying which
    release was used or why none was.
    """
    qemu = qemu_version(repo, tree_id)
    if qemu is None:
        return None, "no VERSION file: subsections without .needed (MIG011) not checked"
    oldest = oldest_registered(machines, qemu)
    if oldest is None:
        return None, "no versioned machine type: subsections without .needed not checked"
    release = f"{oldest[0]}.{oldest[1]}"
    commit = release_commit(repo, head, oldest)
    if commit is None:
        return None, (
            f"release {release} (oldest registered machine types) not in this history: "
            "subsections without .needed (MIG011) not checked"
        )
    old_tree = repo.commit(commit).tree
    wanted = sorted(set(names))
    if cache is None:
        found = literal_hits(repo, old_tree, wanted)
    else:
        # The release does not change: each audit after the first asks the same.
        key = ScanCache.key("literal-hits", old_tree, "", digest_of(dict.fromkeys(wanted, "")))
        found = cache.through(key, lambda: literal_hits(repo, old_tree, wanted))
    present = frozenset(s for s, hits in found.items() if hits)
    note = (
        f"subsections without .needed judged against release {release} ({commit[:12]}), "
        "the oldest whose machine types are still registered"
    )
    return Baseline(release, present), note
