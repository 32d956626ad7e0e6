"""The project file (``.migbot.toml``) and rule selection, as ruff does it.

A project sets which rules run (``select``/``ignore`` by id, slug, id prefix or
category), the fail level, the override labels to try, the rule-doc base and a
baseline. The command line wins over the file. The file is read from the
repository's top level (or ``--config``); it is the user's own configuration,
so only the command line reads it, never the service (a merge request must not
be able to switch rules off for itself).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from bot.findings import Finding, Report
from bot.judge.catalogue import Catalogue, Rule

CONFIG_NAME = ".migbot.toml"
FAIL_LEVELS = ("error", "warning", "never")
_KEYS = ("select", "ignore", "fail-on", "labels", "doc-base", "baseline")


class ProjectConfigError(ValueError):
    """The project file or a selection is unusable; the message names what and where."""


@dataclass(frozen=True, slots=True)
class ProjectConfig:
    select: tuple[str, ...] = ()
    """Empty: every rule."""
    ignore: tuple[str, ...] = ()
    fail_on: str | None = None
    labels: tuple[str, ...] = ()
    doc_base: str | None = None
    """Where docs/rules.md is published; rule ids link to ``<doc_base>#mig001-slug``."""
    baseline: Path | None = None
    source: str = ""
    """The file it came from, empty for the defaults."""

    def merged(
        self,
        *,
        select: Sequence[str] = (),
        ignore: Sequence[str] = (),
        fail_on: str | None = None,
        labels: Sequence[str] = (),
        doc_base: str | None = None,
        baseline: Path | None = None,
    ) -> ProjectConfig:
        """The command line over the file: a given option replaces (select,
        fail-on, doc-base, baseline) or extends (ignore, labels) the file's."""
        return replace(
            self,
            select=tuple(select) or self.select,
            ignore=self.ignore + tuple(ignore),
            fail_on=fail_on or self.fail_on,
            labels=self.labels + tuple(labels),
            doc_base=doc_base or self.doc_base,
            baseline=baseline or self.baseline,
        )


def find_config(start: Path) -> Path | None:
    """``.migbot.toml`` in ``start`` or the nearest parent that has one, stopping at
    the repository's top (the first directory holding ``.git``)."""
    here = start.resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
        if (folder / ".git").exists():
            return None
    return None


def load_config(path: Path) -> ProjectConfig:
    """Read and validate a project file; `ProjectConfigError` names the bad key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProjectConfigError(f"cannot read {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProjectConfigError(f"{path}: not valid TOML: {exc}") from None
    table = data.get("tool", {}).get("migbot", data) if "tool" in data else data
    for key in table:
        if key not in _KEYS:
            raise ProjectConfigError(f"{path}: unknown key '{key}' (known: {', '.join(_KEYS)})")

    def words(key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ProjectConfigError(f"{path}: '{key}' must be a list of strings")
        return tuple(value)

    def text(key: str) -> str | None:
        value = table.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ProjectConfigError(f"{path}: '{key}' must be a non-empty string")
        return value

    fail_on = text("fail-on")
    if fail_on is not None and fail_on not in FAIL_LEVELS:
        raise ProjectConfigError(
            f"{path}: 'fail-on' is {fail_on!r}; choose one of {', '.join(FAIL_LEVELS)}"
        )
    baseline = text("baseline")
    return ProjectConfig(
        select=words("select"),
        ignore=words("ignore"),
        fail_on=fail_on,
        labels=words("labels"),
        doc_base=text("doc-base"),
        baseline=(path.parent / baseline) if baseline else None,
        source=str(path),
    )


@dataclass(frozen=True, slots=True)
class Selection:
    """Which rules a run reports, resolved against the catalogue once."""

    rule_ids: frozenset[str]

    def keeps(self, finding: Finding) -> bool:
        return finding.rule_id in self.rule_ids


def rules_matching(code: str, catalogue: Catalogue) -> list[Rule]:
    """The rules a selector names: an id, a slug, an old code, a category, or an
    id prefix (``MIG01``). Empty when it names none."""
    code = code.strip()
    found = catalogue.find(code)
    if found is not None:
        return [found]
    lowered = code.lower()
    by_category = [r for r in catalogue if r.category and r.category == lowered]
    if by_category:
        return by_category
    if code.upper().startswith("MIG"):
        return [r for r in catalogue if r.id.startswith(code.upper())]
    return []


def categories(catalogue: Catalogue) -> list[str]:
    return sorted({r.category for r in catalogue if r.category})


def selection(config: ProjectConfig, catalogue: Catalogue) -> Selection:
    """The rules left after ``select`` then ``ignore``; an unknown selector is an error."""
    chosen = _resolve(config.select, catalogue) if config.select else {r.id for r in catalogue}
    return Selection(frozenset(chosen - _resolve(config.ignore, catalogue)))


def _resolve(codes: Iterable[str], catalogue: Catalogue) -> set[str]:
    out: set[str] = set()
    for code in codes:
        rules = rules_matching(code, catalogue)
        if not rules:
            raise ProjectConfigError(
                f"no rule or category {code!r} (categories: {', '.join(categories(catalogue))})"
            )
        out.update(r.id for r in rules)
    return out


def apply_selection(report: Report, chosen: Selection) -> Report:
    """The report with only the selected rules' findings (and their tiers)."""
    kept = tuple(f for f in report.findings if chosen.keeps(f))
    if len(kept) == len(report.findings):
        return report
    paths = {f.path for f in kept}
    return replace(report, findings=kept, tiers=tuple(t for t in report.tiers if t[0] in paths))
