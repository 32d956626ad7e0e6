"""Compat entries held against the releases whose machine types they pin."""

from __future__ import annotations

from bot.findings import Finding, Tier
from bot.pipeline import ReviewOptions
from tests.compare.test_refactors import MACHINE, TIMER, change_of, edit
from tests.fixtures.minirepo import MiniRepo
from tests.harness import review

BIDIRECTIONAL = ReviewOptions(tier=Tier.BIDIRECTIONAL)
TSC_ON = '    DEFINE_PROP_BOOL("x-tsc-sync", AcmeTimerState, tsc_sync, true),\n'
TSC_OFF = '    DEFINE_PROP_BOOL("x-tsc-sync", AcmeTimerState, tsc_sync, false),\n'
NEWEST = '    { "acme-timer", "x-migrate-prescaler", "off" },\n'
OLDER = '    { TYPE_ACME_UART, "x-legacy-lsr", "on" },\n'


def release(repo: MiniRepo, version: str) -> None:
    """QEMU's release steps: VERSION reads X.Y.0, then X.Y.50 for the next cycle."""
    repo.write({"VERSION": f"{version}.0\n"})
    repo.commit(f"Update version for v{version}.0 release")
    repo.write({"VERSION": f"{version}.50\n"})
    repo.commit("Open the next development tree")


def findings(repo: MiniRepo, files: dict[str, str | None]) -> list[Finding]:
    return list(review(change_of(repo, files), BIDIRECTIONAL).findings)


def test_an_entry_that_turns_off_what_the_release_shipped_is_an_error(
    mini_repo: MiniRepo,
) -> None:
    """QEMU 10.2 ran pc-q35-10.2 with x-tsc-sync on; pinning it off changes them."""
    release(mini_repo, "10.2")
    entry = NEWEST + '    { "acme-timer", "x-tsc-sync", "off" },\n'
    (found,) = [
        f
        for f in findings(mini_repo, {MACHINE: edit(mini_repo, MACHINE, (NEWEST, entry))})
        if f.severity.value == "error"
    ]
    assert found.slug == "compat-entry-changes-released-machines"
    assert "QEMU 10.2.0 ran its machine types with the default true" in found.message


def test_an_entry_that_keeps_the_released_default_is_not(mini_repo: MiniRepo) -> None:
    """The usual change: the default flips in this cycle, the entry keeps the old one."""
    release(mini_repo, "10.2")
    entry = NEWEST + '    { "acme-timer", "x-tsc-sync", "on" },\n'
    got = findings(
        mini_repo,
        {
            MACHINE: edit(mini_repo, MACHINE, (NEWEST, entry)),
            TIMER: edit(mini_repo, TIMER, (TSC_ON, TSC_OFF)),
        },
    )
    assert [f.slug for f in got if f.severity.value in ("error", "warning")] == []


def test_board_code_setting_the_property_leaves_it_unjudged(mini_repo: MiniRepo) -> None:
    """When board code sets the property, the default alone does not say what ran."""
    board = edit(
        mini_repo,
        TIMER,
        (
            "static void acme_timer_class_init(",
            "void acme_timer_quiet(DeviceState *dev)\n{\n"
            '    qdev_prop_set_bit(dev, "x-tsc-sync", false);\n}\n\n'
            "static void acme_timer_class_init(",
        ),
    )
    mini_repo.write({TIMER: board})
    mini_repo.commit("hw/timer/acme_timer: quiet mode for boards")
    release(mini_repo, "10.2")
    entry = NEWEST + '    { "acme-timer", "x-tsc-sync", "off" },\n'
    got = findings(mini_repo, {MACHINE: edit(mini_repo, MACHINE, (NEWEST, entry))})
    assert "compat-entry-changes-released-machines" not in [f.slug for f in got]


def test_an_older_array_is_right_when_the_next_release_changed_the_default(
    mini_repo: MiniRepo,
) -> None:
    """x-tsc-sync was on in 10.1 and off in 10.2 (changed without an entry): the fix
    pins 10.1 machine types to on, and 10.2 ones keep what 10.2 shipped."""
    release(mini_repo, "10.1")
    mini_repo.write({TIMER: edit(mini_repo, TIMER, (TSC_ON, TSC_OFF))})
    mini_repo.commit("hw/timer/acme_timer: no TSC sync by default")
    release(mini_repo, "10.2")
    entry = OLDER + '    { "acme-timer", "x-tsc-sync", "on" },\n'
    got = findings(mini_repo, {MACHINE: edit(mini_repo, MACHINE, (OLDER, entry))})
    assert [f.slug for f in got if f.severity.value in ("error", "warning")] == []
    (note,) = [f for f in got if f.slug == "compat-entry-for-released-change"]
    assert "10.2.0, whose default is false" in note.message


def test_an_older_array_without_a_released_change_is_still_wrong(mini_repo: MiniRepo) -> None:
    """Both 10.1 and 10.2 shipped x-tsc-sync on: the default changes now, so the entry
    belongs in the newest array, and hw_compat_10_1 leaves pc-q35-10.2 changed."""
    release(mini_repo, "10.1")
    release(mini_repo, "10.2")
    entry = OLDER + '    { "acme-timer", "x-tsc-sync", "on" },\n'
    got = findings(
        mini_repo,
        {
            MACHINE: edit(mini_repo, MACHINE, (OLDER, entry)),
            TIMER: edit(mini_repo, TIMER, (TSC_ON, TSC_OFF)),
        },
    )
    assert "compat-entry-wrong-array" in [f.slug for f in got if f.severity.value == "error"]


def test_a_bit_property_spelt_on_off_is_the_same_value(mini_repo: MiniRepo) -> None:
    """DEFINE_PROP_BIT64 defaults are booleans: "off" is the released false."""
    mini_repo.write(
        {
            TIMER: edit(
                mini_repo,
                TIMER,
                (
                    TSC_ON,
                    TSC_ON + '    DEFINE_PROP_BIT64("x-sync-irq", AcmeTimerState, features,\n'
                    "                      ACME_TIMER_F_SYNC_IRQ_BIT, false),\n",
                ),
            )
        }
    )
    mini_repo.commit("hw/timer/acme_timer: optional sync interrupt")
    release(mini_repo, "10.2")
    flipped = edit(
        mini_repo,
        TIMER,
        ("ACME_TIMER_F_SYNC_IRQ_BIT, false),", "ACME_TIMER_F_SYNC_IRQ_BIT, true),"),
    )
    entry = NEWEST + '    { "acme-timer", "x-sync-irq", "off" },\n'
    got = findings(mini_repo, {MACHINE: edit(mini_repo, MACHINE, (NEWEST, entry)), TIMER: flipped})
    assert [f.slug for f in got if f.severity.value in ("error", "warning")] == []
    mini_repo.git("reset", "-q", "--hard", "HEAD~1")
    entry = NEWEST + '    { "acme-timer", "x-sync-irq", "on" },\n'
    got = findings(mini_repo, {MACHINE: edit(mini_repo, MACHINE, (NEWEST, entry))})
    assert "compat-entry-changes-released-machines" in [f.slug for f in got]
