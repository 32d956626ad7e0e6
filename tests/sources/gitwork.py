"""Real git repositories for the source tests, and C written for them in QEMU style."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bot.change import FileChange
from tests.gitenv import git_env


class GitWork:
    """A non-bare repository the test writes to; ``git`` returns stdout bytes."""

    def __init__(self, path: Path, home: Path) -> None:
        self.path = path
        self.env = git_env(home)
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "master")
        self.git("config", "commit.gpgsign", "false")
        self.git("config", "core.autocrlf", "false")

    def git(self, *args: str, input: bytes | None = None) -> bytes:
        proc = subprocess.run(
            ["git", *args],
            cwd=self.path,
            env=self.env,
            input=input,
            capture_output=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr.decode(errors="replace")
        return proc.stdout

    def write(self, path: str, content: str | bytes) -> None:
        target = self.path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode() if isinstance(content, str) else content)

    def remove(self, path: str) -> None:
        self.git("rm", "-q", path)

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.rev("HEAD")

    def rev(self, rev: str) -> str:
        return self.git("rev-parse", "--verify", rev).decode().strip()

    def blob(self, rev: str, path: str) -> bytes:
        return self.git("cat-file", "blob", f"{rev}:{path}")

    def clone_bare(self, target: Path) -> Path:
        subprocess.run(
            ["git", "clone", "-q", "--bare", str(self.path), str(target)],
            env=self.env,
            check=True,
        )
        return target


def assert_hunks_match_texts(fc: FileChange) -> None:
    """Every hunk line sits at its line number in the text of its side."""
    old = (fc.old_text or "").split("\n")
    new = (fc.new_text or "").split("\n")
    assert fc.hunks, fc.path
    for hunk in fc.hunks:
        for line in hunk.lines:
            if line.old_line is not None:
                assert old[line.old_line - 1] == line.text, (fc.path, line)
            if line.new_line is not None:
                assert new[line.new_line - 1] == line.text, (fc.path, line)


# --- QEMU-style C written for these tests -------------------------------------

TIMER_C = """\
/*
 * A small timer device, written for the migbot tests.
 */

#include "qemu/osdep.h"
#include "migration/vmstate.h"
#include "hw/timer/demo_timer.h"

static bool demo_timer_irq_needed(void *opaque)
{
    DemoTimerState *s = opaque;

    return s->irq_level != 0;
}

static const VMStateDescription vmstate_demo_timer_irq = {
    .name = "demo-timer/irq",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = demo_timer_irq_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(irq_level, DemoTimerState),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_demo_timer = {
    .name = "demo-timer",
    .version_id = 2,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(count, DemoTimerState),
        VMSTATE_UINT32(reload, DemoTimerState),
        VMSTATE_UINT64_V(deadline, DemoTimerState, 2),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_demo_timer_irq,
        NULL
    }
};

static void demo_timer_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->vmsd = &vmstate_demo_timer;
}
"""

UART_C = """\
/*
 * A small UART, written for the migbot tests.
 */

#include "qemu/osdep.h"
#include "migration/vmstate.h"

static const VMStateDescription vmstate_demo_uart = {
    .name = "demo-uart",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(lcr, DemoUartState),
        VMSTATE_UINT8(ier, DemoUartState),
        VMSTATE_UINT8_ARRAY(fifo, DemoUartState, 16),
        VMSTATE_END_OF_LIST()
    }
};
"""

COMPAT_C = """\
GlobalProperty hw_compat_10_2[] = {
    { "demo-timer", "x-irq-state", "off" },
};
const size_t hw_compat_10_2_len = G_N_ELEMENTS(hw_compat_10_2);

GlobalProperty hw_compat_10_1[] = {
    { "demo-uart", "x-fifo", "off" },
};
const size_t hw_compat_10_1_len = G_N_ELEMENTS(hw_compat_10_1);
"""
