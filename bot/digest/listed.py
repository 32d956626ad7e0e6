"""The mailing-list door of the digest: stored list reviews -> `ChangeInput`s.

Every version of a series is one review of one change, as pushes are for a
merge request: the verdicts run over the versions, the findings are the
latest version's, and those an earlier version had and the latest does not
are "fixed". A series has no merge state on the list, so it stays open.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine

from bot.digest.model import ChangeInput, FindingNote, OverrideNote
from bot.store.lists import ListReviewRecord, list_reviews_between

_VERDICTS = ("pass", "warn", "fail")


def change_from_versions(versions: Sequence[ListReviewRecord], until: datetime) -> ChangeInput:
    latest = versions[-1]
    findings = tuple(FindingNote.from_json(f) for f in latest.findings)
    current = {f.fingerprint for f in findings}
    earlier: dict[str, FindingNote] = {}
    for version in versions[:-1]:
        for raw in version.findings:
            note = FindingNote.from_json(raw)
            if note.fingerprint not in current:
                earlier.setdefault(note.fingerprint, note)
    overrides = [OverrideNote.from_json(o) for o in latest.overrides]
    named = {o.by for o in overrides}
    overrides += [
        OverrideNote(label="Acked-by", by=str(a.get("by")), honoured=bool(a.get("honoured")))
        for v in versions
        for a in v.acks
        if a.get("by") not in named
    ]
    return ChangeInput(
        key=f"list:{latest.series_key}",
        ref=f"v{latest.version} <{latest.message_id}>",
        title=latest.title,
        url=None,
        author=latest.author,
        labels=(),
        state="open",
        when=latest.created_at or until,
        verdicts=tuple(v.verdict for v in versions),
        findings=findings,
        earlier_findings=tuple(earlier.values()),
        overrides=tuple(overrides),
    )


def changes_from_lists(engine: Engine, since: datetime, until: datetime) -> list[ChangeInput]:
    """One change per series with a version reviewed in [since, until)."""
    grouped: dict[str, list[ListReviewRecord]] = {}
    for record in list_reviews_between(engine, since, until):
        if record.verdict in _VERDICTS:  # not the versions that could not be reviewed
            grouped.setdefault(record.series_key, []).append(record)
    return [change_from_versions(v, until) for v in grouped.values()]
