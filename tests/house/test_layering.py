"""The folder tree is the architecture: no import cycles, no import from a later stage.

Walks every module of ``bot`` (function-level imports included) and fails on a
cycle between modules, or on an import that points from an earlier stage of the
pipeline into a later one. The stage order is the README's "How it is built".
"""

from __future__ import annotations

import ast
from pathlib import Path

import bot

PACKAGE = Path(bot.__file__).resolve().parent

# Earlier stages first; a module may import its own stage and earlier ones only.
STAGES: tuple[tuple[str, ...], ...] = (
    ("bot", "bot.errors", "bot.change", "bot.findings", "bot.data", "bot.settings"),
    ("bot.sources",),
    ("bot.scanner",),
    ("bot.compare",),
    ("bot.tiers",),
    ("bot.judge",),
    ("bot.pipeline",),
    ("bot.report",),
    ("bot.review",),
    ("bot.forges",),
    ("bot.store",),
    ("bot.digest",),
    ("bot.mail",),
    ("bot.service",),
    ("bot.audit",),
    ("bot.cli", "bot.__main__"),
)


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        if "migrations" in rel.parts:
            continue
        name = ".".join(rel.parts).removesuffix(".__init__")
        found[name] = path
    return found


def _imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def _graph() -> dict[str, set[str]]:
    known = _modules()
    return {name: _imports(name, path, known) for name, path in known.items()}


def stage_of(module: str) -> int:
    best, rank = -1, -1
    for index, roots in enumerate(STAGES):
        for root in roots:
            if (module == root or module.startswith(root + ".")) and len(root) > best:
                best, rank = len(root), index
    if rank < 0:
        raise AssertionError(f"{module} belongs to no stage: add it to STAGES")
    return rank


def test_every_module_belongs_to_a_stage() -> None:
    for module in _graph():
        stage_of(module)


def test_no_import_from_a_later_stage() -> None:
    upward = sorted(
        f"{module} -> {target}"
        for module, targets in _graph().items()
        for target in targets
        if stage_of(target) > stage_of(module)
    )
    assert upward == []


def test_no_import_cycles() -> None:
    graph = _graph()
    cycles: set[str] = set()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.add(" -> ".join([*stack[stack.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert sorted(cycles) == []


def test_the_checker_sees_a_planted_cycle(tmp_path: Path) -> None:
    """The walk follows function-level and relative imports (else the tests above prove nothing)."""
    source = "def f():\n    from . import b\n    import bot.change\n"
    (tmp_path / "a.py").write_text(source, encoding="utf-8")
    known = {"bot.x.a": tmp_path / "a.py", "bot.x.b": tmp_path / "b.py", "bot.change": tmp_path}
    assert _imports("bot.x.a", tmp_path / "a.py", known) == {"bot.x.b", "bot.change"}
