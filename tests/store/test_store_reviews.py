"""Stored reviews, in the shape the weekly digest reads."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.forges.events import EventKind, ForgeEvent, MergeRequestRef
from bot.store.models import utcnow
from bot.store.reviews import (
    ReviewRecord,
    latest_review,
    list_reviews,
    merge_requests,
    record_state,
    save_review,
)

RECORD = ReviewRecord(
    forge="gitlab",
    project="qemu/qemu",
    number=3,
    title="hw/foo: add register",
    author="alice",
    url="https://gitlab.example/qemu/qemu/-/merge_requests/3",
    labels=("migration::ack",),
    state="open",
    base_sha="a" * 40,
    head_sha="b" * 40,
    verdict="fail",
    previous_verdict=None,
    findings=(
        {
            "rule_id": "MIG001",
            "slug": "field-added-unversioned",
            "severity": "error",
            "tier": "bidirectional",
            "path": "hw/misc/foo.c",
            "vmsd": "foo",
            "subject": "extra",
            "message": "field 'extra' added",
            "fingerprint": "2cd790b19bde4d0e",
        },
    ),
    compat_entries=(
        {
            "array": "hw_compat_10_2",
            "driver": "foo",
            "property": "x-extra",
            "value": "off",
            "change": "added",
        },
    ),
    overrides=({"label": "migration::ack", "by": "bob", "honoured": False},),
)


def test_reviews_round_trip_and_query(engine: Engine) -> None:
    t0 = utcnow()
    first = save_review(engine, RECORD, now=t0)
    second = save_review(
        engine,
        replace(RECORD, head_sha="c" * 40, verdict="pass", findings=()),
        now=t0 + timedelta(days=2),
    )
    assert second > first
    [one] = list_reviews(engine, until=t0 + timedelta(days=1))
    assert one.findings == RECORD.findings
    assert one.overrides == RECORD.overrides
    assert one.compat_entries == RECORD.compat_entries
    assert one.labels == ("migration::ack",)
    assert one.created_at is not None
    assert abs((one.created_at - t0).total_seconds()) < 1
    latest = latest_review(engine, "gitlab", "qemu/qemu", 3)
    assert latest is not None
    assert (latest.head_sha, latest.verdict) == ("c" * 40, "pass")
    [mr] = merge_requests(engine)
    assert (mr.state, mr.verdict, mr.head_sha, mr.author) == ("open", "pass", "c" * 40, "alice")


def test_merge_is_recorded_on_reviews_and_merge_request(engine: Engine) -> None:
    save_review(engine, RECORD)
    merged = ForgeEvent(
        "gitlab",
        "d",
        "Merge Request Hook",
        "merge",
        EventKind.MERGED,
        ref=MergeRequestRef("gitlab", "qemu/qemu", 3),
    )
    with Session(engine) as s, s.begin():
        record_state(s, merged, utcnow())
    assert [r.state for r in list_reviews(engine)] == ["merged"]
    [mr] = merge_requests(engine, states=["merged"])
    assert mr.merged_at is not None
