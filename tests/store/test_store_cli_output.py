"""What ``migbot jobs`` prints, and the database it refuses to create."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from bot.cli.service import jobs as jobs_command
from bot.forges.events import EventKind, ForgeEvent, MergeRequestRef
from bot.store import jobs
from bot.store.db import make_engine, migrate


def test_jobs_listing_escapes_control_characters(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'q.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    hostile = "evil\x1b]0;pwned\x07/x\x1b[2J"
    jobs.accept(
        engine,
        ForgeEvent(
            "gitlab",
            "d1",
            "Merge Request Hook",
            "open",
            EventKind.REVIEW,
            ref=MergeRequestRef("gitlab", hostile, 7),
            head_sha="a" * 40,
            reason="opened",
        ),
    )
    engine.dispose()
    result = CliRunner().invoke(jobs_command, ["--database-url", url])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output
    assert "\x07" not in result.output
    assert "evil\\x1b]0;pwned\\x07/x" in result.output


def test_sqlite_in_a_missing_folder_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir"
    result = CliRunner().invoke(
        jobs_command, ["--database-url", f"sqlite:///{missing / 'q.sqlite3'}"]
    )
    assert result.exit_code == 2
    assert "does not exist" in result.output
    assert str(missing) in result.output
    assert not (tmp_path / "no").exists()
