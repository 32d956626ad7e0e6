"""Find the twin of a changed C or Rust device and judge whether the change split them.

Twins are found from the tree: the section names of top-level VMSDs (what the
stream itself matches on), looked for in the twin named by ``rules/policy.toml``
and else in files that spell the name. A twin pair that agreed before the
change and differs after it is a `TwinDiffers` on the side the change touched;
a pair that already differed (one side catching up) or a side that is new is
left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from bot.change import Tree
from bot.compare import FileModels
from bot.facts import Fact, TwinDiffers
from bot.findings import Side as FindingSide
from bot.model import FileModel, VmsdModel
from bot.scanner.macros import MacroTable
from bot.scanner.rust.scan import crate_of
from bot.scanner.rust.tree import is_rust_device, scan_in_tree
from bot.scanner.scan import scan
from bot.twins import Side, differences

Scanner = Callable[[str], FileModel | None]


def top_level(model: FileModel) -> list[VmsdModel]:
    """VMSDs that are neither a subsection nor a nested struct of another in the file."""
    inner = {s for v in model.vmsds for s in v.subsections}
    inner |= {f.vmsd for v in model.vmsds for f in v.fields if f.vmsd}
    return [v for v in model.vmsds if v.ident not in inner and v.name]


_ints: dict[tuple[str, str], int | None] = {}


def header_int(tree: Tree | None, name: str) -> int | None:
    """``#define NAME 16`` in the tree's ``include/`` headers (memoised per tree)."""
    if tree is None or tree.grep is None or not re.fullmatch(r"[A-Z_][A-Z0-9_]*", name):
        return None
    key = (tree.tree_id, name)
    if key in _ints:
        return _ints[key]
    value: int | None = None
    rx = re.compile(rf"^\s*#\s*define\s+{name}\s+\(?(0x[0-9a-fA-F]+|\d+)[uUlL]*\)?\s*$", re.M)
    for path in tree.grep(f"define {name}", "include/*.h")[:4]:
        m = rx.search(tree.read(path) or "")
        if m:
            value = int(m.group(1), 0)
            break
    if len(_ints) > 4096:
        _ints.clear()
    _ints[key] = value
    return value


def rust_models(tree: Tree | None, path: str, c_table: MacroTable) -> list[FileModel]:
    """Models of every file of the crate of ``path`` that describes VMState."""
    if tree is None or tree.grep is None:
        return []
    out = []
    for p in tree.grep("VMStateDescription", f"{crate_of(path)}*.rs"):
        text = tree.read(p)
        if text is not None and is_rust_device(p):
            out.append(scan_in_tree(text, p, tree, c_table))
    return out


def _c_candidates(
    tree: Tree | None, name: str, twins: Sequence[tuple[str, str]], rust: str
) -> list[str]:
    named = [c for c, r in twins if rust.startswith(r)]
    if named or tree is None or tree.grep is None:
        return named
    return [p for p in tree.grep(f'"{name}"', "hw/*.c")[:6]]


def _rust_candidates(
    tree: Tree | None, name: str, twins: Sequence[tuple[str, str]], c_path: str
) -> list[str]:
    named = [r for c, r in twins if c == c_path]
    if named or tree is None or tree.grep is None:
        return named
    return sorted({crate_of(p) for p in tree.grep(f'c"{name}"', "rust/hw/*.rs")[:6]})


