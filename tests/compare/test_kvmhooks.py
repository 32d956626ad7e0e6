"""MIG063: migration hooks that reach KVM with no accelerator check, through the
real pipeline over the mini QEMU tree (a device, its KVM-only companion file
and a header, committed by hand in QEMU's style)."""

from __future__ import annotations

import pytest

from bot.findings import Tier
from bot.pipeline import ReviewOptions
from bot.sources import change_from_range
from tests.fixtures.minirepo import MiniRepo, commit_change
from tests.harness import review

DEVICE = "hw/timer/acme_rtc.c"
KVM_FILE = "hw/timer/acme_rtc_kvm.c"
HEADER = "include/hw/timer/acme_rtc.h"

HEADER_TEXT = """\
#ifndef HW_TIMER_ACME_RTC_H
#define HW_TIMER_ACME_RTC_H

typedef struct AcmeRtcState {
    SysBusDevice parent_obj;

    uint64_t offset;
    uint32_t ctrl;
} AcmeRtcState;

int kvm_acme_rtc_set_offset(AcmeRtcState *s);
void acme_rtc_common_sync(AcmeRtcState *s);

#endif
"""

KVM_TEXT = """\
#include "qemu/osdep.h"
#include "hw/timer/acme_rtc.h"
#include "system/kvm.h"

int kvm_acme_rtc_set_offset(AcmeRtcState *s)
{
    return kvm_vm_ioctl(kvm_state, KVM_SET_ACME_RTC, &s->offset);
}
"""


def device(hooks: str, members: str) -> str:
    """The RTC's file: ``hooks`` (functions) before its VMSD, ``members`` in it."""
    return f"""\
#include "qemu/osdep.h"
#include "hw/timer/acme_rtc.h"
#include "migration/vmstate.h"
#include "system/kvm.h"

{hooks}
static const VMStateDescription vmstate_acme_rtc = {{
    .name = "acme-rtc",
    .version_id = 1,
    .minimum_version_id = 1,
{members}    .fields = (const VMStateField[]) {{
        VMSTATE_UINT64(offset, AcmeRtcState),
        VMSTATE_UINT32(ctrl, AcmeRtcState),
        VMSTATE_END_OF_LIST()
    }}
}};

static void acme_rtc_class_init(ObjectClass *klass, const void *data)
{{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->vmsd = &vmstate_acme_rtc;
}}
"""


POST_LOAD = "    .post_load = acme_rtc_post_load,\n"


def post_load(body: str) -> str:
    return (
        "static int acme_rtc_post_load(void *opaque, int version_id)\n"
        "{\n    AcmeRtcState *s = opaque;\n\n" + body + "    return 0;\n}\n"
    )


def findings(repo: MiniRepo, before: dict[str, str], after: dict[str, str]) -> list[str]:
    commit_change(repo, {HEADER: HEADER_TEXT, KVM_FILE: KVM_TEXT, **before}, "base")
    base = repo.rev("HEAD")
    head = commit_change(repo, dict(after), "change")
    report = review(
        change_from_range(repo.path, f"{base}..{head}"), ReviewOptions(tier=Tier.BIDIRECTIONAL)
    )
    return [f"{f.path}:{f.line} {f.message}" for f in report.findings if f.rule_id == "MIG063"]


PLAIN = device(post_load("    s->ctrl &= 1;\n"), POST_LOAD)


def test_a_call_in_the_else_of_a_kvm_check_runs_under_tcg(mini_repo: MiniRepo) -> None:
    body = (
        "    if (kvm_enabled()) {\n        s->ctrl &= 1;\n    } else {\n"
        "        kvm_acme_rtc_set_offset(s);\n    }\n"
    )
    got = findings(mini_repo, {DEVICE: PLAIN}, {DEVICE: device(post_load(body), POST_LOAD)})
    assert len(got) == 1 and got[0].startswith(f"{DEVICE}:13 ")
    assert "acme_rtc_post_load() of 'acme-rtc'" in got[0]


def test_a_savevm_handlers_load_function_is_a_hook(mini_repo: MiniRepo) -> None:
    handlers = (
        "static int acme_rtc_load(QEMUFile *f, void *opaque, int version_id)\n"
        "{\n    AcmeRtcState *s = opaque;\n\n"
        "    s->offset = qemu_get_be64(f);\n    return kvm_acme_rtc_set_offset(s);\n}\n\n"
        "static SaveVMHandlers savevm_acme_rtc = {\n"
        "    .load_state = acme_rtc_load,\n};\n"
    )
    got = findings(mini_repo, {DEVICE: PLAIN}, {DEVICE: PLAIN + "\n" + handlers})
    assert len(got) == 1 and "acme_rtc_load() of 'its SaveVMHandlers'" in got[0]


@pytest.mark.parametrize(
    "body",
    [
        "    assert(kvm_enabled());\n    kvm_acme_rtc_set_offset(s);\n",
        "    if (!kvm_enabled()) {\n        return 0;\n    }\n    kvm_acme_rtc_set_offset(s);\n",
        "    if (tcg_enabled()) {\n        return 0;\n    }\n    kvm_acme_rtc_set_offset(s);\n",
        "    s->ctrl = kvm_enabled() ? kvm_acme_rtc_set_offset(s) : 0;\n",
        "    if (kvm_enabled() && s->offset) {\n        kvm_acme_rtc_set_offset(s);\n    }\n",
        "    acme_rtc_common_sync(s);\n",
    ],
    ids=["assert", "early-return", "tcg-return", "ternary", "and", "not-kvm-only-callee"],
)
def test_checked_or_not_kvm_calls_are_silent(mini_repo: MiniRepo, body: str) -> None:
    common = (
        "void acme_rtc_common_sync(AcmeRtcState *s)\n{\n    kvm_vm_ioctl(kvm_state, 0, s);\n}\n"
    )
    after = {DEVICE: device(post_load(body), POST_LOAD), "hw/timer/acme_rtc_common.c": common}
    assert findings(mini_repo, {DEVICE: PLAIN}, after) == []


def test_an_unchecked_call_the_base_already_had_is_old_news(mini_repo: MiniRepo) -> None:
    before = device(post_load("    kvm_acme_rtc_set_offset(s);\n"), POST_LOAD)
    after = device(post_load("    kvm_acme_rtc_set_offset(s);\n    s->ctrl &= 1;\n"), POST_LOAD)
    assert findings(mini_repo, {DEVICE: before}, {DEVICE: after}) == []


def test_hooks_of_code_built_for_kvm_only_are_not_judged(mini_repo: MiniRepo) -> None:
    kvm_device = KVM_TEXT + "\n" + device(post_load("    kvm_acme_rtc_set_offset(s);\n"), POST_LOAD)
    assert findings(mini_repo, {}, {KVM_FILE: kvm_device}) == []
