"""deploy/: Kubernetes manifests, the compose file, systemd units, the GitHub App manifest.

Kubernetes manifests are validated with kubernetes-validate (offline schemas,
strict: unknown keys fail), the compose file against the compose-spec schema,
systemd units with ``systemd-analyze verify``. Then what an operator relies on:
the probes hit the service's real routes, the digest runs Mondays 08:00 UTC,
every MIGBOT_* name is a setting migbot reads, no real secret is committed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.settings import ConfigError, Settings, load_settings
from tests.ship.shiptools import (
    ROOT,
    dockerfile_instructions,
    require_tool,
    run,
    validator,
    vendored_schema,
)

DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
KUBERNETES_VERSION = "1.30.0"
"""The oldest Kubernetes the manifests are for (CronJob timeZone is GA since 1.27)."""
EXTRA_ENV = {"MIGBOT_CACHE_DIR", "MIGBOT_RULES_DIR"}
"""MIGBOT_* variables read outside `Settings` (tier-map cache, rules directory)."""


def manifests() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                docs.append((path.name, doc))
    return docs


def kind(name: str) -> dict[str, Any]:
    (doc,) = [d for _, d in manifests() if d["kind"] == name]
    return doc


def dockerfile_cmd() -> list[str]:
    instructions = dockerfile_instructions((ROOT / "Dockerfile").read_text(encoding="utf-8"))
    (cmd,) = [i.args for i in instructions if i.keyword == "CMD"]
    result: list[str] = json.loads(cmd)
    return result


def service_routes() -> set[str]:
    from bot.service.health import routes as health
    from bot.service.intake import routes as intake

    return {route.path for table in (health, intake) for route in table}


# --- Kubernetes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "doc"),
    [(f, d) for f, d in manifests() if d["kind"] != "Kustomization"],
    ids=lambda v: v if isinstance(v, str) else v.get("kind", "?"),
)
def test_manifest_validates(name: str, doc: dict[str, Any]) -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_validation_is_real() -> None:
    """A typo in a probe and a string replica count are caught: strict schemas are in use."""
    import kubernetes_validate

    deployment = kind("Deployment")
    bad = json.loads(json.dumps(deployment))
    container = bad["spec"]["template"]["spec"]["containers"][0]
    container["livenesProbe"] = container.pop("livenessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, KUBERNETES_VERSION, strict=True)
    bad = json.loads(json.dumps(deployment))
    bad["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, KUBERNETES_VERSION, strict=True)


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files


def test_deployment_serves_with_probes_and_replicas() -> None:
    deployment = kind("Deployment")
    assert deployment["spec"]["replicas"] >= 2
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"] == dockerfile_cmd()
    routes = service_routes()
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz" in routes
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz" in routes
    (port,) = container["ports"]
    assert port["containerPort"] == 8080
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001, "the Dockerfile's USER"
    service = next(
        d for _, d in manifests() if d["kind"] == "Service" and d["metadata"]["name"] == "migbot"
    )
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()


def test_ingress_exposes_the_webhooks() -> None:
    ingress = kind("Ingress")
    (rule,) = ingress["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    hooks = {r for r in service_routes() if r.startswith(path["path"] + "/")}
    assert hooks == {"/webhooks/gitlab", "/webhooks/github"}


def test_digest_cronjob_runs_monday_8_utc() -> None:
    cronjob = kind("CronJob")
    assert cronjob["spec"]["schedule"] == "0 8 * * 1"
    assert cronjob["spec"]["timeZone"] == "Etc/UTC"
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    (container,) = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["migbot", "digest", "--since", "7d", "--post"]


def test_postgres_is_the_shared_store() -> None:
    secret = kind("Secret")["stringData"]
    assert secret["MIGBOT_DATABASE_URL"].startswith("postgresql://")
    assert "@migbot-postgres:5432/" in secret["MIGBOT_DATABASE_URL"]
    statefulset = kind("StatefulSet")
    (container,) = statefulset["spec"]["template"]["spec"]["containers"]
    password = next(e for e in container["env"] if e["name"] == "POSTGRES_PASSWORD")
    assert password["valueFrom"]["secretKeyRef"] == {"name": "migbot", "key": "POSTGRES_PASSWORD"}
    for workload in (kind("Deployment"), kind("CronJob")):
        text = json.dumps(workload)
        assert '"secretRef": {"name": "migbot"}' in text
        assert '"configMapRef": {"name": "migbot"}' in text


def test_example_secret_holds_no_real_value() -> None:
    for key, value in kind("Secret")["stringData"].items():
        assert "CHANGE-ME" in value, key


def _settings_from(env: dict[str, str]) -> Settings:
    unknown = {
        k
        for k in env
        if k.startswith("MIGBOT_") and k not in EXTRA_ENV and k.lower()[7:] not in _fields()
    }
    assert not unknown, f"not settings of migbot: {sorted(unknown)}"
    try:
        return load_settings(environ=env)
    except ConfigError as exc:  # pragma: no cover - the assertion message is the point
        pytest.fail(f"migbot refuses these settings: {exc}")


def _fields() -> set[str]:
    return set(Settings.__dataclass_fields__)


def test_configmap_and_secret_are_settings_migbot_reads() -> None:
    env = {**kind("ConfigMap")["data"], **kind("Secret")["stringData"]}
    settings = _settings_from({k: str(v) for k, v in env.items()})
    assert settings.gitlab_enabled and settings.github_app_id == 123456
    assert settings.github_app_key_file == "/etc/migbot/github-app.pem"
    mounts = kind("Deployment")["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    assert any(m["mountPath"] == "/etc/migbot" for m in mounts)


# --- compose --------------------------------------------------------------------


def test_compose_file_validates() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    validator(vendored_schema("compose-spec")).validate(compose)
    services = compose["services"]
    assert services["migbot"]["command"] == dockerfile_cmd()
    assert services["migbot"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "healthcheck" in services["postgres"]
    url = services["migbot"]["environment"]["MIGBOT_DATABASE_URL"]
    assert url.startswith("postgresql://") and "@postgres:5432/" in url
    # The service's own schedule is the one clock; the profile only previews.
    assert services["digest"]["command"] == ["migbot", "digest", "--since", "7d"]


def test_env_example_is_settings_migbot_reads() -> None:
    """As shipped, and with every commented-out setting switched on."""
    active: dict[str, str] = {}
    everything: dict[str, str] = {}
    for line in (DEPLOY / "migbot.env.example").read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"(#\s*)?(MIGBOT_\w+)=(.*)", line.strip())
        if match:
            everything[match.group(2)] = match.group(3)
            if not match.group(1):
                active[match.group(2)] = match.group(3)
    assert _settings_from(active).gitlab_enabled and _settings_from(active).github_enabled
    assert _settings_from(everything).database_url.startswith("postgresql://")


# --- systemd --------------------------------------------------------------------

UNITS = ("migbot.service", "migbot-digest.service", "migbot-digest.timer")


def test_systemd_units_verify(tmp_path: Path) -> None:
    """``systemd-analyze verify``, with the venv path pointed at a stand-in executable."""
    analyze = require_tool("systemd-analyze", "Debian package systemd")
    stub = tmp_path / "opt" / "bin" / "migbot"
    stub.parent.mkdir(parents=True)
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    for unit in UNITS:
        text = (DEPLOY / "systemd" / unit).read_text(encoding="utf-8")
        (tmp_path / unit).write_text(text.replace("/opt/migbot/bin/migbot", str(stub)))
    proc = run([analyze, "verify", *UNITS], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    ours = [line for line in proc.stderr.splitlines() if any(u in line for u in UNITS)]
    assert ours == [], "warnings (unknown keys, bad values) about our units"


def _unit(name: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in (DEPLOY / "systemd" / name).read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def test_systemd_runs_serve_and_the_weekly_digest() -> None:
    serve = _unit("migbot.service")["ExecStart"].split()
    assert serve[0] == "/opt/migbot/bin/migbot" and serve[1] == "serve"
    digest = _unit("migbot-digest.service")["ExecStart"].split()
    assert digest[1:] == ["digest", "--since", "7d", "--post"]
    timer = _unit("migbot-digest.timer")
    assert timer["Unit"] == "migbot-digest.service"
    analyze = require_tool("systemd-analyze", "Debian package systemd")
    proc = run([analyze, "calendar", timer["OnCalendar"]])
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"Normalized form: Mon \*-\*-\* 08:00:00 UTC", proc.stdout), proc.stdout


# --- GitHub App -----------------------------------------------------------------


def test_github_app_manifest() -> None:
    manifest = json.loads((DEPLOY / "github-app.json").read_text(encoding="utf-8"))
    assert manifest["default_permissions"] == {
        "checks": "write",
        "contents": "read",
        "issues": "write",
        "metadata": "read",
        "pull_requests": "write",
    }
    assert manifest["default_events"] == ["pull_request"]
    hook = manifest["hook_attributes"]["url"]
    assert hook.startswith("https://")
    assert "/" + hook.split("/", 3)[3] in service_routes()


# --- the commands the deployments run -------------------------------------------


def _options(command: str) -> set[str]:
    import click

    from bot.cli import main

    cmd = main.get_command(click.Context(main), command)
    if cmd is None:
        pytest.skip(f"`migbot {command}` is not registered in this tree")
    return {opt for param in cmd.params for opt in getattr(param, "opts", ())}


def test_serve_takes_what_the_deployments_pass() -> None:
    assert {"--host", "--port"} <= _options("serve")


def test_digest_takes_what_the_schedules_pass() -> None:
    assert {"--since", "--post"} <= _options("digest")
