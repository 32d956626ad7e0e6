"""Report formats: every way out reads the same `Report`.

``render(report, "text" | "json" | "markdown" | "sarif" | "codequality")``; the
forge layer also uses `render_inline` for one inline comment.
"""

from __future__ import annotations

from bot.errors import InputError
from bot.findings import Report
from bot.judge.catalogue import Catalogue
from bot.report.codequality import render_codequality, report_to_codequality
from bot.report.github import render_github
from bot.report.jsonfmt import SCHEMA_ID, load_schema, render_json, report_to_dict
from bot.report.markdown import (
    FINDING_MARKER,
    SUMMARY_MARKER,
    render_inline,
    render_markdown,
)
from bot.report.rdjson import render_rdjson
from bot.report.sarif import render_sarif, report_to_sarif
from bot.report.text import render_text

FORMATS = ("text", "json", "markdown", "sarif", "codequality", "github", "rdjson")


class UnknownFormatError(InputError):
    """A report format migbot does not have."""


def render(
    report: Report,
    fmt: str = "text",
    *,
    color: bool = False,
    catalogue: Catalogue | None = None,
    rule_docs: str | None = None,
) -> str:
    """The report in one format. ``color`` applies to text only; ``catalogue``
    adds each rule's *why* to the Markdown details and is the source of the SARIF
    rule metadata (the shipped catalogue when not given). ``rule_docs`` is where
    docs/rules.md is published: rule ids link to their section there."""
    if fmt == "text":
        return render_text(report, color=color)
    if fmt == "json":
        return render_json(report)
    if fmt == "markdown":
        return render_markdown(report, catalogue, rule_docs=rule_docs)
    if fmt == "sarif":
        return render_sarif(report, catalogue)
    if fmt == "codequality":
        return render_codequality(report)
    if fmt == "github":
        return render_github(report)
    if fmt == "rdjson":
        return render_rdjson(report)
    raise UnknownFormatError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")


__all__ = [
    "FINDING_MARKER",
    "FORMATS",
    "SCHEMA_ID",
    "SUMMARY_MARKER",
    "UnknownFormatError",
    "load_schema",
    "render",
    "render_codequality",
    "render_github",
    "render_inline",
    "render_json",
    "render_markdown",
    "render_rdjson",
    "render_sarif",
    "render_text",
    "report_to_codequality",
    "report_to_dict",
    "report_to_sarif",
]
