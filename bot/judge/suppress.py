"""In-source suppressions: ``/* migbot: ignore[MIG022] reason */``.

A comment silences the named rules (ids, slugs or old codes, comma-separated)
for one place of the head tree:

* on a field or compat-entry line, that line (a comment alone on its line
  covers the next line, for lines checkpatch would find too long);
* on the line that declares a ``VMStateDescription``, every finding about that
  VMSD, including those on lines the change removed.

A silenced finding is kept, at severity info, with the comment's reason as an
override, so every output shows it and why. A suppression that silences nothing
is reported as a note: in a change, only those the change adds (older ones
belong to findings the change did not cause); in an audit, all of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from bot.change import Change
from bot.findings import Finding, Override, Report, Severity, Side
from bot.judge.catalogue import Catalogue, load_catalogue

SUPPRESSED = "suppressed in source"
"""The `Override.effect` of a suppression comment (report formats word it apart)."""

_COMMENT = re.compile(r"(?:/\*|//)\s*migbot:\s*ignore\[([^\]]*)\]\s*(.*?)\s*(?:\*/|$)")
_VMSD_DECL = re.compile(r"\bVMStateDescription\b[^=;]*=")
_NAME = re.compile(r'\.name\s*=\s*"([^"]*)"')


@dataclass(frozen=True, slots=True)
class Suppression:
    path: str
    line: int
    codes: tuple[str, ...]
    reason: str
    first: int
    last: int
    """The lines it covers."""
    vmsd: str | None = None
    """Set when the comment is on a VMSD's declaration: covers that VMSD."""

    @property
    def label(self) -> str:
        return f"migbot: ignore[{', '.join(self.codes)}]"


def find_suppressions(path: str, text: str) -> list[Suppression]:
    """Every suppression comment of one file."""
    lines = text.splitlines()
    out = []
    for index, line in enumerate(lines):
        match = _COMMENT.search(line)
        if match is None:
            continue
        codes = tuple(c.strip() for c in match.group(1).split(",") if c.strip())
        number = index + 1
        first = last = number
        vmsd = None
        if _VMSD_DECL.search(line):
            last = _block_end(lines, index) + 1
            vmsd = _vmsd_name(lines[index:last])
        elif not line[: match.start()].strip() and number < len(lines):
            first = last = number + 1  # a comment on its own line covers the next
        out.append(Suppression(path, number, codes, match.group(2), first, last, vmsd))
    return out


def _block_end(lines: list[str], start: int) -> int:
    depth = 0
    seen = False
    for index in range(start, len(lines)):
        code = _COMMENT.sub("", lines[index])
        depth += code.count("{") - code.count("}")
        seen = seen or "{" in code
        if seen and depth <= 0:
            return index
    return start


def _vmsd_name(block: list[str]) -> str | None:
    for line in block:
        match = _NAME.search(line)
        if match:
            return match.group(1)
    return None


def _covers(s: Suppression, finding: Finding, catalogue: Catalogue) -> bool:
    if finding.path != s.path:
        return False
    if not any(_names(code, finding, catalogue) for code in s.codes):
        return False
    if s.vmsd is not None and finding.vmsd == s.vmsd:
        return True
    return (
        finding.side is Side.NEW and finding.line is not None and s.first <= finding.line <= s.last
    )


def _names(code: str, finding: Finding, catalogue: Catalogue) -> bool:
    rule = catalogue.find(code)
    return code in (finding.rule_id, finding.slug) or (
        rule is not None and rule.id == finding.rule_id
    )


def apply_suppressions(
    report: Report,
    read: Callable[[str], str | None],
    paths: Iterable[str],
    catalogue: Catalogue,
    *,
    report_unused_on: Mapping[str, frozenset[int]] | None = None,
) -> Report:
    """Silence the findings that a comment in ``paths`` (read with ``read``) covers.

    ``report_unused_on`` limits the unused-suppression notes to those lines per
    path (the lines a change added); None reports every unused one."""
    found: list[Suppression] = []
    for path in sorted(set(paths)):
        text = read(path)
        if text and "migbot:" in text:
            found.extend(find_suppressions(path, text))
    if not found:
        return report
    used: set[Suppression] = set()
    findings = []
    for finding in report.findings:
        match = next((s for s in found if _covers(s, finding, catalogue)), None)
        if match is not None and finding.severity is not Severity.INFO:
            used.add(match)
            finding = _silenced(finding, match)
        elif match is not None:
            used.add(match)
        findings.append(finding)
    notes = list(report.notes)
    for s in found:
        if s in used:
            continue
        if report_unused_on is not None and s.line not in report_unused_on.get(s.path, ()):
            continue
        unknown = [c for c in s.codes if catalogue.find(c) is None]
        why = f"names no rule ({', '.join(unknown)})" if unknown else "matches no finding"
        notes.append(f"{s.path}:{s.line}: unused suppression '{s.label}': it {why}")
    return replace(report, findings=tuple(findings), notes=tuple(notes))


def _silenced(finding: Finding, s: Suppression) -> Finding:
    override = Override(
        label=s.label,
        by=f"{s.path}:{s.line}",
        effect=SUPPRESSED,
        reason=s.reason or "no reason given",
    )
    return replace(
        finding,
        severity=Severity.INFO,
        base_severity=finding.base_severity or finding.severity,
        override=override,
    )


def suppress_in_change(
    change: Change, report: Report, catalogue: Catalogue | None = None
) -> Report:
    """`apply_suppressions` over the head side of a change: its changed files and
    the files of its findings; unused ones reported only where the change added them."""
    texts = {fc.path: fc.new_text for fc in change.files if fc.new_text is not None}
    tree = change.head_tree

    def read(path: str) -> str | None:
        if path in texts:
            return texts[path]
        return tree.read(path) if tree is not None else None

    added = {fc.path: fc.changed_new_lines() for fc in change.files}
    paths = set(texts) | {f.path for f in report.findings}
    return apply_suppressions(
        report, read, paths, catalogue or load_catalogue(), report_unused_on=added
    )


def suppress_in_tree(
    report: Report, repo: Path, rev: str, catalogue: Catalogue | None = None
) -> Report:
    """`apply_suppressions` over a whole tree (``migbot audit``): every comment
    counts, and every unused one is reported."""
    from bot.sources.gitrepo import open_repo

    with open_repo(repo) as git:
        tree = git.commit(rev).tree
        paths = git.grep(tree, "migbot: ignore[")

        def read(path: str) -> str | None:
            return git.read_path(tree, path)

        return apply_suppressions(report, read, paths, catalogue or load_catalogue())
