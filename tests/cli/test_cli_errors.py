"""Service and tiers commands fail with one line and the right exit code."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.cli.conftest import run
from tests.fixtures.minirepo import MiniRepo


def test_tiers_names_a_file_that_does_not_exist(repo: MiniRepo, env: dict[str, str]) -> None:
    got = run(env, "tiers", "--repo", str(repo.path), "hw/char/nope.c")
    assert got.code == 2
    assert got.err == f"migbot: hw/char/nope.c: no such file at HEAD in {repo.path}\n"


def test_jobs_unknown_state_and_unknown_job(env: dict[str, str], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    got = run(env, "jobs", "--database-url", url, "--state", "bogus")
    assert got.code == 2
    assert got.err == (
        "migbot: unknown job state 'bogus'; choose from queued, running, done, parked, superseded\n"
    )
    retry = run(env, "jobs", "--database-url", url, "retry", "42")
    assert (retry.code, retry.err) == (2, "migbot: no job 42\n")


def test_bad_database_url_is_one_line(env: dict[str, str]) -> None:
    for command in (["jobs"], ["worker"]):
        got = run(env, *command, "--database-url", "nonsense://x")
        assert got.code == 2, got.err
        assert got.err.splitlines()[-1].startswith("migbot: bad database URL 'nonsense://x':")
        assert "Traceback" not in got.err


def test_unreachable_database_hides_the_password(env: dict[str, str]) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    got = run(env, "jobs", "--database-url", f"postgresql://bot:s3cret@127.0.0.1:{port}/x")
    assert got.code == 1
    assert got.err.startswith(
        f"migbot: cannot open the database postgresql://bot:***@127.0.0.1:{port}/x"
    )
    assert "s3cret" not in got.err and got.err.count("\n") == 1


def test_serve_on_a_busy_port_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        got = run(
            env,
            "serve",
            "--insecure-no-verify",
            "--port",
            str(port),
            "--database-url",
            f"sqlite:///{tmp_path / 'db.sqlite3'}",
        )
    assert got.code == 1
    assert got.err.splitlines()[-1] == (
        f"migbot: port {port} on 127.0.0.1 is in use by another process: stop it or choose "
        "another with --port / MIGBOT_PORT"
    )
    assert "Traceback" not in got.err
