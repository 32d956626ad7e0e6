"""Every rule's examples (rules/examples/<slug>.toml) through the real pipeline.

Each case is committed over the mini QEMU tree in a real git repository, read
back with `change_from_range` and reviewed (or the tree audited) at the case's
tier, forced or computed from the tree; a dump comparison case compares its two
dumps. The rule ids reported must be exactly the expected ones, at the
catalogue's severity for that tier; a good case reports no warning or error at
all.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.findings import Severity
from bot.judge.catalogue import Catalogue, load_catalogue
from tests.fixtures.minirepo import MiniRepo, clone
from tests.judge.examples import EXAMPLES_DIR, Case, load_examples, placed_on, run_case

EXAMPLES = load_examples()
CASES = [case for _rule, cases in EXAMPLES.values() for case in cases]


def _param(case: Case) -> object:
    marks = [pytest.mark.xfail(reason=case.xfail, strict=True)] if case.xfail else []
    return pytest.param(case, id=case.id, marks=marks)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_example(case: Case, catalogue: Catalogue, mini_template: MiniRepo, tmp_path: Path) -> None:
    report = run_case(case, clone(mini_template, tmp_path))
    got = sorted({f.rule_id for f in report.findings})
    shown = [
        f"{f.rule_id} {f.severity.value} {f.path}:{f.line} {f.message}" for f in report.findings
    ]
    assert got == sorted(case.expect), "\n".join(shown)
    for f in report.findings:
        assert f.tier is case.tier, f"{f.rule_id}: judged at {f.tier}, not {case.tier}"
        assert f.severity is catalogue.get(f.rule_id).severity(case.tier), (
            f"{f.rule_id} reported as {f.severity.value}"
        )
    if case.kind == "good":
        loud = [f for f in report.findings if f.severity.at_least(Severity.WARNING)]
        assert loud == [], "\n".join(shown)
    for rule_id, needle in case.at.items():
        lines = [placed_on(case, f) for f in report.findings if f.rule_id == rule_id]
        assert any(needle in line for line in lines), f"{rule_id} placed on {lines}"


def test_every_rule_has_a_bad_and_a_good_example(catalogue: Catalogue) -> None:
    missing = []
    for rule in catalogue:
        if rule.slug not in EXAMPLES:
            missing.append(f"{rule.id}: no rules/examples/{rule.slug}.toml")
            continue
        rule_id, cases = EXAMPLES[rule.slug]
        kinds = {c.kind for c in cases}
        if rule_id != rule.id:
            missing.append(f"{rule.slug}.toml is about {rule_id}, not {rule.id}")
        elif kinds != {"bad", "good"}:
            missing.append(f"{rule.id}: only {sorted(kinds)} examples in {rule.slug}.toml")
    assert missing == [], "\n".join(missing)


def test_every_rule_is_reported_by_one_of_its_examples(catalogue: Catalogue) -> None:
    silent = [
        rule.id
        for rule in catalogue
        if rule.slug in EXAMPLES
        and not any(rule.id in c.expect and not c.xfail for c in EXAMPLES[rule.slug][1])
    ]
    assert silent == [], f"no passing example reports {silent}"


def test_bad_examples_show_a_problem(catalogue: Catalogue) -> None:
    """A bad case expects its own rule, or a warning or error (the near miss of an info rule)."""
    for case in CASES:
        if case.kind != "bad":
            continue
        loud = {
            r
            for r in case.expect
            if catalogue.get(r).severity(case.tier).at_least(Severity.WARNING)
        }
        assert case.rule in case.expect or loud, case.id


def test_examples_name_only_catalogue_rules(catalogue: Catalogue) -> None:
    for case in CASES:
        for rule_id in case.expect:
            assert rule_id in catalogue, f"{case.id}: unknown rule {rule_id}"


def test_example_files_are_the_catalogue_rules(catalogue: Catalogue) -> None:
    slugs = {r.slug for r in catalogue}
    files = {p.stem for p in EXAMPLES_DIR.glob("*.toml")}
    assert files <= slugs, f"examples of no rule: {sorted(files - slugs)}"
