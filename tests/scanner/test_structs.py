"""The struct scanner reads what the between-file checks rely on, in QEMU's style."""

from __future__ import annotations

from bot.scanner.structs import enclosing_block, scan_block, scan_c

HEADER = """\
#ifndef HW_FOO_H
#define HW_FOO_H

#define FOO_NIRQ 32
#ifdef TARGET_AARCH64
#define FOO_NCPU 8
#endif

typedef struct FooIrq {
    uint8_t level;
    bool edge;
} FooIrq;

struct FooState {
    SysBusDevice parent_obj;

    MemoryRegion iomem;
    qemu_irq irq[FOO_NCPU];
    QEMUTimer *timer;
    uint32_t ctrl, status;
    uint32_t regs[FOO_NIRQ][2];
    unsigned mode:3;
    union {
        uint64_t raw;
        uint32_t half[2];
    };
    void (*notify)(void *opaque);

    /* Fields up to this point are cleared by a CPU reset */
    struct {} end_reset_fields;

    uint32_t features;
};
typedef struct FooState FooState;

static inline uint32_t foo_status(FooState *s)
{
    return s->status;
}

#endif
"""


def test_members_with_types_dimensions_and_conditions() -> None:
    f = scan_c(HEADER, "include/hw/foo.h")
    s = f.struct("FooState")
    assert s is not None and set(s.names) == {"FooState"}
    by = {m.name: m for m in s.members}
    assert by["regs"].type == "uint32_t" and by["regs"].dims == ("FOO_NIRQ", "2")
    assert by["irq"].type == "qemu_irq" and by["irq"].dims == ("FOO_NCPU",)
    assert by["timer"].pointer and by["notify"].pointer
    assert by["status"].type == "uint32_t"
    assert by["mode"].bitfield
    assert by["raw"].nested and by["half"].dims == ("2",)
    assert by["features"].after_reset_fields and not by["ctrl"].after_reset_fields
    assert f.struct("FooIrq") is not None


def test_defines_keep_their_condition_but_not_the_include_guard() -> None:
    f = scan_c(HEADER, "include/hw/foo.h")
    conds = {c.define.name: c.condition for c in f.defines}
    assert conds["FOO_NIRQ"] is None
    assert conds["FOO_NCPU"] == "defined(TARGET_AARCH64)"
    assert "HW_FOO_H" not in conds


def test_function_bodies_are_found() -> None:
    f = scan_c(HEADER, "include/hw/foo.h")
    assert [fn.name for fn in f.functions] == ["foo_status"]


def test_only_the_block_around_a_line_is_read() -> None:
    lines = HEADER.splitlines()
    regs = next(k for k, ln in enumerate(lines, 1) if "regs[" in ln)
    first, last = enclosing_block(lines, regs) or (0, 0)
    assert lines[first - 1].startswith("struct FooState") and lines[last - 1] == "};"
    block = scan_block(HEADER, "include/hw/foo.h", regs)
    assert block is not None and block.struct("FooState") is not None
    assert block.struct("FooIrq") is None
    outside = next(k for k, ln in enumerate(lines, 1) if ln.startswith("#define FOO_NIRQ"))
    assert enclosing_block(lines, outside) is None
