"""The shipped rule catalogue validates, and a broken one is refused with a typed error."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.findings import Severity, Tier
from bot.judge.catalogue import (
    BadRedirectError,
    Catalogue,
    CatalogueError,
    CatalogueNotFoundError,
    CatalogueSyntaxError,
    DuplicateRuleError,
    InvalidValueError,
    MessageVariablesError,
    MissingKeyError,
    UndeclaredVariableError,
    UnknownDocKeyError,
    UnknownKeyError,
    UnknownRuleError,
    UnknownSeverityError,
    load_catalogue,
    render_markdown,
    template_variables,
)

ROOT = Path(__file__).resolve().parent.parent
BASE = "https://www.qemu.org/docs/master/devel/migration/"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def test_shipped_catalogue_loads_from_the_source_tree_and_the_package_data(
    catalogue: Catalogue,
) -> None:
    assert len(catalogue) >= 32
    assert load_catalogue(ROOT / "rules").rules == catalogue.rules
    packaged = load_catalogue(ROOT / "bot" / "data" / "rules" / "catalogue.toml")
    assert packaged.rules == catalogue.rules


def test_ids_are_unique_stable_codes(catalogue: Catalogue) -> None:
    # Branch compat: MIG050..MIG059 are placeholders the lead renumbers at merge;
    # until then ids are checked unique and well-formed, not contiguous.
    ids = [r.id for r in catalogue]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"MIG\d{3}", i) for i in ids)


@pytest.mark.parametrize(
    ("code", "severities"),
    [
        ("MIG001", ("error", "error", "error")),
        ("MIG007", ("error", "error", "warning")),
        ("MIG008", ("warning", "info", "info")),
        ("MIG009", ("error", "notice", "notice")),
        ("MIG011", ("error", "notice", "info")),
        ("MIG012", ("notice", "info", "info")),
        ("MIG022", ("error", "warning", "notice")),
        ("MIG023", ("warning", "notice", "info")),
        ("MIG024", ("warning", "warning", "warning")),
        ("MIG027", ("info", "info", "info")),
    ],
)
def test_severity_per_tier(
    catalogue: Catalogue, code: str, severities: tuple[str, str, str]
) -> None:
    rule = catalogue.get(code)
    tiers = (Tier.BIDIRECTIONAL, Tier.FORWARD, Tier.BEST_EFFORT)
    assert tuple(rule.severity(t).value for t in tiers) == severities


def test_every_rule_has_the_three_tiers_and_the_texts(catalogue: Catalogue) -> None:
    for rule in catalogue:
        assert set(rule.severities) == set(Tier), rule.id
        assert all(isinstance(s, Severity) for s in rule.severities.values())
        assert rule.status == "stable"
        assert rule.since == "0.1.0"
        assert rule.title, rule.id
        assert rule.why, rule.id
        assert rule.fix_summary, rule.id
        assert template_variables(rule.message) <= set(rule.vars), rule.id


def test_every_why_says_which_direction_breaks_or_that_none_does(catalogue: Catalogue) -> None:
    words = re.compile(r"forward|backward|both directions|every migration|identical QEMU")
    for rule in catalogue:
        assert words.search(rule.why), rule.id


def test_every_doc_url_is_resolved_under_the_base(catalogue: Catalogue) -> None:
    for rule in catalogue:
        assert rule.doc_url.startswith(BASE), (rule.id, rule.doc_url)
        assert rule.doc_url == catalogue.links[rule.doc]
    assert catalogue.links["deprecated"] == "https://www.qemu.org/docs/master/about/deprecated.html"


def test_links_base_is_configurable() -> None:
    mirror = "https://docs.example.org/qemu/devel/migration/"
    catalogue = load_catalogue(links_base=mirror)
    assert catalogue.links_base == mirror
    assert catalogue.get("MIG011").doc_url == mirror + "main.html#subsections"
    assert catalogue.links["deprecated"] == "https://docs.example.org/qemu/about/deprecated.html"
    assert load_catalogue(links_base=mirror.rstrip("/")).links_base == mirror


def test_lookup_by_id_slug_and_redirect(tmp_path: Path, catalogue: Catalogue) -> None:
    assert catalogue.get("subsection-always-sent") is catalogue.get("MIG011")
    assert catalogue.by_slug["field-removed"].id == "MIG002"
    assert "MIG013" in catalogue
    assert "MIG999" not in catalogue
    with pytest.raises(UnknownRuleError):
        catalogue.get("MIG999")
    text = (ROOT / "rules" / "catalogue.toml").read_text()
    text = text.replace(
        "\n[redirects]\n", '\n[redirects]\n"MIG900" = "MIG011"\n"old-name" = "MIG002"\n'
    )
    path = tmp_path / "catalogue.toml"
    path.write_text(text)
    redirected = load_catalogue(path)
    assert redirected.get("MIG900").slug == "subsection-always-sent"
    assert redirected.get("old-name").id == "MIG002"


def test_render_message_fills_the_template_and_the_tier_note(catalogue: Catalogue) -> None:
    text = catalogue.render_message("MIG008", vmsd="e1000", old=2, new=3)
    assert text == "'e1000' version_id raised from 2 to 3"
    forward = catalogue.render_message("MIG008", tier=Tier.FORWARD, vmsd="e1000", old=2, new=3)
    assert forward.endswith("forward-only versioning, acceptable for this tier")
    bidi = catalogue.render_message(
        catalogue.get("MIG008"), tier=Tier.BIDIRECTIONAL, vmsd="e1000", old=2, new=3
    )
    assert "backward" in bidi
    entry = catalogue.render_message(
        "MIG019",
        driver="virtio-net-pci",
        property="host_uso",
        value="off",
        array="hw_compat_7_2",
        newest="hw_compat_8_0",
    )
    assert entry.startswith('compat entry { "virtio-net-pci", "host_uso", "off" } is in hw_')


def test_render_message_refuses_missing_or_undeclared_variables(catalogue: Catalogue) -> None:
    with pytest.raises(MessageVariablesError, match="missing"):
        catalogue.render_message("MIG008", vmsd="e1000", old=2)
    with pytest.raises(MessageVariablesError, match="undeclared"):
        catalogue.render_message("MIG008", vmsd="e1000", old=2, new=3, field="x")


def test_markdown_page_lists_every_rule(catalogue: Catalogue) -> None:
    page = render_markdown(catalogue)
    for rule in catalogue:
        assert f"## {rule.id} {rule.slug}" in page
        assert rule.doc_url in page
    assert page.count("\n| [MIG") == len(load_catalogue())


def test_docs_rules_md_is_up_to_date(catalogue: Catalogue) -> None:
    assert (ROOT / "docs" / "rules.md").read_text() == render_markdown(catalogue), (
        "regenerate: python -m bot.judge.catalogue --markdown > docs/rules.md"
    )


def test_cli_validates_and_reports_errors(tmp_path: Path) -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "bot.judge.catalogue"], cwd=ROOT, capture_output=True, text=True
    )
    assert ok.returncode == 0
    assert f"{len(load_catalogue())} rules, valid" in ok.stdout
    bad = tmp_path / "catalogue.toml"
    bad.write_text(
        _broken('severity = { bidirectional = "error"', 'severity = { bidirectional = "fatal"')
    )
    fail = subprocess.run(
        [sys.executable, "-m", "bot.judge.catalogue", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert fail.returncode == 1
    assert "rule MIG001: key 'severity.bidirectional'" in fail.stderr


# --- broken catalogues --------------------------------------------------------


def _broken(old: str, new: str, *, count: int = 1) -> str:
    text = (ROOT / "rules" / "catalogue.toml").read_text()
    assert old in text, old
    return text.replace(old, new, count)


def _load(tmp_path: Path, text: str) -> Catalogue:
    path = tmp_path / "catalogue.toml"
    path.write_text(text)
    return load_catalogue(path)


@pytest.mark.parametrize(
    ("old", "new", "error", "rule", "key"),
    [
        (
            'severity = { bidirectional = "warning", forward = "info"',
            'severity = { bidirectional = "warn", forward = "info"',
            UnknownSeverityError,
            "MIG008",
            "severity.bidirectional",
        ),
        (
            'severity = { bidirectional = "error", forward = "error", best-effort = "error" }',
            'severity = { bidirectional = "error", forward = "error" }',
            MissingKeyError,
            "MIG001",
            "severity.best-effort",
        ),
        (
            'severity = { bidirectional = "error", forward = "error", best-effort = "error" }',
            'severity = { bidirectional = "error", forward = "error", backward = "error" }',
            UnknownKeyError,
            "MIG001",
            "severity",
        ),
        (
            'slug = "field-removed"\ntitle',
            "title",
            MissingKeyError,
            "MIG002",
            "slug",
        ),
        (
            'id = "MIG003"',
            'id = "MIG002"',
            DuplicateRuleError,
            "MIG002",
            "id",
        ),
        (
            'slug = "field-changed"',
            'slug = "field-removed"',
            DuplicateRuleError,
            "MIG004",
            "slug",
        ),
        (
            "message = \"fields of '{vmsd}' reordered: {fields}\"",
            "message = \"fields of '{vmsd}' reordered: {fields} at {line}\"",
            UndeclaredVariableError,
            "MIG005",
            "message",
        ),
        (
            'best-effort = "a clean failure, accepted for unversioned machines; say',
            'best-effort = "below {minimum}; say',
            UndeclaredVariableError,
            "MIG009",
            "tier_note.best-effort",
        ),
        (
            'doc = "main#versions"',
            'doc = "main#version"',
            UnknownDocKeyError,
            "MIG006",
            "doc",
        ),
        (
            'status = "stable"',
            'status = "beta"',
            InvalidValueError,
            "MIG001",
            "status",
        ),
        (
            'id = "MIG001"\nslug = "field-added-unversioned"',
            'id = "MIG001"\nslug = "field-added-unversioned"\nseverty = "error"',
            UnknownKeyError,
            "MIG001",
            "severty",
        ),
        (
            'vars = ["vmsd"]\nmessage = "field list',
            'vars = "vmsd"\nmessage = "field list',
            InvalidValueError,
            "MIG026",
            "vars",
        ),
        (
            "message = \"'{vmsd}' version_id lowered from {old} to {new}\"",
            "message = \"'{vmsd}' version_id lowered from {} to {new}\"",
            InvalidValueError,
            "MIG028",
            "message",
        ),
    ],
    ids=[
        "unknown-severity",
        "missing-tier",
        "unknown-tier",
        "missing-key",
        "duplicate-id",
        "duplicate-slug",
        "undeclared-variable",
        "undeclared-variable-in-tier-note",
        "unknown-doc-key",
        "unknown-status",
        "unknown-key",
        "vars-not-a-list",
        "positional-field",
    ],
)
def test_broken_rule_gives_a_typed_error_naming_rule_and_key(
    tmp_path: Path, old: str, new: str, error: type[CatalogueError], rule: str, key: str
) -> None:
    with pytest.raises(error) as caught:
        _load(tmp_path, _broken(old, new))
    assert caught.value.rule == rule
    assert caught.value.key == key
    assert f"rule {rule}: key '{key}'" in str(caught.value)
    assert str(tmp_path / "catalogue.toml") in str(caught.value)


def test_unknown_top_level_table(tmp_path: Path) -> None:
    with pytest.raises(UnknownKeyError, match="top-level"):
        _load(tmp_path, _broken("\n[redirects]\n", "\n[redirect]\n"))


def test_links_need_a_base(tmp_path: Path) -> None:
    with pytest.raises(MissingKeyError) as caught:
        _load(tmp_path, _broken('base = "https://www.qemu.org/docs/master/devel/migration/"\n', ""))
    assert caught.value.key == "links.base"


@pytest.mark.parametrize(
    ("redirect", "match"),
    [('"MIG900" = "MIG999"', "not a rule id"), ('"MIG001" = "MIG002"', "live rule code")],
)
def test_bad_redirects(tmp_path: Path, redirect: str, match: str) -> None:
    with pytest.raises(BadRedirectError, match=match):
        _load(tmp_path, _broken("\n[redirects]\n", f"\n[redirects]\n{redirect}\n"))


def test_not_toml(tmp_path: Path) -> None:
    with pytest.raises(CatalogueSyntaxError):
        _load(tmp_path, "[[rule]\nid =")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogueNotFoundError):
        load_catalogue(tmp_path)
