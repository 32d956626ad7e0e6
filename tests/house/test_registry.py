"""One registry says what a rule code means: no rule id is spelt anywhere else in code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import bot
from bot.judge.catalogue import load_catalogue

PACKAGE = Path(bot.__file__).resolve().parent
REGISTRY = PACKAGE / "judge" / "registry.py"
RULE_ID = re.compile(r"^MIG\d{3}$")


def _rule_literals(path: Path) -> set[str]:
    """Rule ids written as string constants (docstrings and comments do not count)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and RULE_ID.match(node.value)
    }


def test_rule_ids_are_spelt_only_in_the_registry() -> None:
    elsewhere = {
        str(path.relative_to(PACKAGE)): sorted(found)
        for path in PACKAGE.rglob("*.py")
        if path != REGISTRY and (found := _rule_literals(path))
    }
    assert elsewhere == {}


def test_every_live_rule_has_a_meaning_in_the_registry() -> None:
    meant = _rule_literals(REGISTRY)
    live = {rule.id for rule in load_catalogue().rules if rule.status != "removed"}
    assert live - meant == set()
