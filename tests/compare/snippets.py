"""The C the scanner and compare unit tests edit: real files next to this module."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent / "snippets"

WIDGET = (HERE / "widget.c").read_text()
"""A device: one VMSD at version 2 with a ``_V`` field, a subsection, two properties."""
MACHINE = (HERE / "machine.c").read_text()
"""Two compat arrays, hw_compat_10_2 (the newest) and hw_compat_10_1."""

WIDGET_C = "hw/misc/acme_widget.c"
MACHINE_C = "hw/core/machine.c"


def edit(text: str, *pairs: tuple[str, str]) -> str:
    """``text`` with each ``old`` (found exactly once, so an edit never silently misses)
    replaced by ``new``."""
    for old, new in pairs:
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
        text = text.replace(old, new)
    return text


def widget(*pairs: tuple[str, str]) -> str:
    return edit(WIDGET, *pairs)


def machine(*pairs: tuple[str, str]) -> str:
    return edit(MACHINE, *pairs)


# Lines of widget.c the edits below anchor on.
CTRL = "        VMSTATE_UINT32(ctrl, AcmeWidgetState),\n"
STATUS = "        VMSTATE_UINT32(status, AcmeWidgetState),\n"
LEVEL = "        VMSTATE_UINT32_V(level, AcmeWidgetState, 2),\n"
END = "        VMSTATE_END_OF_LIST()\n    },\n    .subsections"
VERSIONS = "    .version_id = 2,\n    .minimum_version_id = 1,\n"
FIFO_REF = "        &vmstate_acme_widget_fifo,\n"

# Lines of machine.c.
FIFO_ENTRY = '    { "acme-widget", "x-migrate-fifo", "off" },\n'
NIC_ENTRY = '    { "acme-nic", "mrg-rxbuf", "off" },\n'

IRQ_SUBSECTION = """static bool acme_widget_irq_needed(void *opaque)
{
    AcmeWidgetState *s = opaque;

    return s->irq_pending;
}

static const VMStateDescription vmstate_acme_widget_irq = {
    .name = "acme-widget/irq",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = acme_widget_irq_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(irq_pending, AcmeWidgetState),
        VMSTATE_END_OF_LIST()
    }
};

"""
MAIN_VMSD = "static const VMStateDescription vmstate_acme_widget = {"
