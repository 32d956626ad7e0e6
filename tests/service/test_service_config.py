"""Settings from the environment and TOML; secrets kept out of sight; serve refuses
to start without a webhook secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.service import serve
from bot.service.logs import Redactor
from bot.settings import ConfigError, load_settings


def test_environment_over_toml(tmp_path: Path) -> None:
    toml = tmp_path / "migbot.toml"
    toml.write_text(
        '[migbot]\ndatabase_url = "sqlite:///x.db"\nport = 9000\ninline_cap = 5\n'
        'gitlab_url = "https://gitlab.example"\ngitlab_token = "glpat-secret"\n'
    )
    env = {
        "MIGBOT_PORT": "9100",
        "MIGBOT_GITHUB_WEBHOOK_SECRET": "hush",
        "MIGBOT_COMMIT_STATUS": "yes",
    }
    s = load_settings(env, toml)
    assert (s.database_url, s.port, s.inline_cap, s.commit_status) == (
        "sqlite:///x.db",
        9100,
        5,
        True,
    )
    assert s.gitlab_enabled
    assert not s.github_enabled
    assert "glpat-secret" not in repr(s)
    assert "hush" not in repr(s)
    assert s.redacted()["gitlab_token"] == "<set>"
    assert load_settings({}).database_url == "sqlite:///migbot.sqlite3"


def test_bad_settings(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_settings({"MIGBOT_PORT": "eighty"})
    toml = tmp_path / "bad.toml"
    toml.write_text("nope = 1\n")
    with pytest.raises(ConfigError):
        load_settings({}, toml)


def test_redactor_hides_secrets() -> None:
    redact = Redactor(["topsecret"])
    event = redact(None, "info", {"event": "x", "token": "abc", "note": "has topsecret in it"})
    assert event == {"event": "x", "token": "<redacted>", "note": "has <redacted> in it"}


def test_serve_refuses_without_webhook_secret(tmp_path: Path) -> None:
    env = {
        "MIGBOT_GITLAB_WEBHOOK_TOKEN": "",
        "MIGBOT_GITLAB_SIGNING_TOKEN": "",
        "MIGBOT_GITHUB_WEBHOOK_SECRET": "",
        "MIGBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
    }
    result = CliRunner().invoke(serve, ["--port", "1"], env=env)
    assert result.exit_code != 0
    assert "refusing to start" in result.output
    assert "--insecure-no-verify" in result.output
