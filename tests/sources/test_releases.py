"""Releases read from VERSION along first-parent history, in a real repository."""

from __future__ import annotations

from pathlib import Path

from bot.sources.commits import change_from_range
from bot.sources.gitrepo import open_repo
from bot.sources.releases import ReleaseLine, parse_version
from tests.sources.gitwork import GitWork


def _history(tmp_path: Path) -> tuple[GitWork, dict[str, str]]:
    """9.2.0, a fix, 10.0 rcs, 10.0.0 (set twice), development, 10.1.0, development."""
    work = GitWork(tmp_path / "qemu", tmp_path / "home")
    shas: dict[str, str] = {}
    for step in (
        "9.2.0",
        "9.2.50",
        "fix",
        "9.2.90",
        "9.2.91",
        "10.0.0",
        "10.0.0",
        "10.0.50",
        "10.1.0",
        "10.1.50",
        "head",
    ):
        if step in ("fix", "head"):
            work.write("hw/misc/acme.c", f"/* {step} */\n")
        else:
            work.write("VERSION", f"{step}\n")
        shas.setdefault(step, work.commit(f"step {step}"))
    return work, shas


def test_releases_are_where_version_first_reads_x_y_0(tmp_path: Path) -> None:
    work, shas = _history(tmp_path)
    line = ReleaseLine(open_repo(work.path), shas["head"])
    got = [(r.name, r.commit) for i in range(3) if (r := line.release(i))]
    assert got == [("10.1.0", shas["10.1.0"]), ("10.0.0", shas["10.0.0"]), ("9.2.0", shas["9.2.0"])]
    assert line.release(3) is None


def test_which_release_first_shipped_a_commit(tmp_path: Path) -> None:
    work, shas = _history(tmp_path)
    line = ReleaseLine(open_repo(work.path), shas["head"])
    assert line.first_containing(shas["fix"][:12]) == (10, 0, 0)
    assert line.first_containing(shas["head"]) is None  # not released yet
    assert line.first_containing("not-a-sha") is None
    assert line.before((10, 0, 0)) == (9, 2, 0)
    assert line.before((9, 2, 0)) is None


def test_a_range_carries_its_history_and_messages(tmp_path: Path) -> None:
    work, shas = _history(tmp_path)
    change = change_from_range(work.path, f"{shas['10.1.50']}..{shas['head']}")
    assert change.history is not None
    release = change.history.last_release()
    assert release is not None and release.version == (10, 1, 0)
    assert release.tree.read("VERSION") == "10.1.0\n"
    assert change.messages == ("step head",)


def test_versions_are_read_leniently() -> None:
    assert parse_version("10.1.50\n") == (10, 1, 50)
    assert parse_version("2.12.0-rc0") == (2, 12, 0)
    assert parse_version("") is None
