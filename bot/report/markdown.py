"""The review comment a forge shows: a summary note, and one body per inline finding.

Valid CommonMark plus GFM tables and ``<details>``, which GitHub and GitLab both
render. Text that comes from the change under review (paths, names, messages
built from them) is escaped: it can neither inject HTML or Markdown nor
mention anyone.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from urllib.parse import quote

from bot import __version__
from bot.findings import Finding, Report, Severity, TierDecision
from bot.judge.catalogue import Catalogue
from bot.judge.policy import load_policy
from bot.report.common import (
    clean_reason,
    describe_override,
    finding_location,
    location,
    plural,
    printable,
    severity_change,
    severity_order,
    verdict,
)

SUMMARY_MARKER = "<!-- migbot:summary -->"
FINDING_MARKER = "<!-- migbot:finding:{fingerprint} -->"
MAX_CHARS = 60_000
"""GitHub refuses comments over 65,536 characters; GitLab allows 1,000,000."""

_ESCAPE = re.compile(r"([\\`*_\[\]<>|&~#!])")


def md(text: str) -> str:
    """Plain text as inline Markdown: punctuation escaped, one line, no @mentions."""
    text = printable(" ".join(text.split()))
    text = _ESCAPE.sub(r"\\\1", text)
    return text.replace("@", "@\u2060")


def code(text: str, *, in_table: bool = False) -> str:
    """Plain text as a code span (no escapes apply inside one, so fence it instead)."""
    text = printable(" ".join(text.split()))
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    if text.startswith("`") or text.endswith("`"):
        text = f" {text} "
    if in_table:
        text = text.replace("|", "\\|")
    return f"{fence}{text}{fence}"


def badge(severity: Severity) -> str:
    return f"**{severity.value.upper()}**"


def _url(url: str) -> str:
    return quote(url, safe=":/#?&=%~+@!$,;'*.-_")


def rule_url(finding: Finding, rule_docs: str | None = None) -> str:
    """The rule's own section of docs/rules.md when its home is known (the
    argument, else ``[docs] rules`` of the policy), else the QEMU doc link."""
    base = rule_docs or load_policy().rule_docs
    if base:
        return f"{base.split('#')[0]}#{finding.rule_id.lower()}-{finding.slug}"
    return finding.doc_url


def _rule_link(finding: Finding, rule_docs: str | None = None) -> str:
    url = rule_url(finding, rule_docs)
    if not url:
        return finding.rule_id
    return f"[{finding.rule_id}]({_url(url)})"


def one_tier_line(finding: Finding) -> str:
    """``bidirectional: reachable from pc-q35-10.2``: the tier and why, once, without
    the path the comment already shows or internal error text."""
    reason = clean_reason(finding.tier_reason)
    reason = reason.removeprefix(f"tier {finding.tier.value}: ").removeprefix(f"{finding.path}: ")
    return f"{finding.tier.value}: {reason}" if reason else finding.tier.value


def how_to_proceed(report: Report) -> str | None:
    """What an author who believes a finding is wrong can do, from the policy's labels."""
    if not report.reaches(Severity.WARNING):
        return None
    policy = load_policy()
    tiers = ", ".join(code(name) for name, _ in policy.tier_labels)
    lowered = sorted({v.value for _, v in policy.ack_severities})
    shown = " or ".join(lowered) or "notices"
    return (
        f"**A finding is wrong?** Say why in a reply and ask a migration maintainer to add "
        f"the label {code(policy.ack_label)} (only a maintainer's label counts): the findings "
        f"stay visible as {shown}s and the check passes. A tier label ({tiers}) re-judges "
        "the change at that tier instead."
    )


def heading(report: Report) -> str:
    """``migbot: 2 errors, 1 warning``, or ``migbot: no migration problems found``."""
    if not report.reaches(Severity.NOTICE):
        infos = report.count(Severity.INFO)
        extra = f" ({plural(infos, 'info')})" if infos else ""
        return f"migbot: no migration problems found{extra}"
    return f"migbot: {verdict(report)}"


