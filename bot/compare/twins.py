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
from bot.compare.context import FileModels
from bot.compare.facts import Fact, RustTwinOneSided, TwinDiffers
from bot.compare.twinwire import Side, differences
from bot.findings import Side as FindingSide
from bot.scanner.macros import MacroTable
from bot.scanner.model import FileModel, VmsdModel
from bot.scanner.rust.paths import crate_of, is_rust_device
from bot.scanner.rust.tree import scan_in_tree
from bot.scanner.scan import scan

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
    if f'c"{name}"' not in _rust_literals(tree):
        return []  # one search per tree, not one per VMSD of a large change
    return sorted({crate_of(p) for p in tree.grep(f'c"{name}"', "rust/hw/*.rs")[:6]})


_LITERALS: dict[str, frozenset[str]] = {}
_C_LITERAL = re.compile(r'c"[^"\n]*"')


def _rust_literals(tree: Tree) -> frozenset[str]:
    """Every ``c"..."`` literal of the tree's Rust devices (section names among them)."""
    found = _LITERALS.get(tree.tree_id)
    if found is None:
        assert tree.grep is not None
        texts = (tree.read(p) or "" for p in tree.grep('c"', "rust/hw/*.rs"))
        found = frozenset(m.group() for t in texts for m in _C_LITERAL.finditer(t))
        if len(_LITERALS) > 16:
            _LITERALS.clear()
        _LITERALS[tree.tree_id] = found
    return found


def twin_facts(
    pairs: Sequence[FileModels],
    base: Tree | None,
    head: Tree | None,
    old_table: MacroTable,
    new_table: MacroTable,
    twins: Sequence[tuple[str, str]],
) -> tuple[list[Fact], set[tuple[str, str]]]:
    """`TwinDiffers` facts, and the (Rust path, section name) pairs whose Rust
    description sends what its unchanged C twin sends after the change.

    Judged per part: the section body (nested structs are inline) and each
    subsection. A part that agreed before the change and differs after it is a
    finding; a part that already differed, or had no twin, is not. A Rust part
    that agrees with an unchanged C twin sends the stream C has been sending,
    whatever it changed in its own (unreleased) description: its compare
    facts are dropped by the caller. ``(path, "")`` marks a file whose twin
    pair could be compared.
    """
    out: list[Fact] = []
    in_step: set[tuple[str, str]] = set()
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
            found = _find(*heads, v.name) if heads is not None else None
            if heads is None or found is None:
                continue
            done.add(v.name)
            now = _by_part(_diff(heads, found, head), v.name)
            if now is None:
                continue  # a field could not be read: nothing is claimed either way
            c_changed = any(m.path in changed for m in heads[0])
            # Compared: MIG041 (or its silence) is the judgement, not the vaguer MIG025.
            in_step.update((m.path, "") for m in (*heads[0], *heads[1]))
            if not c_changed:
                for m in heads[1]:
                    in_step.update((m.path, n) for n in _parts_in_step(m, found[1], now))
            olds = _pair_models(pair.path, v.name, rust_side, base, old_table, twins)
            before_found = _find(*olds, v.name) if olds is not None else None
            if olds is None or before_found is None:
                continue  # one side is new: nothing it was equal to before
            before = _by_part(_diff(olds, before_found, base), v.name)
            if before is None:
                continue
            split = [d for part, ds in now.items() if part not in before for d in ds]
            if not split:
                continue
            twin_path = _twin_path(pair.path, *heads, found, rust_side)
            path = pair.path
            if not rust_side and any(m.path in changed for m in heads[1]):
                path = next(m.path for m in heads[1] if m.path in changed)
            out.append(
                TwinDiffers(
                    path=path,
                    line=v.line if path == pair.path else None,
                    side=FindingSide.NEW,
                    vmsd=v.name,
                    subject=v.name,
                    twin=twin_path,
                    difference="; ".join(split[:3]),
                )
            )
    return out, in_step


def _diff(
    models: tuple[list[FileModel], list[FileModel]],
    found: tuple[VmsdModel, VmsdModel],
    tree: Tree | None,
) -> list[str] | None:
    def ints(n: str) -> int | None:
        return header_int(tree, n)

    return differences(
        Side("C", models[0], ints), found[0], Side("Rust", models[1], ints), found[1]
    )


