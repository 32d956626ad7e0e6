"""Pruning blanks only what the scanner never reads, and keeps every line."""

from __future__ import annotations

from bot.audit.prune import prune
from bot.audit.walk import header_strings, text_facts
from bot.scanner.macros import learn
from bot.scanner.scan import scan

from . import qemutree

DEVICE = """\
#include "qemu/osdep.h"

static uint64_t foo_read(void *opaque, hwaddr addr, unsigned size)
{
    FooState *s = opaque;   /* a brace in a comment: { */
    const char *t = "}";

    return s->regs[addr >> 2] + t[0] + '{';
}

static bool foo_bar_needed(void *opaque)
{
    return ((FooState *)opaque)->version_id >= 2;
}

static void foo_realize(DeviceState *dev, Error **errp)
{
#ifdef CONFIG_FOO_DEBUG
    if (dev) {
#endif
        foo_init_regs(dev);
#ifdef CONFIG_FOO_DEBUG
    }
#endif
}

static const VMStateDescription vmstate_foo = {
    .name = "foo",
    .version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(ctrl, FooState),
        VMSTATE_END_OF_LIST()
    }
};

static void foo_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->vmsd = &vmstate_foo;
}
"""


def test_irrelevant_bodies_become_blanks_on_the_same_lines() -> None:
    pruned = prune(DEVICE)
    assert pruned.count("\n") == DEVICE.count("\n")
    assert len(pruned) == len(DEVICE)
    assert "regs[addr" not in pruned  # foo_read: nothing the scanner reads
    assert "version_id >= 2" in pruned  # a version test is kept
    assert "foo_init_regs" in pruned  # #if inside: left alone
    assert "dc->vmsd = &vmstate_foo" in pruned
    assert "VMSTATE_UINT32(ctrl, FooState)" in pruned  # initializers are never touched


def test_unbalanced_text_is_returned_untouched() -> None:
    odd = "static void f(void)\n{\n    if (x) {\n}\n"
    assert prune(odd) == odd
    assert prune("}}\n") == "}}\n"


def test_the_model_of_a_pruned_file_is_the_model_of_the_file() -> None:
    table = learn([("include/migration/vmstate.h", qemutree.source("include/migration/vmstate.h"))])
    for path, text in [
        ("hw/misc/foo.c", DEVICE),
        ("hw/misc/acme_card.c", qemutree.source("hw/misc/acme_card.c")),
        ("hw/char/acme_uart.c", qemutree.source("hw/char/acme_uart.c")),
        ("hw/misc/acme_plug.c", qemutree.source("hw/misc/acme_plug.c")),
    ]:
        full, pruned = scan(text, path, table), scan(prune(text), path, table)
        assert pruned.vmsds == full.vmsds
        assert pruned.registrations == full.registrations
        assert pruned.types == full.types
        assert pruned.prop_bindings == full.prop_bindings
        assert [(f.name, f.line, f.end_line) for f in pruned.functions] == [
            (f.name, f.line, f.end_line) for f in full.functions
        ]


def test_text_facts_find_blockers_resets_and_opt_outs() -> None:
    facts = text_facts(qemutree.source("hw/misc/acme_blocked.c"))
    assert facts.includes_blocker_h and facts.blocker_lines == (10,)
    plug = text_facts(qemutree.source("hw/misc/acme_plug.c"))
    assert plug.reset_lines == (58,) and not plug.blocker_lines
    assert text_facts(qemutree.source("hw/misc/acme_internal.c")).not_user_creatable_lines == (9,)


def test_header_strings_join_literals_and_names_and_refuse_ambiguity() -> None:
    got = header_strings(
        [
            ("TYPE_FOO", '"foo"'),
            ("TYPE_FOO_PCI", 'TYPE_FOO "-pci" /* the PCI one */'),
            ("TYPE_ISA", '("isa-device")'),
            ("TYPE_CPU", '"x86_64-cpu"'),
            ("TYPE_CPU", '"i386-cpu"'),
            ("TYPE_BAD", 'TYPE_FOO + 1 "x"'),
            ("TYPE_LOOP", 'TYPE_LOOP "x"'),
        ]
    )
    assert got == {"TYPE_FOO": "foo", "TYPE_FOO_PCI": "foo-pci", "TYPE_ISA": "isa-device"}
