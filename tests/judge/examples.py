"""The per-rule examples of rules/examples/<slug>.toml, loaded and run.

Each file holds the ``[[case]]`` entries of one rule of the catalogue: a
change (files before and after, laid over the mini QEMU tree), the tier it is
judged at, and the rule ids that must be reported, exactly. ``bad`` cases show
the mistake, ``good`` ones the right way to make the same change.

A case names its files either with ``path``/``before``/``after`` or with
``[case.files."path"]`` tables holding:

* ``before``: the text at the base (default: the file's text in the example
  file's ``[base]`` table, else the mini tree's file, if any);
* ``after``: the text after the change; or
* ``replace``: ``[[old, new], ...]`` applied to ``before`` (each ``old`` must
  occur exactly once, so a case cannot silently stop changing anything); or
* ``delete = true``: the change removes the file.

A file's top-level ``[tree]`` table maps paths to texts that every case's tree
holds, at the base and after the change alike (the change does not touch
them): the other files a rule reads from the tree, such as the definition of a
function the changed file calls.

A file's top-level ``engine`` says what judges its cases: ``review`` (the
default: the change, through `bot.pipeline.review`), ``audit`` (the whole
tree after the change, through `bot.audit.run.audit`, for rules only a
whole-tree audit reports) or ``compare`` (two ``-dump-vmstate`` dumps, through
`bot.compare.dumps` as ``migbot compare SRC DST`` does).

The ``tier`` of a case is forced on every file, as ``--tier`` does. With
``tier_from = "tree"`` (review and audit) the tiers are computed from the mini
tree instead (Kconfig, meson, machine definitions: `bot.tiers`), as a run
without ``--tier`` does, and ``tier`` is the tier the tree must give the files
of the findings: rules such as MIG034 are reported only for files a versioned
machine type can contain, which a forced tier cannot say.

A ``compare`` case has no files: ``src`` and ``dst`` are the JSON texts of the
dumps of the QEMU migrated from and to, and ``tier`` is what ``--tier`` gives
the comparison. Findings of a dump comparison have no line; ``at`` then maps a
rule id to text its message must contain.

Release history, for rules that judge a change against what was released: a
case's ``history`` lists what happened before its base, oldest first. A version
(``"10.1.0"``) is a commit setting ``VERSION`` to it (a release); ``"change"``
is a commit of the behaviour the case's change fixes, and the change's message
then carries ``Fixes: <that commit>``. A file's ``released`` text is what every
release had (``released = false``: the releases did not have the file); the
base then sets ``VERSION`` to the development version after the last release.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.findings import Finding, Report, Side, Tier
from bot.pipeline import ReviewOptions
from bot.sources import change_from_range
from bot.sources.releases import parse_version
from tests.fixtures.minirepo import MINI_TREE, ROOT, MiniRepo, commit_change
from tests.harness import review

EXAMPLES_DIR = ROOT / "rules" / "examples"
KINDS = ("bad", "good")
ENGINES = ("review", "audit", "compare")
TIER_FROM = ("case", "tree")


class ExampleError(ValueError):
    """An example file is malformed: says which file and case."""


@dataclass(frozen=True, slots=True)
class FileSpec:
    path: str
    before: str | None
    after: str | None


@dataclass(frozen=True, slots=True)
class Case:
    source: str
    """The example file (its slug) the case comes from."""
    rule: str
    name: str
    kind: str
    tier: Tier
    files: tuple[FileSpec, ...]
    expect: frozenset[str]
    at: Mapping[str, str] = field(default_factory=dict)
    """Rule id -> text the line of its finding (a dump comparison: its message) must contain."""
    xfail: str | None = None
    engine: str = "review"
    tier_from: str = "case"
    """``case``: ``tier`` is forced on every file; ``tree``: computed from the tree."""
    src: Mapping[str, object] | None = None
    dst: Mapping[str, object] | None = None
    """The dumps of a ``compare`` case (source and destination QEMU)."""
    history: tuple[str, ...] = ()
    released: Mapping[str, str | None] = field(default_factory=dict)
    """Path -> its text in the releases of ``history`` (None: absent)."""
    tree: Mapping[str, str] = field(default_factory=dict)
    """Path -> text of the files of the example's ``[tree]``, untouched by the change."""

    @property
    def id(self) -> str:
        return f"{self.source}:{self.name}"


def _mini(path: str) -> str | None:
    target = MINI_TREE / path
    return target.read_text() if target.is_file() else None