_PART = re.compile(r"^subsection '(?P<sub>[^']*)': |^(?P<top>[^:]*): ")


def _by_part(diffs: list[str] | None, top: str) -> dict[str, list[str]] | None:
    """Differences grouped by the part they are about: ``top`` or a subsection name."""
    if diffs is None:
        return None
    out: dict[str, list[str]] = {}
    for d in diffs:
        m = _PART.match(d)
        part = (m.group("sub") or top) if m else top
        out.setdefault(part, []).append(d)
    return out


def _parts_in_step(model: FileModel, v: VmsdModel, now: dict[str, list[str]]) -> set[str]:
    """Names of the parts of ``v`` (with what they nest) that agree with the twin."""
    out: set[str] = set()
    if v.name and v.name not in now:
        out |= _with_nested(model, v)
    for ident in v.subsections:
        sub = model.vmsd(ident)
        if sub is not None and sub.name and sub.name not in now:
            out |= _with_nested(model, sub)
    return out


def _with_nested(model: FileModel, v: VmsdModel) -> set[str]:
    names = {v.name} if v.name else set()
    frontier = [v]
    while frontier:
        cur = frontier.pop()
        for f in cur.fields:
            sub = model.vmsd(f.vmsd) if f.vmsd else None
            if sub is not None and sub.name and sub.name not in names:
                names.add(sub.name)
                frontier.append(sub)
    return names


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
        # Most C devices have no Rust twin: look for one before scanning anything.
        crates = _rust_candidates(tree, name, twins, path)
        if not crates:
            return None
        text = tree.read(path)
        if text is None:
            return None
        c_models = [scan(text, path, table)]
        r_models = []
        for crate in crates:
            r_models.extend(rust_models(tree, crate + "src/x.rs", table))
    return c_models, r_models


def same_wire_parts(pairs: Sequence[FileModels]) -> set[tuple[str, str]]:
    """(Rust path, section name) of the parts whose stream the change left as it was.

    Rust devices move fields between nested structs (`impl_vmstate_struct!`)
    without changing a byte on the wire: a nested struct is inline in the
    stream. Comparing old and new flattened, as twins are compared, tells such
    a refactor from a change; its field-by-field facts are then dropped.
    """
    out: set[tuple[str, str]] = set()
    for pair in pairs:
        if not pair.path.endswith(".rs") or pair.old is None or pair.new is None:
            continue
        old_top = {v.name: v for v in top_level(pair.old) if v.name}
        for v in top_level(pair.new):
            o = old_top.get(v.name or "")
            if v.name is None or o is None:
                continue
            now = _by_part(
                differences(Side("C", [pair.old]), o, Side("Rust", [pair.new]), v), v.name
            )
            if now is None:
                continue
            names = _parts_in_step(pair.new, v, now)
            if v.name not in now:
                names |= _with_nested(pair.old, o)  # nested VMSDs the change removed
            out.update((pair.path, n) for n in names)
    return out


def with_twins(
    facts: Sequence[Fact],
    pairs: Sequence[FileModels],
    base: Tree | None,
    head: Tree | None,
    old_table: MacroTable,
    new_table: MacroTable,
    twins: Sequence[tuple[str, str]],
) -> list[Fact]:
    """The compare facts of a change, judged with the twins and the flattened stream.

    Adds MIG041 where the change split a twin pair; drops the facts of Rust
    parts that still send what their unchanged C twin sends or what they sent
    before (a refactor of nested structs), and MIG025 where the twins could be
    compared (MIG041 or its silence is then the judgement).
    """
    split, in_step = twin_facts(pairs, base, head, old_table, new_table, twins)
    in_step |= same_wire_parts(pairs)
    kept = [f for f in facts if (f.path, f.vmsd) not in in_step] + split
    touched = {p for f in split if isinstance(f, TwinDiffers) for p in (f.path, f.twin)}
    return [
        f
        for f in kept
        if not (
            isinstance(f, RustTwinOneSided)
            and (
                (f.path, "") in in_step
                or f.path in touched
                or any(p == f.twin or p.startswith(f.twin) for p in touched)
            )
        )
    ]
