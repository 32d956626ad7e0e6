"""Blank out the C the scanner does not need, so a whole tree lexes in seconds.

The libclang lexer costs about 5 µs per token and most tokens of a device file
sit in function bodies the scanner reads for nothing: it only needs the bodies
that register a VMSD, bind properties, hold a compat array or compare a
version. Every other top-level function body is replaced by blanks that keep
its newlines, so line numbers and the declarations around it are unchanged.

This is an optimisation of the whole-tree audit only: a file this module is not
sure about (unbalanced braces, ``#if`` inside a body) is returned untouched.
"""

from __future__ import annotations

import re

_LEX = re.compile(
    r"""(?P<comment>/\*.*?\*/|//[^\n]*)
      |(?P<string>"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')
      |(?P<pp>^[ \t]*\#(?:\\\n|[^\n])*)
      |(?P<open>\{)|(?P<close>\})|(?P<paren>\))
      |(?P<other>[^\s{})"'/]+|/)""",
    re.S | re.M | re.X,
)

KEEP = re.compile(r"vmsd|vmstate|VMState|props|GlobalProperty|compat|version_id")
"""A body mentioning one of these may matter to the scanner: it is kept whole.

``vmsd``/``vmstate``: ``dc->vmsd =`` and ``vmstate_register()``; ``props``:
``device_class_set_props()``; ``GlobalProperty``: compat arrays local to a
machine's options function; ``compat``: ``compat_props_add()``;
``version_id``: ``_TEST`` predicates comparing versions."""

_NOT_NEWLINE = re.compile(r"[^\n]")
_CLASS_INIT = re.compile(r"\.class_init\s*=\s*(\w+)")
_FUNCTION_NAME = re.compile(r"(\w+)\s*\([^()]*(?:\([^()]*\)[^()]*)*\)\s*$")


def prune(text: str) -> str:
    """``text`` with irrelevant function bodies blanked; the same number of lines.

    A ``class_init`` is always kept: what it calls (a helper of another file
    setting ``dc->vmsd``) is part of the type's class.
    """
    keep_names = set(_CLASS_INIT.findall(text))
    depth = 0
    start = -1
    stmt = 0
    prev = ""
    directive_inside = False
    spans: list[tuple[int, int]] = []
    for m in _LEX.finditer(text):
        kind = m.lastgroup
        if kind == "comment":
            continue  # transparent: `f(void) /* why */ {` is still a body
        if kind == "pp":
            directive_inside = directive_inside or depth > 0
            if depth == 0:
                stmt = m.end()
            continue
        if kind == "open":
            if depth == 0:
                # A function body follows its parameter list; an initializer
                # follows '=', a struct its tag: only bodies are candidates.
                start = m.end() if prev == "paren" else -1
                if start >= 0 and keep_names:
                    name = _FUNCTION_NAME.search(_strip_comments(text[stmt : m.start()]))
                    if name is not None and name.group(1) in keep_names:
                        start = -1
                directive_inside = False
            depth += 1
        elif kind == "close":
            depth -= 1
            if depth < 0:
                return text
            if depth == 0:
                stmt = m.end()
                if start >= 0 and not directive_inside:
                    spans.append((start, m.start()))
        if depth == 0:
            if kind == "other" and m.group().endswith(";"):
                stmt = m.end()
            prev = kind or ""
    if depth != 0:
        return text
    out: list[str] = []
    last = 0
    for a, b in spans:
        body = text[a:b]
        if KEEP.search(body):
            continue
        out.append(text[last:a])
        out.append(_NOT_NEWLINE.sub(" ", body))
        last = b
    out.append(text[last:])
    return "".join(out)


_COMMENTS = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


def _strip_comments(head: str) -> str:
    return _COMMENTS.sub(" ", head)
