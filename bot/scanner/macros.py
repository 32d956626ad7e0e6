"""What each ``VMSTATE_*`` macro means, learned from the tree's own headers.

Every field macro ends as a ``VMStateField`` designated initializer, so the
headers themselves say which argument is the version, the test, the nested
VMSD or the count. A small table in rules/ covers patches judged without a
tree; it is turned into the same kind of definitions, so one interpreter reads
both.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from bot.data import rules_dir
from bot.scanner.cpp import Define, split_directives
from bot.scanner.lexer import Kind, Token, tokenize

MACRO_HEADER_GLOB = "*.h"
"""Headers are searched for ``#define VMSTATE_`` and read whole."""


@dataclass(slots=True)
class MacroTable:
    """Function-like and object-like ``#define``s the scanner may expand."""

    functions: dict[str, Define] = field(default_factory=dict)
    objects: dict[str, tuple[Token, ...]] = field(default_factory=dict)
    strings: dict[str, str] = field(default_factory=dict)
    learned_from: tuple[str, ...] = ()
    digest: str = ""
    """Identifies what the table was learned from (for caches of scans made with it)."""

    def add(self, defines: Iterable[Define]) -> None:
        for d in defines:
            if d.function_like:
                self.functions[d.name] = d
            else:
                self.objects[d.name] = d.body
                if len(d.body) == 1 and d.body[0].kind == Kind.LITERAL:
                    lit = d.body[0].text
                    if lit.startswith('"') and lit.endswith('"'):
                        self.strings[d.name] = lit[1:-1]

    def overlay(self, defines: Iterable[Define]) -> MacroTable:
        """A copy with a file's own defines on top (they win, as in C)."""
        out = MacroTable(
            dict(self.functions),
            dict(self.objects),
            dict(self.strings),
            self.learned_from,
            self.digest,
        )
        out.add(defines)
        return out


def learn(headers: Iterable[tuple[str, str]]) -> MacroTable:
    """Build a table from header texts given as (path, text)."""
    table = MacroTable()
    paths = []
    for path, text in headers:
        pre = split_directives(tokenize(text, path), path)
        table.add(pre.defines)
        paths.append(path)
    table.learned_from = tuple(paths)
    return table


@cache
def fallback_table() -> MacroTable:
    """The table from rules/vmstate-macros.toml, as synthetic definitions."""
    return _table_from_toml(rules_dir() / "vmstate-macros.toml")


def _table_from_toml(path: Path) -> MacroTable:
    raw = path.read_text()
    data = tomllib.loads(raw)
    digest = hashlib.sha256(raw.encode()).hexdigest()[:16]
    table = MacroTable(learned_from=(str(path),), digest=digest)
    defs: list[Define] = []
    scalars: Mapping[str, list[object]] = data.get("scalars", {})
    shapes: Mapping[str, list[str]] = data.get("shapes", {})
    for infix, (info, size) in scalars.items():
        for suffix, params in shapes.items():
            name = f"VMSTATE_{infix}{suffix}"
            defs.append(
                _synthetic(
                    name,
                    params,
                    info=str(info),
                    size=int(str(size)) or None,
                    flags="VMS_ARRAY" if "num" in params else None,
                )
            )
    for name, spec in data.get("macros", {}).items():
        defs.append(
            _synthetic(
                name,
                list(spec.get("params", [])),
                info=spec.get("info"),
                vmsd=spec.get("vmsd"),
                end=bool(spec.get("end", False)),
            )
        )
    table.add(defs)
    return table


def _synthetic(
    name: str,
    params: list[str],
    *,
    info: str | None = None,
    size: int | None = None,
    vmsd: str | None = None,
    end: bool = False,
    flags: str | None = None,
) -> Define:
    parts: list[str] = []
    if end:
        parts.append(".flags = VMS_END")
    else:
        if "field" in params:
            parts.append(".name = (stringify(field))")
        else:
            parts.append('.name = "unused"' if info == "unused_buffer" else '.name = "?"')
        if "version" in params:
            parts.append(".version_id = (version)")
        if "test" in params:
            parts.append(".field_exists = (test)")
        if info:
            parts.append(f".info = &vmstate_info_{info}")
        if size:
            parts.append(f".size = {size}")
        elif "size" in params:
            parts.append(".size = (size)")
        if "num" in params:
            parts.append(".num = (num)")
        if "num_field" in params:
            parts.append(".num_offset = vmstate_offset_value(state, num_field, uint32_t)")
        if "vmsd" in params:
            parts.append(".vmsd = &(vmsd)")
        elif vmsd:
            parts.append(f".vmsd = &{vmsd}")
        if "struct_version" in params:
            parts.append(".struct_version_id = (struct_version)")
        if flags:
            parts.append(f".flags = {flags}")
    body = "{ " + ", ".join(parts) + " }"
    toks = tuple(t for t in tokenize(body, "synthetic.c"))
    return Define(name, tuple(params), toks, 0, "rules/vmstate-macros.toml")
