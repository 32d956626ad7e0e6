"""A small QEMU-like repository with a history the digest must read right.

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

NIC = "hw/net/acme_nic.c"
UART = "hw/char/acme_uart.c"
SOC = "hw/arm/acme_soc.c"
MACHINE = "hw/core/machine.c"
DOCS = "docs/devel/index.rst"

NIC_BASE = """\
#include "qemu/osdep.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"

typedef struct AcmeNicState {
    uint32_t ctrl;
    uint32_t status;
    uint32_t irq_mask;
} AcmeNicState;

static const VMStateDescription vmstate_acme_nic = {
    .name = "acme-nic",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(ctrl, AcmeNicState),
        VMSTATE_UINT32(status, AcmeNicState),
        VMSTATE_END_OF_LIST()
    }
};
"""
NIC_IRQ = NIC_BASE.replace(
    "        VMSTATE_UINT32(status, AcmeNicState),\n",
    "        VMSTATE_UINT32(status, AcmeNicState),\n"
    "        VMSTATE_UINT32(irq_mask, AcmeNicState),\n",
)
NIC_DROP_STATUS = NIC_IRQ.replace("        VMSTATE_UINT32(status, AcmeNicState),\n", "")

UART_BASE = """\
#include "qemu/osdep.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"

#define TYPE_ACME_UART "acme-uart"

typedef struct AcmeUartState {
    DeviceState parent_obj;
    uint8_t data;
    uint8_t lcr;
    uint32_t fifo_level;
    bool migrate_fifo;
} AcmeUartState;

static const VMStateDescription vmstate_acme_uart = {
    .name = TYPE_ACME_UART,
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(data, AcmeUartState),
        VMSTATE_UINT8(lcr, AcmeUartState),
        VMSTATE_END_OF_LIST()
    }
};

static const Property acme_uart_properties[] = {
    DEFINE_PROP_UINT8("lcr-reset", AcmeUartState, lcr, 0),
};
"""
UART_V1 = UART_BASE.replace(
    "        VMSTATE_UINT8(lcr, AcmeUartState),\n",
    "        VMSTATE_UINT8(lcr, AcmeUartState),\n"
    "        VMSTATE_UINT32(fifo_level, AcmeUartState),\n",
)
UART_V2 = (
    UART_BASE.replace(
        "static const VMStateDescription vmstate_acme_uart = {",
        """static bool acme_uart_fifo_needed(void *opaque)
{
    AcmeUartState *s = opaque;

    return s->migrate_fifo;
}

static const VMStateDescription vmstate_acme_uart_fifo = {
    .name = "acme-uart/fifo",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = acme_uart_fifo_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(fifo_level, AcmeUartState),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_acme_uart = {""",
    )
    .replace(
        "        VMSTATE_END_OF_LIST()\n    }\n};\n\nstatic const Property",
        "        VMSTATE_END_OF_LIST()\n    },\n"
        "    .subsections = (const VMStateDescription * const []) {\n"
        "        &vmstate_acme_uart_fifo,\n        NULL\n    }\n};\n\nstatic const Property",
    )
    .replace(
        '    DEFINE_PROP_UINT8("lcr-reset", AcmeUartState, lcr, 0),\n',
        '    DEFINE_PROP_UINT8("lcr-reset", AcmeUartState, lcr, 0),\n'
        '    DEFINE_PROP_BOOL("x-migrate-fifo", AcmeUartState, migrate_fifo, true),\n',
    )
)

SOC_BASE = """\
#include "qemu/osdep.h"
#include "migration/vmstate.h"

typedef struct AcmeSocState {
    uint32_t ctrl;
    uint32_t count;
} AcmeSocState;

static const VMStateDescription vmstate_acme_soc = {
    .name = "acme-soc",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(ctrl, AcmeSocState),
        VMSTATE_END_OF_LIST()
    }
};
"""
SOC_V2 = SOC_BASE.replace(".version_id = 1,", ".version_id = 2,").replace(
    "        VMSTATE_UINT32(ctrl, AcmeSocState),\n",
    "        VMSTATE_UINT32(ctrl, AcmeSocState),\n"
    "        VMSTATE_UINT32_V(count, AcmeSocState, 2),\n",
)

MACHINE_BASE = """\
#include "qemu/osdep.h"
#include "hw/boards.h"

GlobalProperty hw_compat_10_2[] = {};
const size_t hw_compat_10_2_len = G_N_ELEMENTS(hw_compat_10_2);

GlobalProperty hw_compat_10_1[] = {
    { "virtio-net-pci", "x-old-feature", "off" },
};
const size_t hw_compat_10_1_len = G_N_ELEMENTS(hw_compat_10_1);
"""
MACHINE_FIFO = MACHINE_BASE.replace(
    "GlobalProperty hw_compat_10_2[] = {};",
    'GlobalProperty hw_compat_10_2[] = {\n    { "acme-uart", "x-migrate-fifo", "off" },\n};',
)

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
        {NIC: NIC_BASE, UART: UART_BASE, SOC: SOC_BASE, MACHINE: MACHINE_BASE, DOCS: "Docs\n"},
        date="2026-01-05T10:00:00+00:00",
    )
    g.branch(SERIES_OLD)
    g.commit(
        "hw/net/acme_nic: an old idea",
        {NIC: NIC_DROP_STATUS},
        date="2026-01-15T12:00:00+00:00",
        who="Dave Old",
    )
    # Written in W04, merged in W06.
    g.branch("nic-irq", s.base)
    s.nic_patch = g.commit(
        "hw/net/acme_nic: migrate irq_mask",
        {NIC: NIC_IRQ},
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
        {SOC: SOC_V2},
        date="2026-02-04T09:00:00+00:00",
        who="Peter Arm",
    )
    g.branch(SERIES_V1)
    s.uart_v1 = g.commit(
        FIFO_SUBJECT, {UART: UART_V1}, date="2026-02-09T10:00:00+00:00", who="Bob Serial"
    )
    g.branch(SERIES_V2, s.soc)
    s.uart_v2 = g.commit(
        FIFO_SUBJECT,
        {UART: UART_V2, MACHINE: MACHINE_FIFO},
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
        {NIC: NIC_DROP_STATUS},
        date="2026-02-12T08:00:00+00:00",
        who="Carol Net",
    )
    g.branch(SERIES_OPEN + "_ci")
    g.commit("ci", {".gitlab-ci.yml": "x: 1\n"}, date="2026-02-12T08:00:03+00:00", who="Bot")
    g.branch(SERIES_OPEN_V2, s.uart_merge)
    g.commit(
        "hw/net/acme_nic: drop the status register",
        {NIC: NIC_DROP_STATUS},
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
