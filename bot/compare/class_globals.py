"""A global variable set in a versioned machine-class options function.

Class options functions (``ccw_machine_2_9_class_options``,
``pc_q35_machine_9_0_options``) run at class init, and QEMU initialises every
machine class when it registers and lists them, not only the one the user
picks. A class flag set there belongs to that version; a global set there is
set for every machine type, the newest included, so the old machine's compat
behaviour leaks into all of them. Instance options (``*_instance_options``)
run only for the machine created, and are not judged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.compare import facts as F
from bot.compare.context import FileModels
from bot.compare.wiring import OPTIONS_FUNCTION

_ASSIGN = re.compile(r"^\s+(?P<name>[a-z_][a-z0-9_]*)\s*=(?!=)\s*[^;]+;\s*(?:/[*/].*)?$")
"""``name = value;`` on a line of its own: no member, no array, no declaration."""


def class_global_facts(fm: FileModels, text: str | None) -> Iterable[F.Fact]:
    if fm.new is None or text is None:
        return
    lines = text.splitlines()
    for fn in fm.new.functions:
        if not OPTIONS_FUNCTION.match(fn.name) or "instance_options" in fn.name:
            continue
        body = lines[fn.line - 1 : fn.end_line]
        for number in range(fn.line, fn.end_line + 1):
            if number not in fm.changed_new or number > len(lines):
                continue
            m = _ASSIGN.match(lines[number - 1])
            if m is None or _declared_in(m.group("name"), body, lines[number - 1]):
                continue
            yield F.GlobalSetInClassOptions(
                path=fm.path,
                line=number,
                subject=m.group("name"),
                variable=m.group("name"),
                function=fn.name,
            )


def _declared_in(name: str, body: list[str], assignment: str) -> bool:
    """A parameter or a local of the function (then it is not a global)."""
    declaration = re.compile(
        rf"(?:^|[(,])\s*(?:(?:static|const|unsigned|signed|struct|enum)\s+)*"
        rf"[A-Za-z_]\w*(?:\s+|\s*\*+\s*){re.escape(name)}\s*(?:[=;,)\[]|$)"
    )
    return any(declaration.search(line) for line in body if line is not assignment)
