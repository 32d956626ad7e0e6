"""The rule catalogue: rules/catalogue.toml, loaded and validated.

The catalogue is data a migration maintainer reads and edits: code, name,
severity per tier, message template, why, fix recipe, documentation link. This
module turns it into frozen values and refuses a broken file with a typed error
that names the rule and the key. ``python -m bot.judge.catalogue --markdown`` writes
the human page (docs/rules.md).
"""

from __future__ import annotations

import argparse
import re
import string
import sys
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urljoin

from bot.data import rules_dir
from bot.errors import InputError, MigbotError
from bot.findings import Severity, Tier

CATALOGUE_FILE = "catalogue.toml"
STATUSES = ("stable", "preview", "deprecated")

_ID = re.compile(r"MIG[0-9]{3}")
_SLUG = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
_VERSION = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_REQUIRED = (
    "id",
    "slug",
    "title",
    "status",
    "since",
    "severity",
    "vars",
    "message",
    "why",
    "fix",
    "doc",
)
_OPTIONAL = ("example", "tier_note", "category", "fix_rust")
_TOP_LEVEL = ("links", "redirects", "rule")
RETIRED_CATEGORY = "retired"
"""The category of rules whose findings are correct retirements under the
deprecation policy: the digest lists them with the machine types that went."""


# --- errors -------------------------------------------------------------------


class CatalogueError(MigbotError):
    """The catalogue is broken. Says where: file, rule and key when known."""

    def __init__(
        self, problem: str, *, source: str, rule: str | None = None, key: str | None = None
    ) -> None:
        self.problem = problem
        self.source = source
        self.rule = rule
        self.key = key
        where = source
        if rule is not None:
            where += f": rule {rule}"
        if key is not None:
            where += f": key '{key}'"
        super().__init__(f"{where}: {problem}")


class CatalogueNotFoundError(CatalogueError):
    """No catalogue file where one was looked for."""


class CatalogueSyntaxError(CatalogueError):
    """The file is not valid TOML."""


class MissingKeyError(CatalogueError):
    """A required key is absent (a rule key, a tier in ``severity``, ``links.base``)."""


class UnknownKeyError(CatalogueError):
    """A key the catalogue does not define (usually a typo)."""


class InvalidValueError(CatalogueError):
    """A value of the wrong type or shape."""


class UnknownSeverityError(InvalidValueError):
    """A severity other than error, warning, notice, info."""


class DuplicateRuleError(CatalogueError):
    """Two rules share an id or a slug."""


class UndeclaredVariableError(CatalogueError):
    """A message template uses a variable not listed in the rule's ``vars``."""


class UnknownDocKeyError(CatalogueError):
    """A rule's ``doc`` is not a key of ``[links]``."""


class BadRedirectError(CatalogueError):
    """A redirect points at no rule, or shadows a live code."""


_Fail = Callable[[type[CatalogueError], str, str], CatalogueError]
"""Builds the error for the rule being read: (kind, problem, key) -> error."""


class UnknownRuleError(MigbotError, LookupError):
    """No rule by that id, slug or redirect."""


class MessageVariablesError(InputError):
    """``render_message`` got variables that do not match the rule's ``vars``."""


# --- values -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    slug: str
    title: str
    status: str
    since: str
    severities: Mapping[Tier, Severity] = field(hash=False)
    message: str
    why: str
    fix: str
    doc: str
    """The key into ``[links]``."""
    doc_url: str
    """``doc`` resolved to an absolute URL against the links base."""
    vars: tuple[str, ...]
    example: str | None = None
    tier_notes: Mapping[Tier, str] = field(default_factory=dict, hash=False)
    """Optional per-tier sentence appended to the message (``tier_note``)."""
    category: str = ""
    """The group a rule belongs to (fields, versions, compat...): ``--select compat``."""
    fix_rust: str | None = None
    """The recipe written with the Rust bindings, for findings in Rust device code."""

    def fix_for(self, path: str) -> str:
        """The recipe in the language of the file the finding is in."""
        return self.fix_rust if self.fix_rust and path.endswith(".rs") else self.fix

    @property
    def code(self) -> str:
        """``MIG001 field-added-unversioned``: how reports name the rule."""
        return f"{self.id} {self.slug}"

    def severity(self, tier: Tier) -> Severity:
        return self.severities[tier]

    @property
    def fix_summary(self) -> str:
        """The first line of the fix recipe."""
        return first_line(self.fix)


