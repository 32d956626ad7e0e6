"""deploy/: the GitLab-only and GitHub-only variants, the digest's one clock, pinned installs.

The Kubernetes variants are rendered with ``kubectl kustomize`` (offline) and
their settings checked by `migbot doctor`'s own checks: each variant is a
working single-forge setup with no edit of the base files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.service.doctor import digest_problems, forge_problems
from bot.settings import load_settings
from tests.ship.shiptools import ROOT, require_tool, run

DEPLOY = ROOT / "deploy"


def render(folder: Path) -> list[dict[str, Any]]:
    kubectl = require_tool("kubectl", "Debian package kubernetes-client")
    proc = run([kubectl, "kustomize", str(folder)])
    assert proc.returncode == 0, proc.stderr
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


def of_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (doc,) = [d for d in docs if d["kind"] == kind]
    return doc


def settings_of(docs: list[dict[str, Any]], workload: str) -> dict[str, str]:
    env = {**of_kind(docs, "ConfigMap")["data"], **of_kind(docs, "Secret")["stringData"]}
    spec = of_kind(docs, workload)["spec"]
    pod = spec["jobTemplate"]["spec"]["template"] if workload == "CronJob" else spec["template"]
    for item in pod["spec"]["containers"][0].get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
    return {k: str(v) for k, v in env.items() if k.startswith("MIGBOT_")}


@pytest.mark.parametrize(
    ("variant", "gitlab", "github"),
    [("k8s", True, True), ("k8s-gitlab-only", True, False), ("k8s-github-only", False, True)],
)
def test_each_variant_is_a_consistent_setup(variant: str, gitlab: bool, github: bool) -> None:
    docs = render(DEPLOY / variant)
    served = load_settings(environ=settings_of(docs, "Deployment"))
    assert (served.gitlab_enabled, served.github_enabled) == (gitlab, github)
    assert forge_problems(served, files=False) == []  # the key is mounted in the pod
    assert served.digest_schedule == "off", "the CronJob is the digest's only clock"
    digest = load_settings(environ=settings_of(docs, "CronJob"))
    assert digest.digest_project, "the digest CronJob names its project"
    assert digest.digest_forge == ("gitlab" if gitlab else "github")
    assert digest_problems(digest) == []
    volumes = of_kind(docs, "Deployment")["spec"]["template"]["spec"]["volumes"]
    assert any(v["name"] == "github-app-key" for v in volumes) == github


def _unit_env(name: str) -> dict[str, str]:
    out = {}
    for line in (DEPLOY / "systemd" / name).read_text(encoding="utf-8").splitlines():
        if line.startswith("Environment="):
            key, _, value = line.removeprefix("Environment=").partition("=")
            out[key] = value
    return out


def test_systemd_timer_is_the_only_clock_and_names_the_project() -> None:
    assert _unit_env("migbot.service")["MIGBOT_DIGEST_SCHEDULE"] == "off"
    digest = _unit_env("migbot-digest.service")
    assert digest["MIGBOT_DIGEST_PROJECT"] == "qemu-project/qemu"
    assert digest["MIGBOT_DIGEST_FORGE"] == "gitlab"


def test_image_installs_from_the_constraints_file() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "-c /wheels/constraints.txt" in text
    pins = [line for line in (ROOT / "constraints.txt").read_text().splitlines() if "==" in line]
    names = {line.split("==")[0] for line in pins}
    for needed in ("click", "aiohttp", "sqlalchemy", "psycopg", "rich", "libclang"):
        assert needed in names, needed
    assert all(line.count("==") == 1 and not line.startswith(" ") for line in pins)