def twin_facts(
    pairs: Sequence[FileModels],
    base: Tree | None,
    head: Tree | None,
    old_table: MacroTable,
    new_table: MacroTable,
    twins: Sequence[tuple[str, str]],
) -> tuple[list[Fact], set[tuple[str, str]]]:
    """`TwinDiffers` facts, and the (Rust path, section name) pairs the change
    brought back in step with their C twin."""
    out: list[Fact] = []
    caught_up: set[tuple[str, str]] = set()
    done: set[str] = set()
    changed = {p.path for p in pairs}
    for pair in sorted(pairs, key=lambda p: not p.path.endswith(".rs")):
        if pair.new is None or pair.old is None:
            continue  # a new side has no twin to keep in step with yet
        rust_side = pair.path.endswith(".rs")
        for v in top_level(pair.new):
            if v.name is None or v.name in done:
                continue
            heads = _pair_models(pair.path, v.name, rust_side, head, new_table, twins)
            if heads is None:
                continue
            c_models, r_models = heads
            found = _find(c_models, r_models, v.name)
            if found is None:
                continue
            diffs = differences(
                Side("C", c_models, lambda n: header_int(head, n)),
                found[0],
                Side("Rust", r_models, lambda n: header_int(head, n)),
                found[1],
            )
            done.add(v.name)
            if diffs is None:
                continue  # a field could not be read: nothing is claimed either way
            if not diffs:
                caught_up.update(_caught_up(pair, v, base, old_table, twins, rust_side))
                # In step after the change: "changed on one side only" is no finding.
                caught_up.update((m.path, "") for m in (*c_models, *r_models))
                continue
            olds = _pair_models(pair.path, v.name, rust_side, base, old_table, twins)
            if olds is None or _find(*olds, v.name) is None:
                continue  # one side is new: nothing it was equal to before
            before = _find(*olds, v.name)
            assert before is not None
            if (
                differences(
                    Side("C", olds[0], lambda n: header_int(base, n)),
                    before[0],
                    Side("Rust", olds[1], lambda n: header_int(base, n)),
                    before[1],
                )
                != []
            ):
                continue  # already apart (or unreadable) before the change: a side catching up
            twin_path = _twin_path(pair.path, c_models, r_models, found, rust_side)
            path = pair.path
            if not rust_side and any(m.path in changed for m in r_models):
                path = next(m.path for m in r_models if m.path in changed)
            out.append(
                TwinDiffers(
                    path=path,
                    line=v.line if path == pair.path else None,
                    side=FindingSide.NEW,
                    vmsd=v.name,
                    subject=v.name,
                    twin=twin_path,
                    difference="; ".join(diffs[:3]),
                )
            )
    return out, caught_up


def _caught_up(
    pair: FileModels,
    v: VmsdModel,
    base: Tree | None,
    table: MacroTable,
    twins: Sequence[tuple[str, str]],
    rust_side: bool,
) -> set[tuple[str, str]]:
    """Names of ``v`` and what it nests, when the change brought it back in step
    with its twin: the old side of this file was the odd one out, not the released
    stream, so its changes are not judged against it."""
    if not rust_side or v.name is None:
        return set()
    olds = _pair_models(pair.path, v.name, rust_side, base, table, twins)
    before = _find(*olds, v.name) if olds is not None else None
    if olds is None or before is None:
        return set()
    if not differences(
        Side("C", olds[0], lambda n: header_int(base, n)),
        before[0],
        Side("Rust", olds[1], lambda n: header_int(base, n)),
        before[1],
    ):
        return set()
    assert pair.new is not None
    names = {v.name}
    frontier = [v]
    while frontier:
        cur = frontier.pop()
        for ident in (*cur.subsections, *(f.vmsd for f in cur.fields if f.vmsd)):
            sub = pair.new.vmsd(ident)
            if sub is not None and sub.name and sub.name not in names:
                names.add(sub.name)
                frontier.append(sub)
    if pair.old is not None:
        names |= {
            o.name
            for o in pair.old.vmsds
            if o.name and o.name not in {x.name for x in pair.new.vmsds}
        }
    return {(pair.path, n) for n in names}


def _twin_path(
    path: str,
    c_models: Sequence[FileModel],
    r_models: Sequence[FileModel],
    found: tuple[VmsdModel, VmsdModel],
    rust_side: bool,
) -> str:
    models = c_models if rust_side else r_models
    target = found[0] if rust_side else found[1]
    return next((m.path for m in models if any(x is target for x in m.vmsds)), path)


def _find(
    c_models: Sequence[FileModel], r_models: Sequence[FileModel], name: str
) -> tuple[VmsdModel, VmsdModel] | None:
    c = next((v for m in c_models for v in top_level(m) if v.name == name), None)
    r = next((v for m in r_models for v in top_level(m) if v.name == name), None)
    return (c, r) if c is not None and r is not None else None


def _pair_models(
    path: str,
    name: str,
    rust_side: bool,
    tree: Tree | None,
    table: MacroTable,
    twins: Sequence[tuple[str, str]],
) -> tuple[list[FileModel], list[FileModel]] | None:
    """(C models, Rust models) of the twin pair in ``tree``."""
    if tree is None:
        return None
    if rust_side:
        r_models = rust_models(tree, path, table)
        c_models = []
        for c in _c_candidates(tree, name, twins, path):
            text = tree.read(c)
            if text is not None:
                c_models.append(scan(text, c, table))
    else:
        text = tree.read(path)
        if text is None:
            return None
        c_models = [scan(text, path, table)]
        r_models = []
        for crate in _rust_candidates(tree, name, twins, path):
            r_models.extend(rust_models(tree, crate + "src/x.rs", table))
    return c_models, r_models
