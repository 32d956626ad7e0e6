"""The reply on the list: plain text, lines under 76 columns, RFC 822 headers.

It follows the list's habits: a reply to the cover letter (or the first patch),
``Re:`` subject, ``In-Reply-To`` and ``References`` naming the thread, the
findings with the hunk lines they are about quoted with ``> ``. A link is
never broken: one longer than the width stands alone on its line, in ``<>``.
"""

from __future__ import annotations

import hashlib
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr

from bot import __version__
from bot.change import Change
from bot.findings import Finding, Report, Side
from bot.judge.catalogue import first_line
from bot.mail.check import SeriesReview
from bot.report.common import (
    files_with_findings,
    finding_location,
    order,
    plural,
    printable,
    severity_change,
    tier_text,
)

WIDTH = 72
"""Prose width; quoted code may reach 75 columns."""
MAX = 75


@dataclass(frozen=True, slots=True)
class Operator:
    """Who the bot writes as, and to which list."""

    sender: str
    """``From:``, e.g. ``migbot <migbot@example.org>``."""
    domain: str
    """The domain of the replies' Message-Ids."""
    list_address: str
    """The list, e.g. ``qemu-devel@nongnu.org``."""


def reply_id(root_id: str, domain: str) -> str:
    """A Message-Id derived from what it answers: the same version, the same id."""
    digest = hashlib.sha256(root_id.encode()).hexdigest()[:20]
    return f"migbot.{digest}@{domain}"


