"""Placement and reconcile: pure plans, tested with values."""

from __future__ import annotations

from dataclasses import replace

from bot.change import FileChange, FileStatus
from bot.findings import Finding, Severity, Side, Tier
from bot.forges.diff import parse_hunks
from bot.review.placement import NO_LINE, NOT_IN_DIFF, OVER_CAP, Placement, place_all
from bot.review.reconcile import (
    BotNote,
    DesiredComment,
    NoteKind,
    Op,
    finding_marker,
    reconcile,
    thread_state,
)

PATCH = """@@ -1,4 +1,4 @@
 a
-b
+B
 c
 d
@@ -10,2 +10,3 @@
 j
+k
 l
"""
FILE = FileChange("f.c", "f.c", FileStatus.MODIFIED, parse_hunks(PATCH))


def finding(
    line: int | None, side: Side = Side.NEW, subject: str = "s", sev: Severity = Severity.ERROR
) -> Finding:
    return Finding(
        rule_id="MIG001",
        slug="x",
        title="x",
        severity=sev,
        tier=Tier.FORWARD,
        tier_reason="",
        path="f.c",
        line=line,
        side=side,
        message="m",
        fix="",
        doc_url="",
        vmsd="v",
        subject=subject,
    )


def test_parse_hunks_numbers_lines() -> None:
    h1, h2 = FILE.hunks
    assert [(ln.kind, ln.old_line, ln.new_line) for ln in h1.lines] == [
        (" ", 1, 1),
        ("-", 2, None),
        ("+", None, 2),
        (" ", 3, 3),
        (" ", 4, 4),
    ]
    assert h2.added_lines() == frozenset({11})


def test_placement_follows_gitlab_and_github_rules() -> None:
    result = place_all(
        [
            finding(2, subject="added"),
            finding(2, Side.OLD, subject="removed"),
            finding(3, subject="context"),
            finding(7, subject="outside"),
            finding(None, Side.FILE, subject="file"),
        ],
        [FILE],
        cap=10,
    )
    placed = {p.finding.subject: p.placement for p in result.inline}
    assert placed["added"] == Placement("f.c", "f.c", "+", 2, None)
    assert placed["removed"] == Placement("f.c", "f.c", "-", None, 2)
    assert placed["context"] == Placement("f.c", "f.c", " ", 3, 3)
    assert (placed["removed"].github_side, placed["removed"].github_line) == ("LEFT", 2)
    assert (placed["context"].github_side, placed["context"].github_line) == ("RIGHT", 3)
    reasons = {u.finding.subject: u.reason for u in result.summary}
    assert reasons == {"outside": NOT_IN_DIFF, "file": NO_LINE}


def test_cap_keeps_the_most_severe_inline() -> None:
    findings = [
        finding(2, subject="n", sev=Severity.NOTICE),
        finding(3, subject="e", sev=Severity.ERROR),
        finding(11, subject="w", sev=Severity.WARNING),
    ]
    result = place_all(findings, [FILE], cap=2)
    assert [p.finding.subject for p in result.inline] == ["e", "w"]
    assert [(u.finding.subject, u.reason) for u in result.summary] == [("n", OVER_CAP)]


def note(fp: str, **kw: object) -> BotNote:
    return BotNote(
        f"n-{fp}",
        NoteKind.FINDING,
        f"{finding_marker(fp)} body",
        thread_id=f"t-{fp}",
        fingerprint=fp,
        **kw,
    )  # type: ignore[arg-type]


def want(fp: str, body: str | None = None) -> DesiredComment:
    return DesiredComment(
        fp, body or f"{finding_marker(fp)} body", Placement("f.c", "f.c", "+", 2, None)
    )


def test_reconcile_plans_each_case() -> None:
    summary = BotNote("s", NoteKind.SUMMARY, "old summary")
    existing = [
        summary,
        note("same"),
        note("changed"),
        note("gone"),
        note("gone-answered", human_replied=True),
        note("back", resolved=True),
        note("still-unplaced"),
        replace(note("same"), body="duplicate thread"),
    ]
    plan = reconcile(
        head_sha="abcdef1234567890",
        summary_body="new summary",
        desired=[want("same"), want("changed", "new body"), want("back"), want("new")],
        present=["still-unplaced"],
        existing=existing,
    )
    ops = {a.fingerprint: a.op for a in plan.inline}
    assert plan.summary.op is Op.UPDATE
    assert ops == {
        "same": Op.KEEP,
        "changed": Op.UPDATE,
        "back": Op.REOPEN,
        "new": Op.CREATE,
        "gone": Op.RESOLVE,
        "gone-answered": Op.KEEP,
        "still-unplaced": Op.KEEP,
    }
    resolve = next(a for a in plan.inline if a.op is Op.RESOLVE)
    assert resolve.reply is not None
    assert "abcdef123456" in resolve.reply
    assert thread_state([resolve.reply]) == "resolved"


def test_reconcile_is_idempotent() -> None:
    plan = reconcile(
        head_sha="a" * 40, summary_body="s", desired=[want("x")], present=[], existing=[]
    )
    assert plan.summary.op is Op.CREATE
    existing = [BotNote("s", NoteKind.SUMMARY, "s"), note("x")]
    again = reconcile(
        head_sha="a" * 40, summary_body="s", desired=[want("x")], present=[], existing=existing
    )
    assert not again.changes_anything()
    human = [BotNote("s", NoteKind.SUMMARY, "s"), replace(note("x"), human_replied=True)]
    changed = reconcile(
        head_sha="a" * 40,
        summary_body="s",
        desired=[want("x", "other")],
        present=[],
        existing=human,
    )
    assert not changed.changes_anything()