def _file_spec(
    where: str, path: str, raw: Mapping[str, object], base: Mapping[str, str]
) -> FileSpec:
    unknown = set(raw) - {"before", "after", "replace", "delete", "released"}
    if unknown:
        raise ExampleError(f"{where}: file {path}: unknown keys {sorted(unknown)}")
    before = raw.get("before", base.get(path, _mini(path)))
    if before is not None and not isinstance(before, str):
        raise ExampleError(f"{where}: file {path}: 'before' must be text")
    ways = [k for k in ("after", "replace", "delete") if k in raw]
    if len(ways) != 1:
        raise ExampleError(f"{where}: file {path}: give exactly one of after, replace, delete")
    after: str | None
    if "after" in raw:
        if not isinstance(raw["after"], str):
            raise ExampleError(f"{where}: file {path}: 'after' must be text")
        after = raw["after"]
    elif "replace" in raw:
        if before is None:
            raise ExampleError(f"{where}: file {path}: 'replace' needs a 'before' text")
        after = before
        pairs = raw["replace"]
        if not isinstance(pairs, list) or not pairs:
            raise ExampleError(f"{where}: file {path}: 'replace' must be a list of [old, new]")
        for pair in pairs:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise ExampleError(f"{where}: file {path}: 'replace' entries are [old, new]")
            old, new = pair
            if after.count(old) != 1:
                raise ExampleError(
                    f"{where}: file {path}: {old!r} occurs {after.count(old)} times, not once"
                )
            after = after.replace(old, new)
    else:
        if raw["delete"] is not True or before is None:
            raise ExampleError(f"{where}: file {path}: 'delete = true' needs an existing file")
        after = None
    if before == after:
        raise ExampleError(f"{where}: file {path}: before and after are the same")
    return FileSpec(path, before, after)


def _case(
    source: str, rule: str, raw: Mapping[str, object], base: Mapping[str, str], engine: str
) -> Case:
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise ExampleError(f"{source}: a case without a name")
    where = f"{source}:{name}"
    allowed = {"name", "kind", "tier", "expect", "at", "xfail"}
    if engine == "compare":
        allowed |= {"src", "dst"}
    else:
        allowed |= {"path", "before", "after", "files", "tier_from", "history"}
    unknown = set(raw) - allowed
    if unknown:
        raise ExampleError(f"{where}: unknown keys {sorted(unknown)}")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise ExampleError(f"{where}: kind must be one of {KINDS}")
    try:
        tier = Tier(str(raw.get("tier")))
    except ValueError:
        raise ExampleError(f"{where}: tier must be one of {[t.value for t in Tier]}") from None
    tier_from = raw.get("tier_from", "case")
    if tier_from not in TIER_FROM:
        raise ExampleError(f"{where}: tier_from must be one of {TIER_FROM}")
    specs: list[FileSpec] = []
    if "path" in raw:
        one = {k: raw[k] for k in ("before", "after") if k in raw}
        specs.append(_file_spec(where, str(raw["path"]), one, base))
    files = raw.get("files", {})
    if not isinstance(files, dict):
        raise ExampleError(f"{where}: 'files' must be a table of paths")
    specs.extend(_file_spec(where, p, spec, base) for p, spec in files.items())
    src = dst = None
    if engine == "compare":
        src, dst = _dump(where, raw, "src"), _dump(where, raw, "dst")
    elif not specs:
        raise ExampleError(f"{where}: no files")
    expect = raw.get("expect")
    if not isinstance(expect, list) or not all(isinstance(e, str) for e in expect):
        raise ExampleError(f"{where}: 'expect' must be a list of rule ids")
    at = raw.get("at", {})
    if not isinstance(at, dict) or not set(at) <= set(expect):
        raise ExampleError(f"{where}: 'at' maps expected rule ids to text of their line")
    xfail = raw.get("xfail")
    if xfail is not None and not isinstance(xfail, str):
        raise ExampleError(f"{where}: 'xfail' is the reason, as text")
    history = raw.get("history", [])
    if not isinstance(history, list) or not all(
        isinstance(h, str) and (h == "change" or parse_version(h)) for h in history
    ):
        raise ExampleError(f"{where}: 'history' lists versions (X.Y.0) and \"change\"")
    released: dict[str, str | None] = {}
    for path, spec in files.items() if isinstance(files, dict) else ():
        if isinstance(spec, dict) and "released" in spec:
            text = spec["released"]
            if not (text is False or isinstance(text, str)) or not history:
                raise ExampleError(
                    f"{where}: file {path}: 'released' is text or false, with a history"
                )
            released[path] = text if isinstance(text, str) else None
    return Case(
        source=source,
        rule=rule,
        name=name,
        kind=str(kind),
        tier=tier,
        files=tuple(specs),
        expect=frozenset(expect),
        at=dict(at),
        xfail=xfail,
        engine=engine,
        tier_from=str(tier_from),
        src=src,
        dst=dst,
        history=tuple(history),
        released=released,
    )


