"""Fix recipes name the real device; a certain one-line fix is a suggestion and a SARIF fix."""

from __future__ import annotations

import json

from bot.report import render_inline
from bot.sources.commits import change_from_range
from tests.cli.conftest import ADD_FCR, UART, edit, run
from tests.fixtures.minirepo import MiniRepo
from tests.harness import review

NIC = "hw/net/acme_nic.c"


def test_the_recipe_names_the_device_field_and_newest_compat_array(
    repo: MiniRepo, env: dict[str, str]
) -> None:
    sha = edit(repo, UART, ADD_FCR)
    got = run(env, "check", "--repo", str(repo.path), sha, "--format", "json")
    (finding,) = [f for f in json.loads(got.out)["findings"] if f["rule_id"] == "MIG001"]
    fix = finding["fix"]
    for real in (
        "AcmeUARTState *s = opaque;",
        "static bool acme_uart_fcr_needed(void *opaque)",
        "static const VMStateDescription vmstate_acme_uart_fcr = {",
        '.name = "acme-uart/fcr",',
        "VMSTATE_UINT8(fcr, AcmeUARTState),",  # the field's own width, not the catalogue's
        '{ TYPE_ACME_UART, "x-migrate-fcr", "off" },   /* in hw_compat_10_2[], the newest */',
        # acme-uart is at version 1: the forward recipe names the next one.
        "raise `.version_id` (from 1 to 2) and add `VMSTATE_UINT8_V(fcr, AcmeUARTState, 2)`",
    ):
        assert real in fix, real
    for placeholder in ("FooState", "hw_compat_X_Y", "vmstate_foo", '"foo', "bar", "say from"):
        assert placeholder not in fix, placeholder


def test_the_version_recipe_names_the_versions_of_the_device(
    repo: MiniRepo, env: dict[str, str]
) -> None:
    """A field _V(3) in a VMSD left at version 1: raise it to 3, was 1."""
    sha = edit(
        repo,
        UART,
        (
            "        VMSTATE_UINT8(lcr, AcmeUARTState),\n",
            "        VMSTATE_UINT8(lcr, AcmeUARTState),\n"
            "        VMSTATE_UINT16_V(scr, AcmeUARTState, 3),\n",
        ),
    )
    got = run(env, "check", "--repo", str(repo.path), sha, "--format", "json")
    (finding,) = [f for f in json.loads(got.out)["findings"] if f["rule_id"] == "MIG006"]
    assert ".version_id = 3,                /* was 1 */" in finding["fix"]
    assert "VMSTATE_UINT16_V(scr, AcmeUARTState, 3)," in finding["fix"]


def test_a_subsection_name_fix_is_a_suggestion_and_a_sarif_fix(
    repo: MiniRepo, env: dict[str, str]
) -> None:
    text = repo.read(NIC).replace('.name = "acme-nic/wol",', '.name = "wol",')
    (repo.path / NIC).write_text(text)
    sha = repo.commit("hw/net: acme_nic: shorter name")
    line = text.splitlines().index('    .name = "wol",') + 1
    sarif = json.loads(run(env, "check", "--repo", str(repo.path), sha, "--format", "sarif").out)
    (result,) = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "MIG013"]
    (change,) = result["fixes"][0]["artifactChanges"]
    (swap,) = change["replacements"]
    assert swap["deletedRegion"] == {"startLine": line, "endLine": line}
    assert swap["insertedContent"]["text"] == '    .name = "acme-nic/wol",'
    report = review(change_from_range(repo.path, sha))
    (finding,) = [f for f in report.findings if f.rule_id == "MIG013"]
    assert finding.line == line, "the finding is on the .name line, where the comment goes"
    assert '```suggestion\n    .name = "acme-nic/wol",\n```' in render_inline(finding)