@dataclass(frozen=True, slots=True)
class Catalogue:
    rules: tuple[Rule, ...]
    """In file order."""
    redirects: Mapping[str, str] = field(hash=False)
    """Old id or slug -> current id."""
    links: Mapping[str, str] = field(hash=False)
    """Doc key -> absolute URL."""
    links_base: str
    source: str
    by_id: Mapping[str, Rule] = field(init=False, hash=False, compare=False)
    by_slug: Mapping[str, Rule] = field(init=False, hash=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", MappingProxyType({r.id: r for r in self.rules}))
        object.__setattr__(self, "by_slug", MappingProxyType({r.slug: r for r in self.rules}))

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self.find(code) is not None

    def find(self, code: str) -> Rule | None:
        """The rule for an id, a slug, or a redirected old code; None if unknown."""
        code = self.redirects.get(code, code)
        return self.by_id.get(code) or self.by_slug.get(code)

    def get(self, code: str) -> Rule:
        rule = self.find(code)
        if rule is None:
            raise UnknownRuleError(f"no rule {code!r} in the catalogue ({self.source})")
        return rule

    def render_message(
        self, rule: Rule | str, /, tier: Tier | None = None, **values: object
    ) -> str:
        """Fill the rule's message template; with ``tier``, append that tier's note.

        Every declared variable the template uses must be given, and nothing
        undeclared may be: a mismatch is a bug in the analyzer, raised as
        `MessageVariablesError`.
        """
        if isinstance(rule, str):
            rule = self.get(rule)
        undeclared = sorted(set(values) - set(rule.vars))
        if undeclared:
            raise MessageVariablesError(
                f"{rule.id}: undeclared message variables {undeclared}; declared: {list(rule.vars)}"
            )
        missing = sorted(template_variables(rule.message) - set(values))
        if missing:
            raise MessageVariablesError(f"{rule.id}: missing message variables {missing}")
        text = rule.message.format(**values)
        note = rule.tier_notes.get(tier) if tier is not None else None
        if note:
            text += f"; {note.format(**values)}"
        return text


# --- loading ------------------------------------------------------------------


def default_catalogue_path() -> Path:
    """The shipped catalogue: the installed package's data, else the source tree.

    `bot.rulesdir.rules_dir` decides (``MIGBOT_RULES_DIR`` first, then
    bot/data/rules, a symlink to rules/ that is copied into the wheel).
    """
    return rules_dir() / CATALOGUE_FILE


def load_catalogue(path: Path | None = None, *, links_base: str | None = None) -> Catalogue:
    """Load and validate a catalogue file (or a directory holding catalogue.toml).

    ``links_base`` replaces ``[links].base``, so a deployment can point the
    documentation links at its own copy of the docs.
    """
    if path is None:
        return _default_catalogue(links_base)
    if path.is_dir():
        path = path / CATALOGUE_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogueNotFoundError("no such file", source=str(path)) from None
    return parse_catalogue(text, source=str(path), links_base=links_base)


@cache
def _default_catalogue(links_base: str | None) -> Catalogue:
    """The shipped catalogue, read once per process (it is immutable)."""
    return load_catalogue(default_catalogue_path(), links_base=links_base)


def parse_catalogue(
    text: str, *, source: str = "<catalogue>", links_base: str | None = None
) -> Catalogue:
    """Validate catalogue TOML text and build the `Catalogue`. Pure."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueSyntaxError(str(exc), source=source) from None
    for key in data:
        if key not in _TOP_LEVEL:
            raise UnknownKeyError(
                f"unknown top-level key; expected one of {list(_TOP_LEVEL)}", source=source, key=key
            )
    base, links = _links(data.get("links"), source, links_base)
    rules = tuple(
        _rule(raw, index, source, base, links)
        for index, raw in enumerate(_list_of_tables(data, "rule", source))
    )
    _check_unique(rules, source)
    redirects = _redirects(data.get("redirects", {}), rules, source)
    return Catalogue(
        rules=rules,
        redirects=MappingProxyType(redirects),
        links=MappingProxyType(links),
        links_base=base,
        source=source,
    )


def _links(raw: object, source: str, override: str | None) -> tuple[str, dict[str, str]]:
    if raw is None:
        raise MissingKeyError("the catalogue needs a [links] table", source=source, key="links")
    if not isinstance(raw, dict):
        raise InvalidValueError("must be a table", source=source, key="links")
    base = override if override is not None else raw.get("base")
    if base is None:
        raise MissingKeyError("[links] needs a base URL", source=source, key="links.base")
    if not isinstance(base, str) or not base:
        raise InvalidValueError("must be a non-empty string", source=source, key="links.base")
    if not base.endswith("/"):
        base += "/"
    links: dict[str, str] = {}
    for key, value in raw.items():
        if key == "base":
            continue
        if not isinstance(value, str):
            raise InvalidValueError("must be a string", source=source, key=f"links.{key}")
        links[key] = urljoin(base, value)
    return base, links


def _list_of_tables(data: Mapping[str, Any], key: str, source: str) -> list[dict[str, Any]]:
    raw = data.get(key, [])
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise InvalidValueError("must be an array of tables ([[rule]])", source=source, key=key)
    return raw


def _rule(
    raw: dict[str, Any], index: int, source: str, base: str, links: Mapping[str, str]
) -> Rule:
    name = str(raw["id"]) if isinstance(raw.get("id"), str) else f"#{index + 1}"

    def fail(kind: type[CatalogueError], problem: str, key: str) -> CatalogueError:
        return kind(problem, source=source, rule=name, key=key)

    for key in _REQUIRED:
        if key not in raw:
            raise fail(MissingKeyError, "required key is missing", key)
    for key in raw:
        if key not in _REQUIRED and key not in _OPTIONAL:
            raise fail(UnknownKeyError, "unknown key", key)

    def text(key: str) -> str:
        value = raw[key]
        if not isinstance(value, str) or not value.strip():
            raise fail(InvalidValueError, "must be a non-empty string", key)
        return value.strip()

    rule_id, slug, status, since = text("id"), text("slug"), text("status"), text("since")
    if not _ID.fullmatch(rule_id):
        raise fail(InvalidValueError, f"{rule_id!r} is not of the form MIG000", "id")
    if not _SLUG.fullmatch(slug):
        raise fail(InvalidValueError, f"{slug!r} is not a lower-case-dashed name", "slug")
    if status not in STATUSES:
        raise fail(InvalidValueError, f"{status!r} is not one of {list(STATUSES)}", "status")
    if not _VERSION.fullmatch(since):
        raise fail(InvalidValueError, f"{since!r} is not a version like 0.1.0", "since")

    variables = raw["vars"]
    if not isinstance(variables, list) or not all(isinstance(v, str) for v in variables):
        raise fail(InvalidValueError, "must be a list of names", "vars")
    for var in variables:
        if not _IDENT.fullmatch(var):
            raise fail(InvalidValueError, f"{var!r} is not a valid variable name", "vars")
    if len(set(variables)) != len(variables):
        raise fail(InvalidValueError, "a variable is listed twice", "vars")

    message = text("message")
    _check_template(message, variables, fail, "message")

    severity_map: dict[Tier, Severity] = {}
    for tier, value in _tier_table(raw["severity"], "severity", fail, required=True).items():
        try:
            severity_map[tier] = Severity(value)
        except ValueError:
            raise fail(
                UnknownSeverityError,
                f"{value!r} is not one of {[s.value for s in Severity]}",
                f"severity.{tier.value}",
            ) from None

    notes = _tier_table(raw.get("tier_note", {}), "tier_note", fail, required=False)
    for tier, note in notes.items():
        _check_template(note, variables, fail, f"tier_note.{tier.value}")

    doc = text("doc")
    if doc not in links:
        raise fail(UnknownDocKeyError, f"{doc!r} is not a key of [links]", "doc")
    example = text("example") if "example" in raw else None

    return Rule(
        id=rule_id,
        slug=slug,
        title=text("title"),
        status=status,
        since=since,
        severities=MappingProxyType(severity_map),
        message=message,
        why=_unwrap(text("why")),
        fix=text("fix"),
        doc=doc,
        doc_url=links[doc],
        vars=tuple(variables),
        example=example,
        tier_notes=MappingProxyType(notes),
        category=text("category") if "category" in raw else "",
        fix_rust=text("fix_rust") if "fix_rust" in raw else None,
    )


def _tier_table(raw: object, key: str, fail: _Fail, *, required: bool) -> dict[Tier, str]:
    if not isinstance(raw, dict):
        raise fail(InvalidValueError, "must be a table keyed by tier", key)
    out: dict[Tier, str] = {}
    for name, value in raw.items():
        try:
            tier = Tier(name)
        except ValueError:
            raise fail(
                UnknownKeyError, f"{name!r} is not a tier {[t.value for t in Tier]}", key
            ) from None
        if not isinstance(value, str):
            raise fail(InvalidValueError, "values must be strings", f"{key}.{name}")
        out[tier] = value
    if required:
        for tier in Tier:
            if tier not in out:
                raise fail(MissingKeyError, "every tier needs a severity", f"{key}.{tier.value}")
    return out


def template_variables(template: str) -> set[str]:
    """The root names a ``str.format`` template refers to (``{a.b}`` -> ``a``)."""
    names: set[str] = set()
    for _, name, spec, _ in string.Formatter().parse(template):
        if name is None:
            continue
        names.add(re.split(r"[.\[]", name, maxsplit=1)[0])
        if spec:
            names |= template_variables(spec)
    return names


def _check_template(template: str, variables: Sequence[str], fail: _Fail, key: str) -> None:
    try:
        used = template_variables(template)
    except ValueError as exc:
        raise fail(InvalidValueError, f"not a valid format template: {exc}", key) from None
    if "" in used or any(name.isdigit() for name in used):
        raise fail(InvalidValueError, "positional fields ({} or {0}) are not allowed", key)
    undeclared = sorted(used - set(variables))
    if undeclared:
        raise fail(
            UndeclaredVariableError,
            f"uses {undeclared}, not declared in vars {list(variables)}",
            key,
        )


def _unwrap(text: str) -> str:
    """Join the lines of a TOML paragraph (``why`` is prose, not layout)."""
    return "\n\n".join(
        " ".join(line.strip() for line in para.splitlines()) for para in text.split("\n\n")
    )


def _check_unique(rules: Sequence[Rule], source: str) -> None:
    seen_ids: dict[str, Rule] = {}
    seen_slugs: dict[str, Rule] = {}
    for rule in rules:
        if rule.id in seen_ids:
            raise DuplicateRuleError("id used by two rules", source=source, rule=rule.id, key="id")
        if rule.slug in seen_slugs:
            raise DuplicateRuleError(
                f"slug {rule.slug!r} already used by {seen_slugs[rule.slug].id}",
                source=source,
                rule=rule.id,
                key="slug",
            )
        seen_ids[rule.id] = rule
        seen_slugs[rule.slug] = rule


def _redirects(raw: object, rules: Sequence[Rule], source: str) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise InvalidValueError("must be a table", source=source, key="redirects")
    ids = {r.id for r in rules}
    live = ids | {r.slug for r in rules}
    out: dict[str, str] = {}
    for old, new in raw.items():
        key = f"redirects.{old}"
        if not isinstance(new, str):
            raise InvalidValueError("must be a rule id", source=source, key=key)
        if old in live:
            raise BadRedirectError(f"{old!r} is a live rule code", source=source, key=key)
        if new not in ids:
            raise BadRedirectError(f"target {new!r} is not a rule id", source=source, key=key)
        out[old] = new
    return out


def first_line(text: str) -> str:
    """The first non-empty line of a text, stripped."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


# --- the human page -----------------------------------------------------------

_TIER_ORDER = (Tier.BIDIRECTIONAL, Tier.FORWARD, Tier.BEST_EFFORT)
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")


def render_markdown(catalogue: Catalogue) -> str:
    """The catalogue as a Markdown page (docs/rules.md)."""
    out = [
        "# migbot rule catalogue",
        "",
        "<!-- Generated from rules/catalogue.toml by "
        "`python -m bot.judge.catalogue --markdown > docs/rules.md`; do not edit. -->",
        "",
        "Every kind of migration break migbot reports, with what goes wrong on the wire, "
        "a recipe for the fix, and the severity for each tier. *Forward* migration is "
        "old QEMU -> new QEMU; *backward* is new QEMU -> old QEMU, same machine type. "
        "Tiers: *bidirectional* devices (reachable from a versioned machine type on a "
        "KVM-capable target) must keep both; *forward* devices keep old -> new; "
        "*best-effort* devices must fail cleanly, never corrupt state.",
        "",
        "| Code | Name | Title | " + " | ".join(t.value for t in _TIER_ORDER) + " |",
        "|---|---|---|" + "---|" * len(_TIER_ORDER),
    ]
    ordered = sorted(catalogue.rules, key=lambda r: r.id)
    for rule in ordered:
        anchor = f"{rule.id}-{rule.slug}".lower()
        cells = " | ".join(rule.severity(t).value for t in _TIER_ORDER)
        out.append(f"| [{rule.id}](#{anchor}) | `{rule.slug}` | {_md_title(rule)} | {cells} |")
    for rule in ordered:
        out += ["", f"## {rule.id} {rule.slug}", "", f"**{_md_title(rule)}**", ""]
        status = f"Status: {rule.status}, since {rule.since}."
        severities = ", ".join(f"{t.value} {rule.severity(t).value}" for t in _TIER_ORDER)
        out += [status, f"Severity: {severities}.", ""]
        out += [f"Message: `{rule.message}`", ""]
        for tier in _TIER_ORDER:
            if tier in rule.tier_notes:
                out.append(f"- on {tier.value}: *{rule.tier_notes[tier]}*")
        if rule.tier_notes:
            out.append("")
        out += ["**Why.** " + rule.why, "", "**Fix.** " + rule.fix, ""]
        if rule.fix_rust:
            out += ["**Fix, in a Rust device.** " + rule.fix_rust, ""]
        if rule.example:
            out += [f"**Real case.** {rule.example}.", ""]
        out.append(f"Documentation: <{rule.doc_url}>")
    if catalogue.redirects:
        out += ["", "## Renamed codes", ""]
        out += [f"- `{old}` is now {new}" for old, new in sorted(catalogue.redirects.items())]
    return "\n".join(out) + "\n"


def _md_title(rule: Rule) -> str:
    return _MD_SPECIAL.sub(r"\\\1", rule.title)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.judge.catalogue", description="Validate or render the rule catalogue."
    )
    parser.add_argument("path", nargs="?", type=Path, help="catalogue file or rules/ directory")
    parser.add_argument("--markdown", action="store_true", help="print the catalogue page")
    parser.add_argument("--links-base", help="base URL for documentation links")
    args = parser.parse_args(argv)
    try:
        catalogue = load_catalogue(args.path, links_base=args.links_base)
    except CatalogueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.markdown:
        sys.stdout.write(render_markdown(catalogue))
    else:
        print(f"{catalogue.source}: {len(catalogue)} rules, valid")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
