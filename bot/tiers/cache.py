"""The tier map on disk: one JSON file per tree id (and rules version).

A tree id names content, so a cached map never goes stale; the rules digest and
a digest of this package's code are in the file name because both change the result.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.findings import Tier
from bot.tiers.boards import Machine
from bot.tiers.rules import TierRules
from bot.tiers.tiermap import (
    SCHEMA,
    Board,
    Era,
    FileEntry,
    Reach,
    TargetInfo,
    TierMap,
    is_read_source,
    source_signature,
)


@functools.cache
def code_digest() -> str:
    """Hash of this package's source: a map computed by other code is another map."""
    h = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:12]


def cache_path(cache_dir: Path, tree_id: str, rules_digest: str) -> Path:
    safe = "".join(c for c in tree_id if c.isalnum() or c in "-_.")
    return cache_dir / f"v{SCHEMA}-{safe}-{rules_digest}-{code_digest()}.json"


def _entry_json(e: FileEntry) -> dict[str, Any]:
    return {
        "how": e.how,
        "tier": e.tier.value if e.tier else None,
        "boards": format(e.boards, "x"),
        "targets": list(e.targets),
        "reason": e.reason,
    }


def _entry(path: str, d: dict[str, Any]) -> FileEntry:
    tier = d["tier"]
    return FileEntry(
        path=path,
        how=Reach(d["how"]),
        tier=Tier(tier) if tier else None,
        boards=int(d["boards"], 16),
        targets=tuple(d["targets"]),
        reason=str(d["reason"]),
    )


def to_json(m: TierMap) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "tree_id": m.tree_id,
        "rules_digest": m.rules_digest,
        "targets": [[t.name, t.short, t.base_arch, t.kvm] for t in m.targets],
        "boards": [
            {
                "target": b.target,
                "short": b.short,
                "symbols": list(b.symbols),
                "kvm": b.kvm,
                "machines": [[x.name, x.versioned, x.latest] for x in b.machines],
            }
            for b in m.boards
        ],
        "files": {p: _entry_json(e) for p, e in m.files.items()},
        "dirs": {p: _entry_json(e) for p, e in m.dirs.items()},
        "notes": list(m.notes),
        "era": m.era.value,
    }


def from_json(d: dict[str, Any]) -> TierMap:
    if d.get("schema") != SCHEMA:
        raise ValueError(f"tier map schema {d.get('schema')!r}, expected {SCHEMA}")
    return TierMap(
        tree_id=str(d["tree_id"]),
        rules_digest=str(d["rules_digest"]),
        targets=tuple(TargetInfo(str(a), str(b), str(c), bool(k)) for a, b, c, k in d["targets"]),
        boards=tuple(
            Board(
                target=str(b["target"]),
                short=str(b["short"]),
                symbols=tuple(b["symbols"]),
                machines=tuple(Machine(str(n), bool(v), lt) for n, v, lt in b["machines"]),
                kvm=bool(b["kvm"]),
            )
            for b in d["boards"]
        ),
        files={p: _entry(p, e) for p, e in d["files"].items()},
        dirs={p: _entry(p, e) for p, e in d["dirs"].items()},
        notes=tuple(d.get("notes", ())),
        era=Era(d.get("era", Era.MESON.value)),
    )


def load_map(cache_dir: Path, tree_id: str, rules_digest: str) -> TierMap | None:
    """The cached map, or None when absent or unreadable (a cache never fails a run)."""
    path = cache_path(cache_dir, tree_id, rules_digest)
    try:
        with path.open(encoding="utf-8") as f:
            m = from_json(json.load(f))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if m.tree_id != tree_id or m.rules_digest != rules_digest:
        return None
    return m


def save_map(cache_dir: Path, m: TierMap) -> Path:
    """Write atomically (temp file + rename): concurrent workers never read half a map."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_path(cache_dir, m.tree_id, m.rules_digest)
    fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".tiers-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(to_json(m), f, separators=(",", ":"))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# --- what a map was built from, so that the next tree can reuse it -----------------


def _inputs_path(cache_dir: Path, tree_id: str, rules_digest: str) -> Path:
    return cache_dir / f"inputs-{cache_path(cache_dir, tree_id, rules_digest).name}"


def save_inputs(
    cache_dir: Path, tree_id: str, rules_digest: str, paths: set[str], needles: set[str]
) -> None:
    """The files a map read and the strings it searched the tree for."""
    target = _inputs_path(cache_dir, tree_id, rules_digest)
    fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".inputs-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"paths": sorted(paths), "needles": sorted(needles)}, f)
        os.replace(tmp, target)
    except OSError:
        Path(tmp).unlink(missing_ok=True)


def alias_map(
    cache_dir: Path,
    base_tree: str,
    head_tree: str,
    rules: TierRules,
    changed: Iterable[tuple[str, str | None, str | None]],
) -> bool:
    """Store the base's map as the head's when the change touched nothing it was
    built from: no file it read (a device source whose machine lines and bus
    markers stay the same does not count), no text holding a string it searched
    for.

    ``changed`` is (path, old text, new text) for every path a change touches.
    True when the head now has a map (the next change, based on the head, then
    reuses it).
    """
    rules_digest = rules.digest
    if cache_path(cache_dir, head_tree, rules_digest).exists():
        return True
    try:
        with _inputs_path(cache_dir, base_tree, rules_digest).open(encoding="utf-8") as f:
            inputs = json.load(f)
        paths, needles = set(inputs["paths"]), list(inputs["needles"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    for path, old, new in changed:
        if any(n in (old or "") or n in (new or "") for n in needles):
            return False
        if path not in paths:
            continue
        if not (is_read_source(path) and old is not None and new is not None):
            return False
        if source_signature(old, rules) != source_signature(new, rules):
            return False
    base = load_map(cache_dir, base_tree, rules_digest)
    if base is None:
        return False
    try:
        save_map(cache_dir, replace(base, tree_id=head_tree))
        save_inputs(cache_dir, head_tree, rules_digest, paths, set(needles))
    except OSError:
        return False
    return True
