"""Cases an independent review of the analyzer found, kept as regressions."""

from __future__ import annotations

from bot.findings import Tier
from bot.pipeline import ReviewOptions
from tests.compare.test_refactors import TIMER, TIMER_H, assert_silent, change_of, edit
from tests.fixtures.minirepo import MiniRepo
from tests.harness import review

BIDIRECTIONAL = ReviewOptions(tier=Tier.BIDIRECTIONAL)


def rules(mini_repo: MiniRepo, files: dict[str, str | None]) -> list[str]:
    return [f.rule_id for f in review(change_of(mini_repo, files), BIDIRECTIONAL).findings]


def test_a_version_spelt_as_a_parenthesised_constant_is_read(mini_repo: MiniRepo) -> None:
    """``#define X (3)`` is a constant, not a macro taking a parameter named 3."""
    base = edit(
        mini_repo,
        TIMER,
        (
            '#include "migration/vmstate.h"\n',
            '#include "migration/vmstate.h"\n\n#define ACME_TIMER_VERSION (2)\n',
        ),
        (
            "    .name = TYPE_ACME_TIMER,\n    .version_id = 2,\n",
            "    .name = TYPE_ACME_TIMER,\n    .version_id = ACME_TIMER_VERSION,\n",
        ),
    )
    change_of(mini_repo, {TIMER: base})
    bumped = base.replace("#define ACME_TIMER_VERSION (2)", "#define ACME_TIMER_VERSION (3)")
    assert rules(mini_repo, {TIMER: bumped}) == ["MIG008"]


def test_a_version_changed_only_through_its_define_is_compared(mini_repo: MiniRepo) -> None:
    """The VMSD's own lines do not change; the #define above it does."""
    base = edit(
        mini_repo,
        TIMER,
        (
            '#include "migration/vmstate.h"\n',
            '#include "migration/vmstate.h"\n\n#define ACME_TIMER_MIN 1\n',
        ),
        (
            "    .version_id = 2,\n    .minimum_version_id = 1,\n",
            "    .version_id = 2,\n    .minimum_version_id = ACME_TIMER_MIN,\n",
        ),
    )
    change_of(mini_repo, {TIMER: base})
    raised = base.replace("#define ACME_TIMER_MIN 1", "#define ACME_TIMER_MIN 2")
    # version 2 is still sent, so only streams older than it are refused: MIG030
    assert rules(mini_repo, {TIMER: raised}) == ["MIG030"]


def test_a_needed_that_returns_true_is_always_sent(mini_repo: MiniRepo) -> None:
    head = "static const VMStateDescription vmstate_acme_timer = {\n"
    sub = (
        "static bool acme_timer_debug_needed(void *opaque)\n{\n    return true;\n}\n\n"
        "static const VMStateDescription vmstate_acme_timer_debug = {\n"
        '    .name = "acme-timer/debug",\n'
        "    .version_id = 1,\n"
        "    .minimum_version_id = 1,\n"
        "    .needed = acme_timer_debug_needed,\n"
        "    .fields = (const VMStateField[]) {\n"
        "        VMSTATE_UINT32(load, AcmeTimerState),\n"
        "        VMSTATE_END_OF_LIST()\n"
        "    }\n"
        "};\n\n"
    )
    new = edit(
        mini_repo,
        TIMER,
        (head, sub + head),
        (
            "        &vmstate_acme_timer_prescaler,\n",
            "        &vmstate_acme_timer_prescaler,\n        &vmstate_acme_timer_debug,\n",
        ),
    )
    assert "MIG011" in rules(mini_repo, {TIMER: new})


def test_target_long_fields_spelt_at_their_width_are_not_a_type_change(
    mini_repo: MiniRepo,
) -> None:
    """UINTTL is 4 or 8 bytes by target: the file alone does not say a change happened."""
    base = edit(
        mini_repo,
        TIMER,
        (
            "        VMSTATE_UINT32(load, AcmeTimerState),\n",
            "        VMSTATE_UINTTL(load, AcmeTimerState),\n",
        ),
    )
    change_of(mini_repo, {TIMER: base})
    wide = base.replace(
        "VMSTATE_UINTTL(load, AcmeTimerState)", "VMSTATE_UINT64(load, AcmeTimerState)"
    )
    assert_silent(change_of(mini_repo, {TIMER: wide}))


CPU = "target/acme/machine.c"