def compose(done: SeriesReview, operator: Operator, *, now: datetime) -> EmailMessage:
    """The reply mail: to the author, copied to the list, and no one else."""
    root = done.series.root
    msg = EmailMessage(policy=SMTP)
    msg["From"] = operator.sender
    msg["To"] = formataddr((done.series.author_name, done.series.author))
    msg["Cc"] = operator.list_address
    subject = root.subject
    msg["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    msg["Date"] = format_datetime(now)
    msg["Message-Id"] = f"<{reply_id(root.message_id, operator.domain)}>"
    msg["In-Reply-To"] = f"<{root.message_id}>"
    msg["References"] = " ".join(f"<{r}>" for r in (*root.references, root.message_id))
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Mailer"] = f"migbot {__version__}"
    text = body(done)
    msg.set_content(text, cte="7bit" if text.isascii() else "8bit")
    return msg


def body(done: SeriesReview) -> str:
    report, series = done.report, done.series
    out: list[str] = []
    patches = plural(len(series.patches), "patch", "patches")
    base = (done.change.base or "")[:12]
    out += _wrap(
        f"migbot checked v{series.version} of this series ({patches}) for live-migration "
        f"compatibility, applied on {base} ({done.base_how})."
    )
    out.append("")
    out += _wrap(_summary(report) + (":" if report.findings else "."))
    for finding in order(report.findings):
        out.append("")
        out += _finding(finding, done.change)
    if done.coverage or done.not_covered or report.overrides:
        out += ["", "Acks:"]
        out += _acks(done)
    if report.not_understood:
        out += ["", "Not understood (please review these by hand):"]
        for item in report.not_understood:
            where = f"{item.path}:{item.line}" if item.line else item.path
            out += _wrap(f"{where}: {item.what}", indent="  ", hang="    ")
    if report.notes:
        out += ["", "Notes:"]
        for note in _notes(report.notes):
            out += _wrap(note, indent="  ", hang="    ")
    out += [
        "",
        "-- ",
        f"migbot {__version__}, an automated live-migration review.",
        *_wrap(
            "An Acked-by: from a migration maintainer (or a maintainer of the "
            "files) in reply to the series acknowledges these findings."
        ),
    ]
    return "\n".join(printable(line) if line else line for line in out) + "\n"


_BINARY = ": binary patch not applied"
_MAX_NOTES = 6


def _notes(notes: Sequence[str]) -> list[str]:
    """Notes for a mail: binary files in one line, and not a page of them."""
    binary = [n for n in notes if n.endswith(_BINARY)]
    rest = [n for n in notes if not n.endswith(_BINARY)]
    if binary:
        rest.append(f"{plural(len(binary), 'binary file')} not applied (not read by migbot)")
    if len(rest) > _MAX_NOTES:
        rest = [*rest[: _MAX_NOTES - 1], f"and {len(rest) - _MAX_NOTES + 1} more notes"]
    return rest


def _summary(report: Report) -> str:
    counts = {s: 0 for s in ("error", "warning", "notice", "info")}
    for f in report.findings:
        counts[f.severity.value] += 1
    parts = [plural(n, s) for s, n in counts.items() if n]
    if not parts:
        return "No migration compatibility problem found"
    return f"{', '.join(parts)} in {plural(files_with_findings(report.findings), 'file')}"


def _finding(f: Finding, change: Change) -> list[str]:
    # The rule's code and name stay together on one line (a no-break space).
    out = _wrap(f"{finding_location(f)}: {f.severity.value} [{f.rule_id}{_NBSP}{f.slug}]")
    out += _wrap(f.message, indent="  ")
    out += _wrap(tier_text(f.tier, f.tier_reason), indent="  ")
    if f.override is not None:
        # On the list an ack is an Acked-by:, not a label: name the person.
        changed = severity_change(f) or f.override.effect
        out += _wrap(f"acked by {f.override.by or 'a maintainer'}: {changed}", indent="  ")
    quoted = _quote(f, change)
    if quoted:
        out += ["", *quoted, ""]
    fix = first_line(f.fix)
    if fix:
        out += _wrap(f"Fix: {fix.replace('`', '')}", indent="  ", hang="    ")
    if f.doc_url:
        out += _link("See:", f.doc_url)
    return out


def _quote(f: Finding, change: Change, context: int = 2) -> list[str]:
    """The hunk lines around the finding's line, as the patch shows them."""
    if f.line is None or f.side is Side.FILE:
        return []
    fc = next((c for c in change.files if c.path == f.path), None)
    if fc is None:
        return []
    for hunk in fc.hunks:
        numbers = [ln.new_line if f.side is Side.NEW else ln.old_line for ln in hunk.lines]
        if f.line not in numbers:
            continue
        at = numbers.index(f.line)
        start, end = max(0, at - 1), min(len(hunk.lines), at + context + 2)
        # Finish a run of changed lines the window cut, within reason.
        while end < len(hunk.lines) and hunk.lines[end].kind != " " and end - start < 9:
            end += 1
        return [_clip(f"  > {ln.kind}{ln.text.rstrip()}") for ln in hunk.lines[start:end]]
    return []


def _clip(line: str) -> str:
    line = line.expandtabs(8)
    return line if len(line) <= MAX else line[: MAX - 3] + "..."


def _acks(done: SeriesReview) -> list[str]:
    out: list[str] = []
    version = done.series.version
    for cov in done.coverage:
        when = (
            ""
            if cov.version == version
            else " on an earlier version (patch unchanged)"
            if cov.version == 0
            else f" on v{cov.version}"
        )
        head = f"Acked-by: {cov.who}{when} covers {plural(len(cov.covered), 'finding')}:"
        out += _wrap(head, indent="  ", hang="    ")
        out += [_clip(f"    {_name(f)}") for f in cov.covered]
    if done.not_covered:
        out += _wrap("Not covered by an ack on an earlier version (new since):", indent="  ")
        out += [_clip(f"    {_name(f)}") for f in done.not_covered]
    for o in done.report.overrides:
        if not o.honoured:
            out += _wrap(f"Acked-by: {o.by}: ignored, {o.reason}", indent="  ", hang="    ")
    return out


def _name(f: Finding) -> str:
    about = ", ".join(x for x in (f.vmsd, f.subject) if x)
    return f"{f.rule_id} {f.path}" + (f" ({about})" if about else "")


_NBSP = "\u00a0"


def _wrap(text: str, *, indent: str = "", hang: str | None = None) -> list[str]:
    lines = textwrap.wrap(
        text,
        width=WIDTH,
        initial_indent=indent,
        subsequent_indent=hang if hang is not None else indent,
        break_on_hyphens=False,
    )
    return [line.replace(_NBSP, " ") for line in lines] or [indent.rstrip()]


def _link(label: str, url: str) -> list[str]:
    line = f"  {label} <{url}>"
    return [line] if len(line) <= MAX else [f"  {label}", f"  <{url}>"]
