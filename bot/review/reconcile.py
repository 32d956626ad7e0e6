"""Reconcile as a pure plan: desired comments + the bot's existing notes -> actions.

Threads are keyed by `Finding.fingerprint` (what a finding is about, never its
line), embedded in each inline comment as a hidden marker. Nothing is ever
deleted: a finding gone is resolved (or answered as outdated), one back is
reopened, and a thread a human has answered is never touched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.findings import Report, Severity
from bot.review.placement import Placement

SUMMARY_MARKER = "<!-- migbot:summary -->"
_FINDING_RE = re.compile(r"<!-- migbot:finding:([0-9A-Za-z_-]+) -->")
_VERDICT_RE = re.compile(r"<!-- migbot:verdict:([a-z]+) -->")
_STATE_RE = re.compile(r"<!-- migbot:(resolved|reopened):([0-9A-Za-z_-]+) -->")


class Verdict(StrEnum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    WARN = "warn"
    FAIL = "fail"

    @property
    def label(self) -> str:
        return {"pass": "passed", "warn": "passed with warnings", "fail": "failed"}[self.value]


def verdict_of(report: Report) -> Verdict:
    if report.reaches(Severity.ERROR):
        return Verdict.FAIL
    if report.reaches(Severity.WARNING):
        return Verdict.WARN
    return Verdict.PASS


def finding_marker(fingerprint: str) -> str:
    return f"<!-- migbot:finding:{fingerprint} -->"


def verdict_marker(verdict: Verdict) -> str:
    return f"<!-- migbot:verdict:{verdict.value} -->"


def resolved_marker(fingerprint: str) -> str:
    return f"<!-- migbot:resolved:{fingerprint} -->"


def reopened_marker(fingerprint: str) -> str:
    return f"<!-- migbot:reopened:{fingerprint} -->"


def is_summary(body: str) -> bool:
    return SUMMARY_MARKER in body


def finding_of(body: str) -> str | None:
    match = _FINDING_RE.search(body)
    return match.group(1) if match else None


def verdict_in(body: str) -> Verdict | None:
    match = _VERDICT_RE.search(body)
    if not match:
        return None
    try:
        return Verdict(match.group(1))
    except ValueError:
        return None


def thread_state(bodies: Iterable[str]) -> str | None:
    """``resolved`` or ``reopened`` from the bot's last state marker in replies."""
    state = None
    for body in bodies:
        for match in _STATE_RE.finditer(body):
            state = match.group(1)
    return state


class NoteKind(StrEnum):
    SUMMARY = "summary"
    FINDING = "finding"


@dataclass(frozen=True, slots=True)
class BotNote:
    """A note or comment the bot's own account wrote, found by its marker."""

    note_id: str
    kind: NoteKind
    body: str
    thread_id: str | None = None
    fingerprint: str | None = None
    resolved: bool = False
    human_replied: bool = False


@dataclass(frozen=True, slots=True)
class DesiredComment:
    fingerprint: str
    body: str
    placement: Placement


class Op(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    KEEP = "keep"


@dataclass(frozen=True, slots=True)
class NoteAction:
    op: Op
    fingerprint: str | None = None
    body: str | None = None
    """The new body (create, update, reopen)."""
    reply: str | None = None
    """What the bot answers in the thread (resolve, reopen)."""
    placement: Placement | None = None
    note: BotNote | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ReviewPlan:
    head_sha: str
    summary: NoteAction
    inline: tuple[NoteAction, ...]

    def count(self, op: Op) -> int:
        return sum(1 for a in self.inline if a.op is op)

    def creates(self) -> tuple[NoteAction, ...]:
        return tuple(a for a in self.inline if a.op is Op.CREATE)

    def changes_anything(self) -> bool:
        return self.summary.op is not Op.KEEP or any(a.op is not Op.KEEP for a in self.inline)


def previous_verdict(existing: Sequence[BotNote]) -> Verdict | None:
    """The verdict the bot's summary currently shows."""
    for note in existing:
        if note.kind is NoteKind.SUMMARY:
            return verdict_in(note.body)
    return None


def short_sha(sha: str) -> str:
    return sha[:12]


def reconcile(
    *,
    head_sha: str,
    summary_body: str,
    desired: Sequence[DesiredComment],
    present: Iterable[str],
    existing: Sequence[BotNote],
) -> ReviewPlan:
    """Plan the notes to create, update, resolve, reopen or keep.

    ``desired`` are the inline comments wanted now; ``present`` every
    fingerprint the review reported (inline or not), so that a thread whose
    finding is still reported but no longer placeable stays open.
    ``existing`` are the bot's own notes, oldest first.
    """
    summaries = [n for n in existing if n.kind is NoteKind.SUMMARY]
    if not summaries:
        summary = NoteAction(Op.CREATE, body=summary_body)
    elif summaries[0].body == summary_body:
        summary = NoteAction(Op.KEEP, note=summaries[0])
    else:
        summary = NoteAction(Op.UPDATE, body=summary_body, note=summaries[0])

    threads: dict[str, BotNote] = {}
    for existing_note in existing:
        if existing_note.kind is NoteKind.FINDING and existing_note.fingerprint:
            threads.setdefault(existing_note.fingerprint, existing_note)
    present_set = set(present) | {d.fingerprint for d in desired}
    at = short_sha(head_sha)
    actions: list[NoteAction] = []
    planned: set[str] = set()
    for want in desired:
        if want.fingerprint in planned:
            continue
        planned.add(want.fingerprint)
        note = threads.get(want.fingerprint)
        if note is None:
            actions.append(
                NoteAction(Op.CREATE, want.fingerprint, body=want.body, placement=want.placement)
            )
        elif note.human_replied:
            actions.append(NoteAction(Op.KEEP, want.fingerprint, note=note, reason="human replied"))
        elif note.resolved:
            actions.append(
                NoteAction(
                    Op.REOPEN,
                    want.fingerprint,
                    body=want.body,
                    reply=f"Reported again at commit {at}.\n\n{reopened_marker(want.fingerprint)}",
                    note=note,
                )
            )
        elif note.body != want.body:
            actions.append(NoteAction(Op.UPDATE, want.fingerprint, body=want.body, note=note))
        else:
            actions.append(NoteAction(Op.KEEP, want.fingerprint, note=note))
    for fp, thread in threads.items():
        if fp in planned:
            continue
        if fp in present_set:
            actions.append(NoteAction(Op.KEEP, fp, note=thread, reason="still reported"))
        elif thread.resolved:
            actions.append(NoteAction(Op.KEEP, fp, note=thread, reason="already resolved"))
        elif thread.human_replied:
            actions.append(NoteAction(Op.KEEP, fp, note=thread, reason="human replied"))
        else:
            actions.append(
                NoteAction(
                    Op.RESOLVE,
                    fp,
                    reply=(
                        f"No longer reported at commit {at}: resolving.\n\n{resolved_marker(fp)}"
                    ),
                    note=thread,
                )
            )
    return ReviewPlan(head_sha=head_sha, summary=summary, inline=tuple(actions))
