"""Compat-property entries a change adds or removes (for the digest). Pure."""

from __future__ import annotations

import re
from typing import Any

from bot.change import Change

_ARRAY = re.compile(r"\bGlobalProperty\s+(\w+)\s*\[\s*\]")
_ENTRY = re.compile(r'\{\s*("[^"]*"|[A-Za-z_]\w*)\s*,\s*"([^"]+)"\s*,\s*"([^"]*)"')


def _array_at(lines: list[str], line: int) -> str | None:
    """The compat array whose initializer holds 1-based ``line``."""
    for i in range(min(line, len(lines)) - 1, -1, -1):
        text = lines[i]
        match = _ARRAY.search(text)
        if match:
            return match.group(1)
        if text.startswith("}") or re.match(r"^\w.*\)\s*$", text):
            return None
    return None


def compat_entries_touched(change: Change) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for fc in change.files:
        if "GlobalProperty" not in (fc.new_text or "") + (fc.old_text or ""):
            continue
        new_lines = (fc.new_text or "").splitlines()
        old_lines = (fc.old_text or "").splitlines()
        for hunk in fc.hunks:
            for hl in hunk.lines:
                if hl.kind == " ":
                    continue
                match = _ENTRY.search(hl.text)
                if not match:
                    continue
                if hl.kind == "+" and hl.new_line:
                    array = _array_at(new_lines, hl.new_line)
                elif hl.old_line:
                    array = _array_at(old_lines, hl.old_line)
                else:
                    array = None
                if array is None:
                    continue
                out.append(
                    {
                        "path": fc.path,
                        "array": array,
                        "driver": match.group(1).strip('"'),
                        "property": match.group(2),
                        "value": match.group(3),
                        "change": "added" if hl.kind == "+" else "removed",
                    }
                )
    return out
