"""The pure core: outcomes, periods, schedules, rendering and the JSON round trip."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.digest.build import build, outcome_of, subsystem
from bot.digest.codec import digest_from_json, digest_to_json
from bot.digest.model import (
    ChangeInput,
    CompatNote,
    FindingNote,
    Outcome,
    OverrideNote,
)
from bot.digest.period import Period
from bot.digest.render import md, render, safe_url
from bot.settings.timespec import PeriodError, parse_moment, parse_schedule

NOW = datetime(2026, 2, 9, 8, 0, tzinfo=UTC)  # a Monday
ERROR = FindingNote(
    "MIG001",
    "field-added-unversioned",
    "error",
    "bidirectional",
    "hw/net/e1000.c",
    "f1",
    "e1000",
    "mit_timer",
)
NOTICE = FindingNote(
    "MIG012",
    "subsection-not-gated-by-machine",
    "notice",
    "forward",
    "hw/riscv/aplic.c",
    "f2",
    "riscv_aplic",
    "riscv_aplic/foo",
)


def change(**kw: object) -> ChangeInput:
    base = ChangeInput(
        key="gitlab:qemu/qemu!1",
        ref="qemu/qemu!1",
        title="hw/net/e1000: migrate the mitigation timer",
        url="https://gitlab.example/qemu/qemu/-/merge_requests/1",
        author="alice",
        labels=("net",),
        state="open",
        when=NOW - timedelta(days=2),
        verdicts=("fail",),
        findings=(ERROR,),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kw", "outcome"),
    [
        ({}, Outcome.OPEN_ERRORS),
        ({"verdicts": ("fail", "pass"), "findings": (NOTICE,)}, Outcome.OPEN),
        ({"state": "merged"}, Outcome.MERGED_ERRORS),
        ({"state": "merged", "verdicts": ("fail", "pass"), "findings": ()}, Outcome.FIXED),
        ({"state": "merged", "verdicts": ("pass",), "findings": (NOTICE,)}, Outcome.MERGED_CLEAN),
        (
            {"state": "merged", "verdicts": ("warn",), "findings": (NOTICE,)},
            Outcome.MERGED_WARNINGS,
        ),
        (
            {
                "state": "merged",
                "verdicts": ("pass",),
                "findings": (replace(ERROR, severity="notice", override="migration::ack"),),
                "overrides": (OverrideNote("migration::ack", "maint", True),),
            },
            Outcome.MERGED_OVERRIDE,
        ),
        (
            # An ack from someone without rights changes nothing: still merged with errors.
            {"state": "merged", "overrides": (OverrideNote("migration::ack", "eve", False),)},
            Outcome.MERGED_ERRORS,
        ),
        ({"state": "closed"}, Outcome.CLOSED),
    ],
)
def test_outcome_of_a_review_history(kw: dict[str, object], outcome: Outcome) -> None:
    assert outcome_of(change(**kw)) is outcome


def test_lines_say_what_changed_who_acknowledged_and_what_was_fixed() -> None:
    acked = change(
        key="k2",
        ref="qemu/qemu!2",
        state="merged",
        verdicts=("fail", "pass"),
        findings=(replace(ERROR, severity="notice", base_severity="error", override="ack"),),
        overrides=(OverrideNote("ack", "maint", True, "errors shown as notices"),),
        compat=(CompatNote("hw_compat_10_2", "e1000", "x-mit", "off", "added", "hw/core/m.c"),),
    )
    fixed = change(
        key="k3",
        ref="qemu/qemu!3",
        state="merged",
        verdicts=("fail", "pass"),
        findings=(NOTICE,),
        earlier_findings=(ERROR,),
    )
    digest = build(
        [acked, fixed], Period(NOW - timedelta(days=7), NOW), generated_at=NOW, source="t"
    )
    by_ref = {x.ref: x for x in digest.lines()}
    one = by_ref["qemu/qemu!2"]
    assert one.outcome is Outcome.MERGED_OVERRIDE
    assert one.acknowledged == ("ack by maint: MIG001 on e1000",)
    assert one.compat == ('hw_compat_10_2 + { "e1000", "x-mit", "off" }',)
    assert one.what == ("e1000: field-added-unversioned (mit_timer)",)
    three = by_ref["qemu/qemu!3"]
    assert three.outcome is Outcome.FIXED
    assert three.fixed == ("MIG001 field-added-unversioned (e1000)",)
    assert three.tier == "forward"  # the latest review's tier, not the fixed finding's
    assert [a.array for a in digest.compat] == ["hw_compat_10_2"]
    assert [(r.name, r.findings, r.changes) for r in digest.rules] == [
        ("MIG001", 2, 2),
        ("MIG012", 1, 1),
    ]


def test_periods_are_named_by_the_week_most_of_them_lies_in() -> None:
    monday = Period.parse("7d", None, NOW)
    assert (monday.since, monday.key) == (NOW - timedelta(days=7), "2026-W06")
    # A second run later the same week still names the same week: same issue.
    later = Period.parse("7d", None, NOW + timedelta(hours=30))
    assert later.key == "2026-W06"
    fortnight = Period.parse("2026-02-01", "2026-02-15", NOW)
    assert fortnight.key == "2026-02-01..2026-02-14"
    assert fortnight.week_count == 2
    assert fortnight.span == "2026-02-01 to 2026-02-14 (UTC)"
    assert monday.span == "2026-02-02 08:00 to 2026-02-09 08:00 UTC"
    assert parse_moment("2026-02-03T10:00:00+01:00", NOW) == datetime(2026, 2, 3, 9, tzinfo=UTC)
    with pytest.raises(PeriodError):
        parse_moment("last tuesday", NOW)
    with pytest.raises(PeriodError):
        Period.parse("2026-02-10", "2026-02-01", NOW)


def test_schedules() -> None:
    assert parse_schedule("off") is None
    weekly = parse_schedule("mon 08:00")
    assert weekly is not None
    assert weekly.last_at_or_before(NOW) == NOW
    assert weekly.last_at_or_before(NOW - timedelta(seconds=1)) == NOW - timedelta(days=7)
    assert weekly.next_after(NOW) == NOW + timedelta(days=7)
    twice = parse_schedule("Mon,Thu 07:30 UTC")
    assert twice is not None
    assert twice.next_after(NOW) == datetime(2026, 2, 12, 7, 30, tzinfo=UTC)
    for bad in ("monday at eight", "mon 25:00", "funday 08:00"):
        with pytest.raises(PeriodError):
            parse_schedule(bad)


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("hw/net/e1000.c", "hw/net"),
        ("include/hw/net/e1000_regs.h", "hw/net"),
        ("rust/hw/char/pl011/src/device.rs", "hw/char"),
        ("target/i386/machine.c", "target/i386"),
        ("migration/savevm.c", "migration"),
        ("include/migration/vmstate.h", "migration"),
        ("meson.build", "(top level)"),
    ],
)
def test_subsystems(path: str, name: str) -> None:
    assert subsystem(path) == name


def test_markdown_makes_titles_inert_and_drops_bad_links() -> None:
    assert md("[x](javascript:alert(1)) <b>*hi*</b> @alice") == (
        "\\[x\\](javascript:alert(1)) \\<b\\>\\*hi\\*\\</b\\> @\u200balice"
    )
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("https://gitlab.example/x") == "https://gitlab.example/x"
    hostile = change(title="<script>alert(1)</script> @everyone", url="javascript:alert(1)")
    digest = build([hostile], Period(NOW - timedelta(days=7), NOW), generated_at=NOW, source="t")
    page = render(digest, "html")
    assert "<script>alert" not in page
    assert "&lt;script&gt;" in page
    assert "javascript:" not in page
    issue = render(digest, "markdown")
    assert "@\u200beveryone" in issue
    assert "(javascript:" not in issue


def test_json_round_trip_and_the_quiet_week() -> None:
    period = Period(NOW - timedelta(days=7), NOW)
    busy = build(
        [change(), change(key="k", ref="r", state="closed")], period, generated_at=NOW, source="t"
    )
    assert digest_from_json(digest_to_json(busy)) == busy
    quiet = build(
        [change(findings=(), verdicts=("pass",))], period, generated_at=NOW, source="t", weeks=4
    )
    assert quiet.empty
    assert quiet.reviewed == 1
    text = render(quiet, "markdown")
    assert text.startswith("<!-- migbot:digest:2026-W06 -->\n## Migration digest 2026-W06\n")
    assert "A quiet week: 1 change looked at, none touched migration state." in text
    assert "###" not in text  # no empty sections
    assert len(text.splitlines()) < 15
    assert 'id="quiet"' in render(quiet, "html")


def test_series_versions_become_one_change_and_landed_series_fold_in() -> None:
    from bot.digest.series import SeriesChange, fold_landed, merge_versions

    def version(
        name: str, day: int, verdict: str, findings: tuple[FindingNote, ...]
    ) -> SeriesChange:
        c = change(
            key=f"series:{name}", ref=name, when=NOW - timedelta(days=day), verdicts=(verdict,),
            findings=findings, author="bob",
        )  # fmt: skip
        return SeriesChange(c, frozenset({"hw/net/e1000: mit timer"}), "hw/net/e1000: mit timer")

    v1, v2 = version("v1", 5, "fail", (ERROR,)), version("v2", 3, "pass", (NOTICE,))
    [merged] = merge_versions([v2, v1])
    assert merged.change.ref == "v2"
    assert merged.change.verdicts == ("fail", "pass")
    assert merged.change.earlier_findings == (ERROR,)
    assert outcome_of(merged.change) is Outcome.OPEN
    landing = change(key="git:abc", ref="abc", state="merged", verdicts=("pass",), findings=())
    folded = fold_landed([landing], [merged], {"hw/net/e1000: mit timer": "git:abc"})
    assert [c.key for c in folded] == ["git:abc"]
    assert folded[0].verdicts == ("fail", "pass", "pass")
    assert outcome_of(folded[0]) is Outcome.FIXED
    # A series whose patches did not all land stays an open change of its own.
    assert len(fold_landed([landing], [merged], {})) == 2


def test_markdown_title_cannot_start_a_line_or_carry_an_entity() -> None:
    """A carriage return (or any other line break) in a title must not put
    ``/close`` at the start of a line, and ``&lt;`` must stay literal text."""
    crafted = change(title="fix\r/close\u2028/label ~x\x0b/assign @me &lt;b&gt;")
    digest = build([crafted], Period(NOW - timedelta(days=7), NOW), generated_at=NOW, source="t")
    issue = render(digest, "markdown")
    for line in issue.splitlines():  # splitlines breaks on \r, \u2028 and \x0b too
        assert not line.lstrip().startswith("/"), line
    assert "&amp;lt;b&amp;gt;" in issue
    assert "&lt;b" not in issue.replace("&amp;lt;b", "")