_CPU_BASE = """\
/*
 * ACME CPU migration state, with a named subsection list.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "migration/vmstate.h"

static bool fpu_needed(void *opaque)
{
    AcmeCPU *cpu = opaque;

    return cpu->env.fpu_enabled;
}

static const VMStateDescription vmstate_fpu = {
    .name = "cpu/fpu",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = fpu_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(env.fpcsr, AcmeCPU),
        VMSTATE_END_OF_LIST()
    }
};
/*DEBUG*/
static const VMStateDescription * const vmstate_cpu_subsections[] = {
    &vmstate_fpu,
    NULL
};

const VMStateDescription vmstate_acme_cpu = {
    .name = "cpu",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(env.pc, AcmeCPU),
        VMSTATE_END_OF_LIST()
    },
    .subsections = vmstate_cpu_subsections,
};
"""

_DEBUG = """\
static const VMStateDescription vmstate_debug = {
    .name = "cpu/debug",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(env.dbg, AcmeCPU),
        VMSTATE_END_OF_LIST()
    }
};
"""


def test_a_subsection_added_to_a_named_list_is_judged(mini_repo: MiniRepo) -> None:
    """``.subsections = vmstate_cpu_subsections``: the list is read where it is defined."""
    change_of(mini_repo, {CPU: _CPU_BASE})
    added = _CPU_BASE.replace("/*DEBUG*/\n", _DEBUG).replace(
        "    &vmstate_fpu,\n", "    &vmstate_fpu,\n    &vmstate_debug,\n"
    )
    report = review(change_of(mini_repo, {CPU: added}), BIDIRECTIONAL)
    assert [f.rule_id for f in report.findings] == ["MIG011"]
    assert report.not_understood == ()


_CAPTURE_SUB = (
    "static bool acme_timer_capture_needed(void *opaque)\n{\n"
    "    AcmeTimerState *s = opaque;\n\n"
    "    return acme_timer_has_feature(s, ACME_TIMER_FEATURE_CAPTURE);\n}\n\n"
    "static const VMStateDescription vmstate_acme_timer_capture = {\n"
    '    .name = "acme-timer/capture",\n'
    "    .version_id = 1,\n    .minimum_version_id = 1,\n"
    "    .needed = acme_timer_capture_needed,\n"
    "    .fields = (const VMStateField[]) {\n"
    "        VMSTATE_UINT32(capture, AcmeTimerState),\n"
    "        VMSTATE_END_OF_LIST()\n    }\n};\n\n"
)
_CAPTURE_LIST = (
    "        &vmstate_acme_timer_prescaler,\n        NULL\n",
    "        &vmstate_acme_timer_prescaler,\n        &vmstate_acme_timer_capture,\n        NULL\n",
)
_FEATURE_DEF = "#define ACME_TIMER_FEATURE_CAPTURE 3\n"


def _with_capture_subsection(mini_repo: MiniRepo) -> None:
    timer = edit(
        mini_repo,
        TIMER,
        (
            "static const VMStateDescription vmstate_acme_timer = {\n",
            _CAPTURE_SUB + "static const VMStateDescription vmstate_acme_timer = {\n",
        ),
        _CAPTURE_LIST,
    )
    header = edit(
        mini_repo,
        TIMER_H,
        (
            "#define ACME_TIMER_NUM_CHANNELS 4\n",
            "#define ACME_TIMER_NUM_CHANNELS 4\n" + _FEATURE_DEF,
        ),
    )
    change_of(mini_repo, {TIMER: timer, TIMER_H: header})


def _without_capture_subsection(mini_repo: MiniRepo) -> str:
    return edit(
        mini_repo,
        TIMER,
        (_CAPTURE_SUB, ""),
        (_CAPTURE_LIST[1], _CAPTURE_LIST[0]),
    )


def test_a_subsection_removed_with_the_cpu_feature_that_gated_it_is_cleanup(
    mini_repo: MiniRepo,
) -> None:
    """Nothing in the tree has the feature any more: no machine type sends it."""
    _with_capture_subsection(mini_repo)
    header = edit(mini_repo, TIMER_H, (_FEATURE_DEF, ""))
    timer = _without_capture_subsection(mini_repo)
    assert "MIG015" not in rules(mini_repo, {TIMER: timer, TIMER_H: header})


def test_a_subsection_removed_while_its_feature_lives_is_still_reported(
    mini_repo: MiniRepo,
) -> None:
    _with_capture_subsection(mini_repo)
    assert "MIG015" in rules(mini_repo, {TIMER: _without_capture_subsection(mini_repo)})
