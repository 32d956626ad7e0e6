"""`Digest` <-> JSON (``--format json``, ``GET /digest.json``, the stored digest).

Written out by hand, type by type: the JSON is a published format (schema
``DIGEST_SCHEMA``), so a renamed attribute must not silently rename a key.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.digest.model import (
    CompatArray,
    CompatLine,
    Count,
    Digest,
    DigestLine,
    Outcome,
    OutcomeGroup,
    Patch,
    RetiredLine,
    TierGroup,
    WeekCount,
)

DIGEST_SCHEMA = 1


def _patch(p: Patch) -> dict[str, Any]:
    return {"sha": p.sha, "subject": p.subject, "author": p.author, "url": p.url}


def _line(x: DigestLine) -> dict[str, Any]:
    return {
        "ref": x.ref,
        "title": x.title,
        "url": x.url,
        "author": x.author,
        "labels": list(x.labels),
        "state": x.state,
        "when": x.when.isoformat(),
        "outcome": x.outcome.value,
        "tier": x.tier,
        "vmsds": list(x.vmsds),
        "what": list(x.what),
        "compat": list(x.compat),
        "acknowledged": list(x.acknowledged),
        "errors": x.errors,
        "warnings": x.warnings,
        "fixed": list(x.fixed),
        "patches": [_patch(p) for p in x.patches],
        "via": x.via,
    }


def _compat_line(e: CompatLine) -> dict[str, Any]:
    return {"entry": e.entry, "change": e.change, "ref": e.ref, "url": e.url, "state": e.state}


def _compat_from(e: Mapping[str, Any]) -> CompatLine:
    return CompatLine(str(e["entry"]), str(e["change"]), str(e["ref"]), e.get("url"), e["state"])


def _count(c: Count) -> dict[str, Any]:
    return {
        "name": c.name,
        "changes": c.changes,
        "findings": c.findings,
        "title": c.title,
        "weekly": list(c.weekly),
    }


def digest_to_json(d: Digest) -> dict[str, Any]:
    return {
        "schema": DIGEST_SCHEMA,
        "key": d.key,
        "title": d.title,
        "since": d.since.isoformat(),
        "until": d.until.isoformat(),
        "generated_at": d.generated_at.isoformat(),
        "source": d.source,
        "reviewed": d.reviewed,
        "affecting": d.affecting,
        "groups": [
            {
                "outcome": g.outcome.value,
                "title": g.title,
                "count": g.count,
                "tiers": [{"tier": t.tier, "lines": [_line(x) for x in t.lines]} for t in g.tiers],
            }
            for g in d.groups
        ],
        "retired": [
            {"what": r.what, "ref": r.ref, "url": r.url, "state": r.state} for r in d.retired
        ],
        "compat": [
            {
                "array": a.array,
                "added": [_compat_line(e) for e in a.added],
                "removed": [_compat_line(e) for e in a.removed],
            }
            for a in d.compat
        ],
        "weeks": [
            {
                "start": w.start.isoformat(),
                "label": w.label,
                "counts": dict(w.counts),
                "total": w.total,
            }
            for w in d.weeks
        ],
        "subsystems": [_count(c) for c in d.subsystems],
        "rules": [_count(c) for c in d.rules],
    }


def _strs(raw: Any) -> tuple[str, ...]:
    return tuple(str(x) for x in raw or ())


def _line_from(x: Mapping[str, Any]) -> DigestLine:
    return DigestLine(
        ref=str(x["ref"]),
        title=str(x["title"]),
        url=x.get("url"),
        author=x.get("author"),
        labels=_strs(x.get("labels")),
        state=str(x["state"]),
        when=datetime.fromisoformat(x["when"]),
        outcome=Outcome(x["outcome"]),
        tier=str(x["tier"]),
        vmsds=_strs(x.get("vmsds")),
        what=_strs(x.get("what")),
        compat=_strs(x.get("compat")),
        acknowledged=_strs(x.get("acknowledged")),
        errors=int(x.get("errors", 0)),
        warnings=int(x.get("warnings", 0)),
        fixed=_strs(x.get("fixed")),
        patches=tuple(
            Patch(str(p["sha"]), str(p["subject"]), p.get("author"), p.get("url"))
            for p in x.get("patches", ())
        ),
        via=x.get("via"),
    )


def _count_from(c: Mapping[str, Any]) -> Count:
    return Count(
        str(c["name"]),
        int(c["changes"]),
        int(c.get("findings", 0)),
        c.get("title", ""),
        tuple(int(n) for n in c.get("weekly", ())),
    )


def digest_from_json(data: Mapping[str, Any]) -> Digest:
    return Digest(
        key=str(data["key"]),
        title=str(data["title"]),
        since=datetime.fromisoformat(data["since"]),
        until=datetime.fromisoformat(data["until"]),
        generated_at=datetime.fromisoformat(data["generated_at"]),
        source=str(data.get("source", "")),
        reviewed=int(data.get("reviewed", 0)),
        groups=tuple(
            OutcomeGroup(
                Outcome(g["outcome"]),
                tuple(
                    TierGroup(str(t["tier"]), tuple(_line_from(x) for x in t["lines"]))
                    for t in g["tiers"]
                ),
            )
            for g in data.get("groups", ())
        ),
        retired=tuple(
            RetiredLine(str(r["what"]), str(r["ref"]), r.get("url"), str(r.get("state", "")))
            for r in data.get("retired", ())
        ),
        compat=tuple(
            CompatArray(
                str(a["array"]),
                tuple(_compat_from(e) for e in a.get("added", ())),
                tuple(_compat_from(e) for e in a.get("removed", ())),
            )
            for a in data.get("compat", ())
        ),
        weeks=tuple(
            WeekCount(
                datetime.fromisoformat(w["start"]),
                str(w["label"]),
                tuple((str(k), int(v)) for k, v in w["counts"].items()),
            )
            for w in data.get("weeks", ())
        ),
        subsystems=tuple(_count_from(c) for c in data.get("subsystems", ())),
        rules=tuple(_count_from(c) for c in data.get("rules", ())),
    )
