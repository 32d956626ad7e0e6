"""Deliveries stored in batches give what `jobs.accept` gives one by one."""

from __future__ import annotations

from sqlalchemy import Engine

from bot.forges.events import EventKind, ForgeEvent, MergeRequestRef
from bot.store import jobs
from bot.store.intake_batch import Incoming, accept_batch
from bot.store.reviews import merge_requests


def ev(
    delivery: str, number: int, kind: EventKind = EventKind.REVIEW, head: str = "a"
) -> ForgeEvent:
    return ForgeEvent(
        "gitlab",
        delivery,
        "Merge Request Hook",
        "update",
        kind,
        ref=MergeRequestRef("gitlab", "qemu/qemu", number),
        head_sha=head * 40,
        reason=str(kind),
    )


def test_batch_outcomes_match_one_by_one(engine: Engine) -> None:
    before = jobs.accept(engine, ev("old", 1), body_sha256="body-old")
    assert before.outcome == "queued"
    batch = [
        Incoming(ev("n1", 1, head="b"), "body-n1"),  # coalesces into the queued job
        Incoming(ev("n2", 2, head="c"), "body-n2"),  # a new job
        Incoming(ev("n3", 2, head="d"), "body-n3"),  # same MR, same batch: coalesced
        Incoming(ev("old", 1), "body-other"),  # replay by id
        Incoming(ev("fresh-id", 1), "body-old"),  # replay by body
        Incoming(ev("n2", 2, head="c"), "body-n2"),  # replay within the batch
        Incoming(ev("n4", 3, EventKind.CLOSED), "body-n4"),
        Incoming(ev("n5", 3, EventKind.IGNORED), "body-n5"),
    ]
    got = accept_batch(engine, batch, max_attempts=4)
    assert [a.outcome for a in got] == [
        "coalesced",
        "queued",
        "coalesced",
        "duplicate",
        "duplicate",
        "duplicate",
        "recorded",
        "ignored",
    ]
    assert got[0].job_id == before.job_id
    assert got[1].job_id == got[2].job_id == got[5].job_id != before.job_id
    assert got[3].job_id == got[4].job_id == before.job_id
    queued = {j.number: j for j in jobs.list_jobs(engine, states=("queued",))}
    assert (queued[1].head_sha, queued[1].deliveries) == ("b" * 40, 2)
    assert (queued[2].head_sha, queued[2].deliveries, queued[2].max_attempts) == ("d" * 40, 2, 4)
    assert jobs.count_deliveries(engine) == {
        "queued": 2,
        "coalesced": 2,
        "recorded": 1,
        "ignored": 1,
    }
    [closed] = merge_requests(engine)
    assert (closed.number, closed.state) == (3, "closed")
    # A running job is not touched: a new delivery queues a second one.
    claimed = jobs.claim(engine, "w", lease_seconds=30)
    assert claimed is not None
    again = accept_batch(engine, [Incoming(ev("n6", claimed.number, head="e"), "body-n6")])
    assert again[0].outcome == "queued"
    assert again[0].job_id != claimed.id
