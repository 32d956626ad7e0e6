"""The digest from a mirror: retirements under their own heading; a stale mirror said so."""

from __future__ import annotations

import re

from tests.cli.conftest import run
from tests.fixtures.minirepo import MiniRepo

Q35 = "hw/i386/pc_q35.c"
MACHINE = "hw/core/machine.c"
PC = "hw/i386/pc.c"


def _retire_10_0(repo: MiniRepo) -> None:
    q35 = repo.read(Q35)
    start = q35.index("static void pc_q35_machine_10_0_options")
    end = q35.index("DEFINE_Q35_MACHINE(10, 0);\n") + len("DEFINE_Q35_MACHINE(10, 0);\n")
    (repo.path / Q35).write_text(q35[:start].rstrip("\n") + "\n" + q35[end:])
    machine = repo.read(MACHINE)
    machine = re.sub(
        r"GlobalProperty hw_compat_10_0\[\] = \{.*?hw_compat_10_0\);\n\n", "", machine, flags=re.S
    )
    (repo.path / MACHINE).write_text(machine)
    pc = repo.read(PC)
    pc = re.sub(
        r"GlobalProperty pc_compat_10_0\[\] = \{.*?pc_compat_10_0\);\n\n?", "", pc, flags=re.S
    )
    (repo.path / PC).write_text(pc)
    repo.commit("hw/i386/pc: Remove deprecated pc-q35-10.0 machine")


def test_retired_machine_types_have_their_own_heading(repo: MiniRepo, env: dict[str, str]) -> None:
    _retire_10_0(repo)
    got = run(
        env,
        "digest",
        "--repo",
        str(repo.path),
        "--since",
        "2026-01-26",
        "--until",
        "2026-02-09",
        "--no-cache",
    )
    assert got.code == 0, got.err
    section = got.out.split("### Retired under the deprecation policy", 1)[1]
    section = section.split("\n### ", 1)[0]
    retired = [line for line in section.splitlines() if line.startswith("- ")]
    assert [line.split(" by ")[0] for line in retired] == [
        "- machine type pc-q35-10.0 removed",
        "- hw\\_compat\\_10\\_0\\[\\] removed with the machine types it served",
        "- pc\\_compat\\_10\\_0\\[\\] removed with the machine types it served",
    ]
    assert "warning" not in got.err


def test_a_stale_mirror_is_named(repo: MiniRepo, env: dict[str, str]) -> None:
    got = run(
        env,
        "digest",
        "--repo",
        str(repo.path),
        "--since",
        "2026-03-01",
        "--until",
        "2026-03-08",
        "--no-cache",
    )
    assert got.code == 0, got.err
    assert (
        "migbot: warning: the newest commit on master is from 2026-02-01 12:00 UTC, before the "
        "period asked for (from 2026-03-01 00:00 UTC)" in got.err
    )
