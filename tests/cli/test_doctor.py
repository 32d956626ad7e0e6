"""``migbot doctor``: settings checked against each other, one line per problem."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import run

# The newest schema revision, which doctor asks an empty database to be at.
HEAD = max(
    p.name.split("_", 1)[0]
    for p in (Path(__file__).resolve().parents[2] / "bot/store/migrations/versions").glob("0*.py")
)


def test_a_consistent_setup_has_no_problem(env: dict[str, str], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    assert run(env, "jobs", "--database-url", url).code == 0  # migrates
    good = {
        **env,
        "MIGBOT_GITLAB_URL": "https://gitlab.example",
        "MIGBOT_GITLAB_TOKEN": "glpat-x",
        "MIGBOT_GITLAB_WEBHOOK_TOKEN": "secret",
        "MIGBOT_DIGEST_SCHEDULE": "off",
    }
    got = run(good, "doctor", "--database-url", url)
    assert (got.code, got.out) == (0, "migbot doctor: no problem found\n"), got.err


def test_each_problem_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    bad = {
        **env,
        "MIGBOT_GITLAB_URL": "https://gitlab.example",
        "MIGBOT_GITHUB_WEBHOOK_SECRET": "s",
    }
    got = run(bad, "doctor", "--database-url", f"sqlite:///{tmp_path / 'new.sqlite3'}")
    assert got.code == 1
    assert got.out.splitlines() == [
        "migbot doctor: GitLab: MIGBOT_GITLAB_URL is set but MIGBOT_GITLAB_TOKEN (api scope) "
        "is not",
        "migbot doctor: GitLab: no webhook secret: set MIGBOT_GITLAB_WEBHOOK_TOKEN (or "
        "MIGBOT_GITLAB_SIGNING_TOKEN) to the webhook's secret token",
        "migbot doctor: GitHub: MIGBOT_GITHUB_WEBHOOK_SECRET is set but GitHub is not configured: "
        "set MIGBOT_GITHUB_APP_ID and MIGBOT_GITHUB_APP_KEY_FILE (or MIGBOT_GITHUB_TOKEN)",
        "migbot doctor: digest: scheduled (mon 08:00) but has no target: set "
        "MIGBOT_DIGEST_PROJECT (or MIGBOT_DIGEST_HTML_DIR), or MIGBOT_DIGEST_SCHEDULE=off where "
        "a CronJob or timer runs the digest",
        f"migbot doctor: database: sqlite:///{tmp_path / 'new.sqlite3'} is empty, not at {HEAD}: "
        "run 'migbot jobs' once (it migrates) or start the service",
    ]


def test_an_unreachable_database_is_named(env: dict[str, str]) -> None:
    got = run(
        {
            **env,
            "MIGBOT_GITHUB_TOKEN": "t",
            "MIGBOT_GITHUB_WEBHOOK_SECRET": "s",
            "MIGBOT_DIGEST_SCHEDULE": "off",
        },
        "doctor",
        "--database-url",
        "postgresql://bot:pw@127.0.0.1:1/x",
    )
    assert got.code == 1
    assert got.out.startswith(
        "migbot doctor: database: cannot reach postgresql://bot:***@127.0.0.1:1/x:"
    )
    assert len(got.out.splitlines()) == 1
