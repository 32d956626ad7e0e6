"""What the bot writes on a merge request: the summary note and inline bodies.

Built from the report renderers (`bot.report`); this module adds what only the
forge door knows: the verdict and its change, the head commit, and the findings
that could not be shown inline. Pure and deterministic: the same review gives
byte-identical bodies, so a re-push changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.findings import Finding, Report
from bot.judge.catalogue import Catalogue
from bot.report import render, render_inline
from bot.report.common import finding_location
from bot.report.markdown import code, md
from bot.review.placement import Unplaced
from bot.review.reconcile import (
    SUMMARY_MARKER,
    Verdict,
    finding_marker,
    finding_of,
    short_sha,
    verdict_marker,
)


def inline_body(
    finding: Finding, catalogue: Catalogue | None, *, rule_docs: str | None = None
) -> str:
    body = render_inline(finding, catalogue, rule_docs=rule_docs)
    if finding_of(body) != finding.fingerprint:
        body = f"{finding_marker(finding.fingerprint)}\n{body}"
    return body


def summary_body(
    report: Report,
    *,
    verdict: Verdict,
    previous: Verdict | None,
    head_sha: str,
    unplaced: Sequence[Unplaced],
    catalogue: Catalogue | None,
    rule_docs: str | None = None,
) -> str:
    rendered = render(report, "markdown", catalogue=catalogue, rule_docs=rule_docs)
    rendered = rendered.replace(SUMMARY_MARKER, "", 1).lstrip("\n")
    out = [
        SUMMARY_MARKER,
        verdict_marker(verdict),
        f"**migbot verdict: {verdict.label}** at commit `{short_sha(head_sha)}`",
        "",
    ]
    if previous is not None and previous is not verdict:
        out += [f"> Verdict changed: {previous.label} → {verdict.label}.", ""]
    out.append(rendered.rstrip("\n"))
    if unplaced:
        out += ["", "#### Not shown inline", ""]
        for u in unplaced:
            out.append(
                f"- {code(finding_location(u.finding))} {code(u.finding.slug)}: "
                f"{md(u.finding.message)} ({md(u.reason)})"
            )
    return "\n".join(out) + "\n"
