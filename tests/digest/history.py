"""The base tree with a history the digest must read right (tests/digest/story).

Commit and merge dates are set with GIT_AUTHOR_DATE / GIT_COMMITTER_DATE;
series are merged with ``--no-ff`` as QEMU's staging merges are. The story
(2026, ISO weeks W04 to W07):

* W04 (Jan 20): a NIC patch is written on a topic branch; it adds a field
  with no versioning (MIG001). It lands with a merge on Feb 3 (W06).
* W06 (Feb 4): a direct commit on an arm board bumps ``version_id`` and adds
  a ``_V`` field (best-effort tier: fine).
* W07: the UART fifo series. v1 (a series ref, Feb 9) adds the field
  unversioned; v2 (Feb 10) puts it in a subsection gated by a property with a
  ``hw_compat_10_2`` entry, and is merged on Feb 11: fixed before merge.
* W07 (Feb 12): a series still on the list drops a NIC field (MIG002), plus its
  ``_ci`` copy; its v2 (Feb 13) still does; and a docs commit lands.
* An old series from January is outside every period asked.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.fixtures.tree import text_files

NIC = "hw/net/acme_nic.c"
UART = "hw/char/acme_uart.c"
SOC = "hw/arm/acme_soc.c"
MACHINE = "hw/core/machine.c"
DOCS = "docs/devel/index.rst"

STORY = Path(__file__).resolve().parent / "story"
"""One overlay folder per step of the story, each holding the files the step writes:
``base`` (laid over the base tree: the initial import), ``nic-irq``, ``nic-drop-status``,
``soc-count`` (bump and a ``_V`` field), ``uart-fifo-v1`` (unversioned),
``uart-fifo-v2`` (in a subsection gated by a property with its compat entry)."""


def step(name: str) -> dict[str, str]:
    """The files step ``name`` of the story writes."""
    return text_files(STORY / name, base=None)


SERIES_V1 = "20260209100000.1111-1-bob@example.org"
SERIES_V2 = "20260210090000.2222-1-bob@example.org"
SERIES_OPEN = "20260212080000.3333-1-carol@example.org"
SERIES_OPEN_V2 = "20260213080000.5555-1-carol@example.org"
SERIES_OLD = "20260115120000.4444-1-dave@example.org"
FIFO_SUBJECT = "hw/char/acme_uart: migrate the fifo level"


@dataclass
class Shas:
    base: str = ""
    nic_patch: str = ""
    nic_merge: str = ""
    soc: str = ""
    uart_v1: str = ""
    uart_v2: str = ""
    uart_merge: str = ""
    open_series: str = ""
    open_series_v2: str = ""
    docs: str = ""


class Git:
    """A work tree whose commits carry the dates a test gives them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        self.env.update(
            HOME=str(path.parent),
            GIT_CONFIG_NOSYSTEM="1",
            GIT_CONFIG_GLOBAL=os.devnull,
            LC_ALL="C",
        )
        path.mkdir(parents=True)
        self.run("init", "-q", "-b", "master")

    def run(self, *args: str, date: str = "2026-01-05T10:00:00+00:00", who: str = "Ada") -> str:
        env = {
            **self.env,
            "GIT_AUTHOR_NAME": who,
            "GIT_AUTHOR_EMAIL": f"{who.split()[0].lower()}@example.org",
            "GIT_COMMITTER_NAME": "Stefan Staging",
            "GIT_COMMITTER_EMAIL": "staging@example.org",
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_DATE": date,
        }
        proc = subprocess.run(
            ["git", *args], cwd=self.path, env=env, capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()

    def commit(self, message: str, files: dict[str, str], *, date: str, who: str = "Ada") -> str:
        for name, text in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        self.run("add", "-A")
        self.run("commit", "-q", "-m", message, date=date, who=who)
        return self.run("rev-parse", "HEAD")

    def merge(self, branch: str, message: str, *, date: str) -> str:
        self.run("checkout", "-q", "master")
        self.run("merge", "-q", "--no-ff", "-m", message, branch, date=date, who="Stefan Staging")
        return self.run("rev-parse", "HEAD")

    def branch(self, name: str, start: str = "master") -> None:
        self.run("checkout", "-q", "-b", name, start)


def build_history(path: Path) -> Shas:
    g = Git(path)
    s = Shas()
    s.base = g.commit(
        "Initial import",
        text_files(STORY / "base"),
        date="2026-01-05T10:00:00+00:00",
    )
    g.branch(SERIES_OLD)
    g.commit(
        "hw/net/acme_nic: an old idea",
        step("nic-drop-status"),
        date="2026-01-15T12:00:00+00:00",
        who="Dave Old",
    )
    # Written in W04, merged in W06.
    g.branch("nic-irq", s.base)
    s.nic_patch = g.commit(
        "hw/net/acme_nic: migrate irq_mask",
        step("nic-irq"),
        date="2026-01-20T09:00:00+00:00",
        who="Jason Net",
    )
    s.nic_merge = g.merge(
        "nic-irq",
        "Merge tag 'pull-net-20260203' of https://git.example.org/jason/qemu into staging",
        date="2026-02-03T12:00:00+00:00",
    )
    s.soc = g.commit(
        "hw/arm/acme_soc: migrate the timer count",
        step("soc-count"),
        date="2026-02-04T09:00:00+00:00",
        who="Peter Arm",
    )
    g.branch(SERIES_V1)
    s.uart_v1 = g.commit(
        FIFO_SUBJECT, step("uart-fifo-v1"), date="2026-02-09T10:00:00+00:00", who="Bob Serial"
    )
    g.branch(SERIES_V2, s.soc)
    s.uart_v2 = g.commit(
        FIFO_SUBJECT,
        step("uart-fifo-v2"),
        date="2026-02-10T09:00:00+00:00",
        who="Bob Serial",
    )
    s.uart_merge = g.merge(
        SERIES_V2,
        "Merge tag 'pull-char-20260211' of https://git.example.org/marc/qemu into staging",
        date="2026-02-11T15:00:00+00:00",
    )
    g.branch(SERIES_OPEN)
    s.open_series = g.commit(
        "hw/net/acme_nic: drop the status register",
        step("nic-drop-status"),
        date="2026-02-12T08:00:00+00:00",
        who="Carol Net",
    )
    g.branch(SERIES_OPEN + "_ci")
    g.commit("ci", {".gitlab-ci.yml": "x: 1\n"}, date="2026-02-12T08:00:03+00:00", who="Bot")
    g.branch(SERIES_OPEN_V2, s.uart_merge)
    g.commit(
        "hw/net/acme_nic: drop the status register",
        step("nic-drop-status"),
        date="2026-02-13T08:00:00+00:00",
        who="Carol Net",
    )
    s.open_series_v2 = g.commit(
        "docs: the acme NIC has no status register",
        {DOCS: "Docs, no status.\n"},
        date="2026-02-13T08:00:01+00:00",
        who="Carol Net",
    )
    g.run("checkout", "-q", "master")
    s.docs = g.commit(
        "docs: fix a typo", {DOCS: "Docs.\n"}, date="2026-02-12T10:00:00+00:00", who="Ada"
    )
    return s
