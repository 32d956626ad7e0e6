"""One review job, start to end: fetch, review, place, reconcile, publish, store.

Synchronous: the worker runs it in its bounded thread pool. The decisions are
made by pure functions (`place_all`, `reconcile`); this module only wires
them to a `Forge` and the store.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from bot.compare.touched import compat_entries_touched
from bot.findings import Report
from bot.forges.contract import Forge, ForgeError, PublishResult, applied_labels
from bot.forges.events import MergeRequestRef
from bot.forges.fence import check as still_leased
from bot.judge.catalogue import Catalogue, load_catalogue
from bot.pipeline import ReviewOptions
from bot.review.bodies import inline_body, summary_body
from bot.review.placement import place_all
from bot.review.reconcile import DesiredComment, Verdict, previous_verdict, reconcile, verdict_of
from bot.service.keys import ReviewFn
from bot.settings import Settings, cache_dir
from bot.store.jobs import JobRecord
from bot.store.reviews import ReviewRecord, save_review, stored_finding, stored_override


@functools.cache
def _policy_labels() -> tuple[frozenset[str], str | None]:
    try:
        from bot.judge.policy import load_policy

        policy = load_policy()
    except Exception:  # no policy file: every label is asked about
        return frozenset(), None
    names = {name for name, _tier in policy.tier_labels} | {policy.ack_label}
    return frozenset(names), policy.affected_label


@dataclass
class JobContext:
    """What every job needs; built once per worker."""

    settings: Settings
    engine: Engine
    forges: Mapping[str, Forge]
    review_fn: ReviewFn
    catalogue: Catalogue | None = None
    override_labels: frozenset[str] = field(default_factory=frozenset)
    affected_label: str | None = None

    @classmethod
    def build(
        cls, settings: Settings, engine: Engine, forges: Mapping[str, Forge], review_fn: ReviewFn
    ) -> JobContext:
        try:
            catalogue: Catalogue | None = load_catalogue()
        except Exception:  # the summary still renders, without the rules' "why"
            catalogue = None
        labels, _affected = _policy_labels()
        return cls(
            settings=settings,
            engine=engine,
            forges=forges,
            review_fn=review_fn,
            catalogue=catalogue,
            override_labels=labels,
            affected_label=settings.affected_label or None,
        )

    def relevant_label(self) -> Callable[[str], bool]:
        if not self.override_labels:
            return lambda _name: True
        return lambda name: name in self.override_labels


@dataclass(frozen=True, slots=True)
class JobOutcome:
    ref: MergeRequestRef
    head_sha: str
    verdict: Verdict
    findings: int
    published: PublishResult | None
    review_id: int


def _tiers_json(report: Report) -> list[dict[str, Any]]:
    return [
        {"path": path, "tier": str(d.tier), "reason": d.reason, "source": d.source}
        for path, d in report.tiers
    ]


def run_review(
    ctx: JobContext, job: JobRecord, *, started_at: datetime | None = None
) -> JobOutcome:
    event = job.event
    ref = event.ref
    if ref is None:
        raise ForgeError(f"job {job.id} has no merge request")
    forge = ctx.forges.get(ref.forge)
    if forge is None:
        raise ForgeError(f"no {ref.forge} forge is configured")
    fetched = forge.get_change(ref)
    still_leased()  # a job that lost its lease stops here, before the review
    info = fetched.info
    labels = applied_labels(forge, ref, info.labels, relevant=ctx.relevant_label())
    options = ReviewOptions(labels=tuple(labels), cache_dir=cache_dir("tiers"))
    report = ctx.review_fn(fetched.change, options)
    verdict = verdict_of(report)
    existing = forge.list_bot_notes(ref)
    previous = previous_verdict(existing)
    placed = place_all(report.findings, fetched.change.files, ctx.settings.inline_cap)
    desired = [
        DesiredComment(
            p.finding.fingerprint,
            inline_body(p.finding, ctx.catalogue, rule_docs=ctx.settings.rule_docs),
            p.placement,
        )
        for p in placed.inline
    ]
    body = summary_body(
        report,
        verdict=verdict,
        previous=previous,
        head_sha=info.head_sha,
        unplaced=placed.summary,
        catalogue=ctx.catalogue,
        rule_docs=ctx.settings.rule_docs,
    )
    plan = reconcile(
        head_sha=info.head_sha,
        summary_body=body,
        desired=desired,
        present=[f.fingerprint for f in report.findings],
        existing=existing,
    )
    published = None
    still_leased()
    if info.state == "open":
        published = forge.publish(ref, info, plan)
        if ctx.settings.commit_status:
            forge.set_verdict(
                ref,
                info.head_sha,
                verdict,
                f"migbot: {verdict.label}, {len(report.findings)} findings",
            )
        affected = ctx.affected_label
        if affected and report.migration_affecting and affected not in info.labels:
            forge.add_labels(ref, [affected])
    still_leased()  # the new holder records the review
    review_id = save_review(
        ctx.engine,
        ReviewRecord(
            forge=ref.forge,
            project=ref.project,
            number=ref.number,
            title=info.title,
            author=info.author or event.author,
            url=info.url or event.url,
            labels=info.labels,
            state=info.state,
            base_sha=info.base_sha,
            head_sha=info.head_sha,
            verdict=str(verdict),
            previous_verdict=str(previous) if previous else None,
            findings=tuple(stored_finding(f) for f in report.findings),
            compat_entries=tuple(compat_entries_touched(fetched.change)),
            overrides=tuple(stored_override(o) for o in report.overrides),
            tiers=tuple(_tiers_json(report)),
            job_id=job.id,
            started_at=started_at,
        ),
    )
    return JobOutcome(ref, info.head_sha, verdict, len(report.findings), published, review_id)
