"""Which source files create the QOM types of which others, read from C.

Trees before Kconfig (QEMU before 4.0) do not say which board brings which
device: every symbol is set flat in default-configs/<target>.mak. What a
maintainer reads instead is the code: xilinx_zynq.c calls
``qdev_create(NULL, "xilinx,zynq_slcr")``, so the zynq board holds the SLCR;
a SoC file names the types of its devices (``TYPE_CADENCE_UART``). This module
finds those links: file F uses file D when F names (by ``TYPE_*`` macro or by
string) a type that D's ``TypeInfo`` defines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

_TYPE_DEFINE = re.compile(r"#\s*define\s+(TYPE_\w+)\s+\"([^\"\n]+)\"")
_TYPE_TOKEN = re.compile(r"\bTYPE_\w+\b")
_STRING = re.compile(r"\"([^\"\\\n]{2,80})\"")
_NAME = r"(TYPE_\w+|\"[^\"\n]+\")"
_TYPEINFO_NAME = re.compile(
    r"\.name\s*=\s*" + _NAME + r"\s*,(?=[^{};]*?\.parent\s*=)"
    r"|\.parent\s*=[^{};]*?\.name\s*=\s*" + _NAME
)
_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
# A function definition at the start of a line, not static: what other files can call.
_FUNCTION = re.compile(
    r"^(?!static\b)[A-Za-z_][\w \t*]*?\b([A-Za-z_]\w*)\s*\([^;{}()]*\)\s*\{", re.M
)
_CALL = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
_NOT_FUNCTIONS = frozenset({"if", "for", "while", "switch", "return", "sizeof", "defined"})


def type_macros(texts: Iterable[str]) -> dict[str, str]:
    """``#define TYPE_FOO "foo"`` -> {TYPE_FOO: foo}, first definition winning."""
    out: dict[str, str] = {}
    for text in texts:
        for m in _TYPE_DEFINE.finditer(text):
            out.setdefault(m.group(1), m.group(2))
    return out


def _resolve(token: str, macros: Mapping[str, str]) -> str | None:
    if token.startswith('"'):
        return token[1:-1]
    return macros.get(token)


def defined_types(text: str, macros: Mapping[str, str]) -> set[str]:
    """Names of the types a file's ``TypeInfo`` initializers define."""
    out: set[str] = set()
    for m in _TYPEINFO_NAME.finditer(_COMMENT.sub("", text)):
        name = _resolve(m.group(1) or m.group(2), macros)
        if name is not None:
            out.add(name)
    return out


def uses(texts: Mapping[str, str], header_texts: Iterable[str] = ()) -> dict[str, set[str]]:
    """path -> the other paths whose types its text names or whose functions it calls
    (``serial_isa_init`` in serial-isa.c creates the "isa-serial" its callers get)."""
    macros = type_macros([*header_texts, *texts.values()])
    local = {p: type_macros([t]) for p, t in texts.items()}
    cleaned = {p: _COMMENT.sub("", t) for p, t in texts.items()}
    defines: dict[str, set[str]] = {}
    functions: dict[str, set[str]] = {}
    for path, text in texts.items():
        names: set[str] = defined_types(text, {**macros, **local[path]})
        for n in names:
            defines.setdefault(n, set()).add(path)
        for f in _FUNCTION.findall(cleaned[path]):
            if f not in _NOT_FUNCTIONS:
                functions.setdefault(f, set()).add(path)
    out: dict[str, set[str]] = {}
    for path in texts:
        clean = cleaned[path]
        calls = {c for c in _CALL.findall(clean) if c in functions}
        names = set()
        for tok in set(_TYPE_TOKEN.findall(clean)):
            name = local[path].get(tok) or macros.get(tok)
            if name is not None:
                names.add(name)
        names |= {s for s in _STRING.findall(clean) if s in defines}
        targets = {d for n in names for d in defines.get(n, ()) if d != path}
        targets |= {d for c in calls for d in functions[c] if d != path}
        if targets:
            out[path] = targets
    return out