def render_markdown(
    report: Report,
    catalogue: Catalogue | None = None,
    *,
    max_chars: int = MAX_CHARS,
    rule_docs: str | None = None,
) -> str:
    """The summary comment. Never drops a finding silently: if the comment would be
    too long, the details go first, then table rows (least severe first), and the
    comment says how many findings it could not show."""
    findings = severity_order(report.findings)
    text = _compose(report, findings, catalogue, details=True, rows=len(findings), docs=rule_docs)
    if len(text) <= max_chars:
        return text
    findings.sort(key=lambda f: -f.severity.rank)
    rows = len(findings)
    text = _compose(report, findings, catalogue, details=False, rows=rows, docs=rule_docs)
    while len(text) > max_chars and rows > 0:
        rows = max(0, rows - max(1, rows // 4))
        text = _compose(report, findings, catalogue, details=False, rows=rows, docs=rule_docs)
    return text


def _compose(
    report: Report,
    findings: list[Finding],
    catalogue: Catalogue | None,
    *,
    details: bool,
    rows: int,
    docs: str | None = None,
) -> str:
    out = [SUMMARY_MARKER, f"### {heading(report)}", ""]
    out += [_scope(report), ""]
    if findings:
        out += [
            "| Severity | Rule | Location | Message |",
            "| --- | --- | --- | --- |",
        ]
        for f in findings[:rows]:
            rule = f"{_rule_link(f, docs)} {code(f.slug, in_table=True)}"
            where = code(finding_location(f), in_table=True)
            out.append(f"| {badge(f.severity)} | {rule} | {where} | {md(f.message)} |")
        out.append("")
        proceed = how_to_proceed(report)
        if proceed:
            out += [proceed, ""]
        hidden = len(findings) - rows
        if hidden:
            out += [
                f"{plural(hidden, 'more finding')} not shown: the comment would be too long. "
                "The full list is in the JSON or text report of this run.",
                "",
            ]
        if details:
            for f in findings:
                out += _details(f, catalogue)
        elif rows:
            out += ["Details are left out to keep the comment within the forge's size limit.", ""]
    if report.tiers:
        out += ["#### Tiers", ""]
        out += [_tier_line(tier, paths) for tier, paths in _tiers(report.tiers)]
        out.append("")
    if report.overrides:
        out += ["#### Overrides", ""]
        out += [f"- {md(describe_override(o))}" for o in report.overrides]
        out.append("")
    if report.not_understood:
        out += ["#### Not understood", "", "migbot could not read these; review them by hand.", ""]
        out += [f"- {code(location(n.path, n.line))}: {md(n.what)}" for n in report.not_understood]
        out.append("")
    if report.notes:
        out += ["#### Notes", ""]
        out += [f"- {md(note)}" for note in report.notes]
        out.append("")
    out.append(f"<sub>migbot {__version__}</sub>")
    return "\n".join(out) + "\n"


def _scope(report: Report) -> str:
    what = md(report.change_title) if report.change_title else "this change"
    revs = ""
    if report.base and report.head:
        revs = f" ({code(report.base[:12])}..{code(report.head[:12])})"
    elif report.head or report.base:
        revs = f" (at {code((report.head or report.base or '')[:12])})"
    if report.files_scanned == 0 and not report.findings:
        return f"Reviewed {what}{revs}: nothing in it is read by migbot."
    scanned = plural(report.files_scanned, "file")
    if not report.findings:
        tail = "no migration-relevant changes found."
        if report.not_understood:
            tail = "no findings, but some code was not understood (see below)."
        return f"Reviewed {what}{revs}, {scanned} scanned: {tail}"
    return f"Reviewed {what}{revs}, {scanned} scanned."


def _details(finding: Finding, catalogue: Catalogue | None) -> list[str]:
    summary = (
        f"<b>{finding.severity.value.upper()}</b> {html.escape(finding.rule_id)} "
        f"{html.escape(finding.slug)} at <code>{html.escape(finding_location(finding))}</code>"
    )
    out = ["<details>", f"<summary>{summary}</summary>", ""]
    out += _body(finding, catalogue)
    out += ["</details>", ""]
    return out


def _body(finding: Finding, catalogue: Catalogue | None) -> list[str]:
    """Message, tier, override, then the explanation."""
    out = [md(finding.message), ""]
    out += [f"**Tier:** {md(one_tier_line(finding))}", ""]
    return out + _override(finding) + _explanation(finding, catalogue)


def _override(finding: Finding) -> list[str]:
    if finding.override is None:
        return []
    change = severity_change(finding)
    suffix = f" (severity {change})" if change else ""
    return [f"**Override:** {md(describe_override(finding.override))}{suffix}", ""]


def _explanation(finding: Finding, catalogue: Catalogue | None) -> list[str]:
    """Why (from the catalogue, when given), the fix recipe, the documentation link."""
    out: list[str] = []
    why = _why(finding, catalogue)
    if why:
        out += [f"**Why:** {why}", ""]
    if finding.fix:
        out += ["**Fix:** " + finding.fix.strip(), ""]
    if finding.doc_url:
        out += [f"See [{_doc_label(finding.doc_url)}]({_url(finding.doc_url)}).", ""]
    return out


def _why(finding: Finding, catalogue: Catalogue | None) -> str | None:
    if catalogue is None:
        return None
    rule = catalogue.find(finding.rule_id)
    return None if rule is None else rule.why


def _doc_label(url: str) -> str:
    """``main.html#subsections`` for a QEMU migration doc URL; the URL otherwise."""
    tail = url.rstrip("/").rsplit("/", 1)[-1]
    return md(tail or url)


def _tiers(
    tiers: Iterable[tuple[str, TierDecision]],
) -> list[tuple[TierDecision, list[str]]]:
    """Paths grouped by identical decision, strictest tier first."""
    groups: dict[TierDecision, list[str]] = {}
    for path, decision in tiers:
        groups.setdefault(decision, []).append(path)
    return sorted(groups.items(), key=lambda item: -item[0].tier.strictness)


def _tier_line(decision: TierDecision, paths: list[str]) -> str:
    shown = ", ".join(code(p) for p in paths[:5])
    if len(paths) > 5:
        shown += f" and {len(paths) - 5} more"
    reason = clean_reason(decision.reason).removeprefix(f"tier {decision.tier.value}: ")
    for path in paths:
        reason = reason.removeprefix(f"{path}: ")
    line = f"- **{decision.tier.value}** for {shown}: {md(reason)}"
    if decision.machines:
        machines = ", ".join(decision.machines[:6])
        more = f" and {len(decision.machines) - 6} more" if len(decision.machines) > 6 else ""
        line += f" (machines: {md(machines)}{more})"
    if decision.source != "default":
        line += f" [{md(decision.source)}]"
    return line


def suggestion(finding: Finding) -> list[str]:
    """A GitHub suggestion block for a certain one-line fix on the commented line."""
    fix = finding.line_fix
    if fix is None or fix.line != finding.line:
        return []
    fence = "`" * max(3, 1 + max((len(r) for r in re.findall(r"`+", fix.new)), default=0))
    return ["Suggested fix:", "", f"{fence}suggestion", printable(fix.new), fence, ""]


def render_inline(
    finding: Finding, catalogue: Catalogue | None = None, *, rule_docs: str | None = None
) -> str:
    """The body of one inline comment, found again by its fingerprint marker.

    The message, tier and override show; why and the fix recipe fold away."""
    marker = FINDING_MARKER.format(fingerprint=finding.fingerprint)
    rule = f"{_rule_link(finding, rule_docs)} {code(finding.slug)}"
    head = f"{badge(finding.severity)} {rule}: {md(finding.message)}"
    out = [marker, head, "", f"**Tier:** {md(one_tier_line(finding))}", ""]
    out += _override(finding)
    out += suggestion(finding)
    out += ["<details>", "<summary>Why, and how to fix it</summary>", ""]
    out += _explanation(finding, catalogue)
    out += ["</details>"]
    return "\n".join(out) + "\n"