def _dump(where: str, raw: Mapping[str, object], key: str) -> dict[str, object]:
    """A case's ``src`` or ``dst``: the JSON text of a dump, checked as `migbot compare`
    checks its files (an object of sections, each an object)."""
    text = raw.get(key)
    if not isinstance(text, str):
        raise ExampleError(f"{where}: '{key}' (the JSON text of a dump) is missing")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExampleError(f"{where}: '{key}' is not JSON: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ExampleError(f"{where}: '{key}' is not a vmstate dump (an object of sections)")
    return data


def load_examples(directory: Path = EXAMPLES_DIR) -> dict[str, tuple[str, list[Case]]]:
    """slug -> (rule id, cases), for every ``<slug>.toml`` of ``directory``."""
    out: dict[str, tuple[str, list[Case]]] = {}
    for path in sorted(directory.glob("*.toml")):
        slug = path.stem
        data = tomllib.loads(path.read_text())
        rule = data.get("rule")
        if not isinstance(rule, str):
            raise ExampleError(f"{path.name}: 'rule' (the rule id) is missing")
        base = data.get("base", {})
        if not isinstance(base, dict) or not all(isinstance(v, str) for v in base.values()):
            raise ExampleError(f"{path.name}: [base] maps paths to their text at the base")
        engine = data.get("engine", "review")
        if engine not in ENGINES:
            raise ExampleError(f"{path.name}: engine must be one of {ENGINES}")
        tree = data.get("tree", {})
        if not isinstance(tree, dict) or not all(isinstance(v, str) for v in tree.values()):
            raise ExampleError(f"{path.name}: [tree] maps paths to their text")
        cases = [
            replace(_case(slug, rule, c, base, engine), tree=tree) for c in data.get("case", [])
        ]
        names = [c.name for c in cases]
        if len(names) != len(set(names)):
            raise ExampleError(f"{path.name}: case names are not unique")
        out[slug] = (rule, cases)
    return out


def run_case(case: Case, repo: MiniRepo) -> Report:
    """Commit the case's before and after over the mini tree and review the change;
    a ``compare`` case compares its dumps (``repo`` is not used)."""
    if case.engine == "compare":
        return _compare(case)
    forced = case.tier if case.tier_from == "case" else None
    message, version = _commit_history(case, repo)
    before_files: dict[str, str | None] = dict(case.tree)
    before_files.update({f.path: f.before for f in case.files if f.before != _mini(f.path)})
    if version is not None:
        before_files.update({f.path: f.before for f in case.files}, VERSION=version)
    before = commit_change(repo, before_files, f"before: {case.id}")
    after = commit_change(repo, {f.path: f.after for f in case.files}, message)
    if case.engine == "audit":
        from bot.audit.run import audit

        return audit(repo.path, after, tier=forced, jobs=1).report
    change = change_from_range(repo.path, f"{before}..{after}")
    return review(change, ReviewOptions(tier=forced))


def _commit_history(case: Case, repo: MiniRepo) -> tuple[str, str | None]:
    """Commit the case's release history; its change's message, and the base's VERSION."""
    message, last = case.id, None
    for step in case.history:
        if step == "change":
            sha = commit_change(repo, {"docs/behaviour.txt": f"changed for {case.id}\n"})
            message = f'{case.id}\n\nFixes: {sha[:12]} ("the behaviour change")'
            continue
        files: dict[str, str | None] = {"VERSION": f"{step}\n"}
        if last is None:
            files.update(case.released)
        commit_change(repo, files, f"Update version for v{step} release")
        last = parse_version(step)
    if last is None:
        return message, None
    return message, f"{last[0]}.{last[1]}.50"


def _compare(case: Case) -> Report:
    """What `migbot compare src.json dst.json --tier T` reports (bot/cli/audit.py)."""
    from bot.audit.dumpreport import issues_to_report
    from bot.compare.dumps import compare_dumps

    assert case.src is not None and case.dst is not None
    issues = compare_dumps(case.src, case.dst)
    return issues_to_report(
        issues, src_name=f"{case.id}:src.json", dst_name=f"{case.id}:dst.json", tier=case.tier
    )


def side_text(case: Case, path: str, new_side: bool) -> str | None:
    spec = next((f for f in case.files if f.path == path), None)
    if spec is None:
        return None
    return spec.after if new_side else spec.before


def placed_on(case: Case, finding: Finding) -> str:
    """What a case's ``at`` looks in: the line of the finding, or for a dump
    comparison (no source lines) its message."""
    if case.engine == "compare":
        return finding.message
    text = side_text(case, finding.path, new_side=finding.side is not Side.OLD) or ""
    assert finding.line is not None, f"{finding.rule_id} has no line"
    return text.split("\n")[finding.line - 1]
