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
    assert digest.digest_target_forge == ("gitlab" if gitlab else "github")
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


def _env_file(name: str) -> dict[str, str]:
    """The settings an env example sets as shipped (commented lines are off)."""
    out = {}
    for line in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key.startswith("MIGBOT_"):
            out[key] = value
    return out


ENV_VARIANTS = [
    ("migbot.env.example", True, True),
    ("migbot.env.gitlab-only.example", True, False),
    ("migbot.env.github-only.example", False, True),
]


@pytest.mark.parametrize(("env_file", "gitlab", "github"), ENV_VARIANTS)
def test_systemd_with_each_env_example_is_a_consistent_setup(
    env_file: str, gitlab: bool, github: bool
) -> None:
    """The units are the same for every variant: only the env file is chosen."""
    env = _env_file(env_file)
    served = load_settings(environ=_unit_env("migbot.service") | env)
    assert (served.gitlab_enabled, served.github_enabled) == (gitlab, github)
    assert forge_problems(served, files=False) == []
    assert served.digest_schedule == "off", "the timer is the digest's only clock"
    digest = load_settings(environ=_unit_env("migbot-digest.service") | env)
    assert digest.digest_project, "the digest names its project"
    assert digest.digest_target_forge == ("gitlab" if gitlab else "github")
    assert digest_problems(digest) == []


@pytest.mark.parametrize(("env_file", "gitlab", "github"), ENV_VARIANTS)
def test_compose_with_each_env_example_is_a_consistent_setup(
    env_file: str, gitlab: bool, github: bool
) -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    service = compose["services"]["migbot"]
    # compose: `environment` wins over `env_file`.
    served = load_settings(environ=_env_file(env_file) | service["environment"])
    assert (served.gitlab_enabled, served.github_enabled) == (gitlab, github)
    assert forge_problems(served, files=False) == []
    # The service's schedule is the only clock, so it needs its target...
    assert served.digest_schedule != "off" and digest_problems(served) == []
    assert served.digest_target_forge == ("gitlab" if gitlab else "github")
    # ...and the profile never posts a second digest.
    assert "--post" not in compose["services"]["digest"]["command"]


def test_image_installs_from_the_constraints_file() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "-c /wheels/constraints.txt" in text
    pins = [line for line in (ROOT / "constraints.txt").read_text().splitlines() if "==" in line]
    names = {line.split("==")[0] for line in pins}
    for needed in ("click", "aiohttp", "sqlalchemy", "psycopg", "rich", "libclang"):
        assert needed in names, needed
    assert all(line.count("==") == 1 and not line.startswith(" ") for line in pins)
