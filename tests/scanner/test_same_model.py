"""A file whose change the scanner cannot see keeps its model without a second scan
(a header move rewrites hundreds of #include lines and nothing else)."""

from __future__ import annotations

from dataclasses import replace

from bot.scanner.scan import same_model
from tests.harness import scan_c

DEVICE = """\
#include "qemu/osdep.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"

static const VMStateDescription vmstate_acme = {
    .name = "acme",
    .version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(ctrl, AcmeState),
        VMSTATE_END_OF_LIST()
    },
};
"""


def test_an_include_moved_to_another_directory_keeps_the_model() -> None:
    new = DEVICE.replace('"hw/qdev-properties.h"', '"hw/core/qdev-properties.h"')
    old_model = scan_c(DEVICE, "hw/misc/acme.c")
    assert same_model(DEVICE, new, old_model, "hw/misc/acme.c")
    assert scan_c(new, "hw/misc/acme.c") == old_model


def test_a_renamed_file_keeps_its_model_under_the_new_path() -> None:
    old_model = scan_c(DEVICE, "hw/misc/acme.c")
    assert same_model(DEVICE, DEVICE, old_model, "hw/misc/acme2.c")
    assert scan_c(DEVICE, "hw/misc/acme2.c") == replace(old_model, path="hw/misc/acme2.c")


def test_a_change_to_the_code_is_scanned() -> None:
    new = DEVICE.replace("VMSTATE_UINT32(ctrl", "VMSTATE_UINT16(ctrl")
    assert not same_model(DEVICE, new, scan_c(DEVICE, "hw/misc/acme.c"), "hw/misc/acme.c")


def test_an_include_added_or_inside_a_vmsd_is_scanned() -> None:
    old_model = scan_c(DEVICE, "hw/misc/acme.c")
    added = DEVICE.replace('#include "qemu/osdep.h"\n', '#include "qemu/osdep.h"\n#include "x.h"\n')
    assert not same_model(DEVICE, added, old_model, "hw/misc/acme.c")
    inside = DEVICE.replace("        VMSTATE_END", '#include "acme-fields.h"\n        VMSTATE_END')
    moved = inside.replace('"acme-fields.h"', '"hw/misc/acme-fields.h"')
    assert not same_model(inside, moved, scan_c(inside, "hw/misc/acme.c"), "hw/misc/acme.c")
