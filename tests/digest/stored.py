"""Reviews stored the way the service stores them, over a few weeks.

Week W06 of 2026 (Feb 2 to Feb 9) is the week under test; earlier weeks feed
the per-week counts. Merges and closes go through `accept`, as webhook
deliveries do, so ``merged_at`` is set the real way.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from bot.forges.events import EventKind, ForgeEvent, MergeRequestRef
from bot.store.jobs import accept
from bot.store.reviews import ReviewRecord, save_review

MONDAY = datetime(2026, 2, 9, 8, 0, tzinfo=UTC)
"""The slot the weekly digest runs at; the week under test ends here."""
URL = "https://gitlab.example/qemu/qemu/-/merge_requests/{n}"
_deliveries = itertools.count(1)


def finding(
    rule: str, slug: str, severity: str, tier: str, path: str, vmsd: str, subject: str, **kw: Any
) -> dict[str, Any]:
    return {
        "rule_id": rule,
        "slug": slug,
        "title": slug,
        "severity": severity,
        "tier": tier,
        "path": path,
        "line": 10,
        "vmsd": vmsd,
        "subject": subject,
        "message": f"{slug}: {subject}",
        "fingerprint": f"{rule}-{path}-{subject}",
        **kw,
    }


E1000_FIELD = finding(
    "MIG001",
    "field-added-unversioned",
    "error",
    "bidirectional",
    "hw/net/e1000.c",
    "e1000",
    "mit_timer",
)
VIRTIO_SUB = finding(
    "MIG011",
    "subsection-always-sent",
    "error",
    "bidirectional",
    "hw/virtio/virtio-net.c",
    "virtio-net",
    "virtio-net/rss",
)
VIRTIO_DONE = finding(
    "MIG027",
    "compat-done-right",
    "info",
    "bidirectional",
    "hw/virtio/virtio-net.c",
    "virtio-net",
    "x-rss",
)
RISCV_BUMP = finding(
    "MIG008",
    "vmsd-version-bumped",
    "info",
    "forward",
    "hw/intc/riscv_aplic.c",
    "riscv_aplic",
    "version 3",
)
ARM_FIELD = finding(
    "MIG001",
    "field-added-unversioned",
    "error",
    "best-effort",
    "hw/arm/stellaris.c",
    "stellaris_sys",
    "extra",
)
X86_ACKED = finding(
    "MIG011",
    "subsection-always-sent",
    "notice",
    "bidirectional",
    "target/i386/machine.c",
    "cpu",
    "cpu/amx",
    override="migration::ack",
    base_severity="error",
)
VIRTIO_COMPAT = {
    "path": "hw/core/machine.c",
    "array": "hw_compat_10_2",
    "driver": "virtio-net-device",
    "property": "x-rss",
    "value": "off",
    "change": "added",
}


@dataclass(frozen=True)
class Review:
    n: int
    at: datetime
    verdict: str
    findings: tuple[dict[str, Any], ...] = ()
    title: str = ""
    author: str = "alice"
    labels: tuple[str, ...] = ()
    compat: tuple[dict[str, Any], ...] = ()
    overrides: tuple[dict[str, Any], ...] = ()


def review(engine: Engine, r: Review) -> None:
    save_review(
        engine,
        ReviewRecord(
            forge="gitlab",
            project="qemu/qemu",
            number=r.n,
            title=r.title or f"change {r.n}",
            author=r.author,
            url=URL.format(n=r.n),
            labels=r.labels,
            state="open",
            base_sha="a" * 40,
            head_sha=f"{r.n:040d}",
            verdict=r.verdict,
            previous_verdict=None,
            findings=r.findings,
            compat_entries=r.compat,
            overrides=r.overrides,
        ),
        now=r.at,
    )


def event(engine: Engine, n: int, kind: EventKind, at: datetime) -> None:
    accept(
        engine,
        ForgeEvent(
            "gitlab",
            f"delivery-{next(_deliveries)}",
            "Merge Request Hook",
            str(kind),
            kind,
            ref=MergeRequestRef("gitlab", "qemu/qemu", n),
        ),
        now=at,
    )


def seed(engine: Engine) -> None:
    """Nine merge requests; what the W06 digest must say about each is in the test."""
    w06 = MONDAY - timedelta(days=7)
    day = timedelta(days=1)
    # 1: open, still failing.
    review(
        engine,
        Review(
            1, w06 + 1 * day, "fail", (E1000_FIELD,), "e1000: migrate mit_timer", "alice", ("net",)
        ),
    )
    # 2: failed, then fixed with a subsection and a compat entry, merged in W06.
    review(engine, Review(2, w06 + day, "fail", (VIRTIO_SUB,), "virtio-net: RSS state", "bob"))
    review(
        engine,
        Review(
            2,
            w06 + 2 * day,
            "pass",
            (VIRTIO_DONE,),
            "virtio-net: RSS state",
            "bob",
            ("virtio",),
            (VIRTIO_COMPAT,),
        ),
    )
    event(engine, 2, EventKind.MERGED, w06 + 3 * day)
    # 3: merged with a maintainer's acknowledgement.
    review(
        engine,
        Review(
            3,
            w06 + 2 * day,
            "pass",
            (X86_ACKED,),
            "i386: AMX state",
            "carol",
            ("migration::ack",),
            (),
            (
                {
                    "label": "migration::ack",
                    "by": "paolo",
                    "honoured": True,
                    "effect": "errors and warnings shown as notices",
                },
            ),
        ),
    )
    event(engine, 3, EventKind.MERGED, w06 + 3 * day)
    # 4: merged clean (forward tier, version bump).
    review(engine, Review(4, w06 + 3 * day, "pass", (RISCV_BUMP,), "riscv: aplic v3", "dan"))
    event(engine, 4, EventKind.MERGED, w06 + 4 * day)
    # 5: merged with an error nobody acknowledged.
    review(engine, Review(5, w06 + 4 * day, "fail", (ARM_FIELD,), "stellaris: extra", "erin"))
    event(engine, 5, EventKind.MERGED, w06 + 5 * day)
    # 6: reviewed, nothing migration-related.
    review(engine, Review(6, w06 + 5 * day, "pass", (), "docs: typo", "fay"))
    # 7: failing in W06, merged only after the digest's slot: open at the period's end.
    review(engine, Review(7, w06 + 6 * day, "fail", (ARM_FIELD,), "stellaris: more", "erin"))
    event(engine, 7, EventKind.MERGED, MONDAY + 2 * day)
    # 8: merged two weeks before (W04): only in the per-week counts.
    review(engine, Review(8, w06 - 14 * day, "pass", (RISCV_BUMP,), "riscv: old", "dan"))
    event(engine, 8, EventKind.MERGED, w06 - 13 * day)
    # 9: closed without merging in W06.
    review(engine, Review(9, w06 + day, "fail", (E1000_FIELD,), "e1000: abandoned", "gus"))
    event(engine, 9, EventKind.CLOSED, w06 + 2 * day)
