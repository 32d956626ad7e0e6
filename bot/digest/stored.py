"""The store door: reviews kept by the service -> `ChangeInput`s, one per merge request.

Each merge request is seen as it stood at the period's end: merged only if it
was merged before then, its latest review the last one made before then.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from bot.digest.build import build
from bot.digest.listed import changes_from_lists
from bot.digest.model import ChangeInput, CompatNote, Digest, FindingNote, OverrideNote
from bot.digest.period import Period, weeks_before
from bot.store.digests import History, digest_history

_SIGILS = {"gitlab": "!", "github": "#"}


def change_from_history(history: History, until: datetime) -> ChangeInput:
    reviews = history.reviews
    latest = reviews[-1]
    mr = history.state
    state = "open"
    when = latest.created_at or until
    if mr is not None and mr.merged_at is not None and mr.merged_at < until:
        state, when = "merged", mr.merged_at
    elif mr is not None and mr.closed_at is not None and mr.closed_at < until:
        state, when = "closed", mr.closed_at
    elif mr is None and latest.state in ("merged", "closed"):
        state = latest.state
    verdicts = [r.verdict for r in reviews]
    if reviews[0].previous_verdict:  # the bot's verdict on the MR before this store knew it
        verdicts.insert(0, reviews[0].previous_verdict)
    findings = tuple(FindingNote.from_json(f) for f in latest.findings)
    current = {f.fingerprint for f in findings}
    earlier: dict[str, FindingNote] = {}
    for review in reviews[:-1]:
        for raw in review.findings:
            note = FindingNote.from_json(raw)
            if note.fingerprint not in current:
                earlier.setdefault(note.fingerprint, note)
    sigil = _SIGILS.get(latest.forge, "!")
    return ChangeInput(
        key=f"{latest.forge}:{latest.project}{sigil}{latest.number}",
        ref=f"{latest.project}{sigil}{latest.number}",
        title=(mr.title if mr and mr.title else latest.title),
        url=(mr.url if mr and mr.url else latest.url),
        author=(mr.author if mr and mr.author else latest.author),
        labels=(mr.labels if mr and mr.labels else latest.labels),
        state=state,
        when=when,
        verdicts=tuple(verdicts),
        findings=findings,
        earlier_findings=tuple(earlier.values()),
        compat=tuple(CompatNote.from_json(c) for c in latest.compat_entries),
        overrides=tuple(OverrideNote.from_json(o) for o in latest.overrides),
    )


def changes_from_store(engine: Engine, period: Period, weeks: int) -> list[ChangeInput]:
    """Every merge request and list series active in the period or the weeks the chart shows."""
    start = min(period.since, weeks_before(period.until, weeks)[0])
    histories = digest_history(engine, start, period.until)
    changes = [change_from_history(h, period.until) for h in histories]
    return changes + changes_from_lists(engine, start, period.until)


def digest_from_store(engine: Engine, period: Period, *, weeks: int, now: datetime) -> Digest:
    """The digest of ``period`` from the reviews the service stored."""
    return build(
        changes_from_store(engine, period, weeks),
        period,
        generated_at=now,
        source="reviews stored by migbot",
        weeks=weeks,
    )
