"""Facts held against the last release as well as against the parent.

A break is a break only for streams some QEMU actually sends: a VMSD, field
or subsection born after the last release (``VERSION`` X.Y.0 along the base's
first-parent history) has no released counterpart, and a change that brings a
VMSD back to the stream of the last release repairs what the cycle broke
rather than breaking it. Such wire facts are wrapped in `F.Unreleased`, which
the catalogue reports at info. Consistency facts (a field never sent, a
missing terminator) are bugs whatever the release, and are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from bot.change import Version
from bot.compare import facts as F
from bot.compare.context import Context, FileModels
from bot.compare.engine import compare
from bot.scanner.model import FileModel, VmsdModel

WIRE_FACTS: tuple[type[F.Fact], ...] = (
    F.FieldAdded,
    F.FieldRemoved,
    F.FieldChanged,
    F.FieldsReordered,
    F.VersionBumped,
    F.VersionLowered,
    F.MinimumVersionRaised,
    F.VmsdRenamed,
    F.VmsdRemoved,
    F.SubsectionAdded,
    F.SubsectionRemoved,
    F.NeededRemoved,
    F.UnmigratableAdded,
)
"""What changes the stream between two QEMU versions."""

ReleasedModel = Callable[[FileModels], FileModel | None]
"""The scan of a changed file as the last release had it (None: no such file)."""


def against_release(
    facts: Sequence[F.Fact],
    pairs: Sequence[FileModels],
    released_model: ReleasedModel,
    release: str,
    ctx: Context,
) -> list[F.Fact]:
    """``facts`` with the wire facts no release can observe wrapped in `F.Unreleased`."""
    by_path = {p.path: p for p in pairs}
    seen: dict[str, _Release | None] = {}
    out: list[F.Fact] = []
    for fact in facts:
        pair = by_path.get(fact.path)
        if pair is None or not isinstance(fact, WIRE_FACTS) or not fact.vmsd:
            out.append(fact)
            continue
        if pair.path not in seen:
            model = released_model(pair)
            seen[pair.path] = None if model is None else _Release(model, pair, ctx)
        rel = seen[pair.path]
        restored = _restored(fact, rel)
        if rel is None or not rel.has(fact.vmsd) or _born_after(fact, rel) or restored:
            out.append(
                F.Unreleased(
                    path=fact.path,
                    line=fact.line,
                    side=fact.side,
                    vmsd=fact.vmsd,
                    subject=fact.subject,
                    inner=fact,
                    release=release,
                    restored=restored,
                )
            )
        else:
            out.append(fact)
    return out


class _Release:
    """One file at the release: its VMSDs by section name, and how the head differs."""

    def __init__(self, model: FileModel, pair: FileModels, ctx: Context) -> None:
        self.vmsds: dict[str, VmsdModel] = {}
        for v in model.vmsds:
            self.vmsds.setdefault(ctx.name_of(v, model, old=True), v)
            self.vmsds.setdefault(v.ident, v)
        # A section name the release spelt through a macro it could not resolve is
        # still the same VMSD: the C identifier of the change's VMSD finds it.
        for side, old in ((pair.new, False), (pair.old, True)):
            if side is None:
                continue
            for v in side.vmsds:
                if v.ident in self.vmsds:
                    self.vmsds.setdefault(ctx.name_of(v, side, old=old), self.vmsds[v.ident])
        self._pair = pair
        self._model = model
        self._ctx = ctx
        self._differs: set[str] | None = None

    def has(self, name: str) -> bool:
        return name in self.vmsds

    def differs(self, name: str) -> bool:
        """Whether the head's stream of VMSD ``name`` differs from the release's."""
        if self._differs is None:
            every = frozenset(range(1, _last_line(self._model, self._pair.new) + 1))
            head = FileModels(
                path=self._pair.path,
                old=self._model,
                new=self._pair.new,
                changed_old=every,
                changed_new=every,
            )
            self._differs = {
                f.vmsd for f in compare([head], self._ctx) if isinstance(f, WIRE_FACTS) and f.vmsd
            }
        return name in self._differs


def _last_line(*models: FileModel | None) -> int:
    """The last line anything of the models sits on: every line up to it counts as changed."""
    ends = [0]
    for m in models:
        if m is None:
            continue
        ends.extend(v.end_line for v in m.vmsds)
        ends.extend(f.end_line for f in m.functions)
        ends.extend(a.line + len(a.entries) for a in m.compat_arrays)
        ends.extend(p.line for p in m.properties)
    return max(ends)


def _restored(fact: F.Fact, rel: _Release | None) -> bool:
    return (
        rel is not None
        and fact.vmsd is not None
        and rel.has(fact.vmsd)
        and not rel.differs(fact.vmsd)
    )


def _born_after(fact: F.Fact, rel: _Release) -> bool:
    """A field or subsection the release's VMSD did not have (it came in this cycle)."""
    assert fact.vmsd is not None
    released = rel.vmsds[fact.vmsd]
    match fact:
        case F.FieldRemoved(field=f) | F.FieldChanged(old=f):
            return f.name not in {x.name for x in released.fields}
        case F.SubsectionRemoved(sub_name=name):
            return not rel.has(name)
    return False


FixedIn = tuple[str, Version, Version]
"""A commit a ``Fixes:`` trailer names, the release that first shipped it, and the
release before that one."""

_ARRAY_VERSION = re.compile(r"_(\d+)_(\d+)$")
_FIXES = re.compile(r"^\s*Fixes:\s*(?:commit\s+)?([0-9a-fA-F]{7,40})\b", re.M | re.I)


def fixed_commits(messages: Sequence[str]) -> list[str]:
    """The commits the change's ``Fixes:`` trailers name."""
    return list(dict.fromkeys(m.group(1) for text in messages for m in _FIXES.finditer(text)))


def placed_for_released_change(facts: Sequence[F.Fact], fixed: Sequence[FixedIn]) -> list[F.Fact]:
    """An entry added to an older array than the newest is right when the change it
    undoes was already released: machine types up to the release before it must
    keep the old behaviour, and newer released ones already have the new one."""
    out: list[F.Fact] = []
    for fact in facts:
        if isinstance(fact, F.CompatEntryAdded) and fact.newest and fact.entry.array != fact.newest:
            m = _ARRAY_VERSION.search(fact.entry.array)
            version = (int(m.group(1)), int(m.group(2))) if m else None
            for sha, shipped, before in fixed:
                if version is not None and before[:2] == version:
                    name = ".".join(str(n) for n in shipped)
                    fact = replace(fact, released_change=f"{name}, {sha}")
                    break
        out.append(fact)
    return out
