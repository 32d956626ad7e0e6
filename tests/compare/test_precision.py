"""False-alarm classes found on real history, and the true findings next to them.

Each test is a QEMU-style example of a class (not QEMU code): the change a
maintainer accepts stays quiet, the one that breaks a stream is still reported.
"""

from __future__ import annotations

from tests.harness import facts, kinds

WIDENED_OLD = """
static const VMStateDescription vmstate_acme_rtc = {
    .name = "acme-rtc",
    .version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32_ARRAY(regs, AcmeRtcState, 4),
        VMSTATE_UINT32(delta, AcmeRtcState),
        VMSTATE_UINT32(delta, AcmeRtcState),
        VMSTATE_END_OF_LIST()
    }
};
"""


def test_a_member_widened_over_a_dropped_neighbour_is_still_a_changed_field() -> None:
    # 8 bytes either way, but the 64-bit value is read from two copies of the
    # old 32-bit one: the byte count is kept, the value is not.
    new = WIDENED_OLD.replace(".version_id = 1", ".version_id = 2").replace(
        "        VMSTATE_UINT32(delta, AcmeRtcState),\n"
        "        VMSTATE_UINT32(delta, AcmeRtcState),\n",
        "        VMSTATE_UINT64(delta, AcmeRtcState),\n",
    )
    assert "FieldChanged" in kinds(facts(WIDENED_OLD, new))


def test_two_members_folded_into_one_padding_keep_their_bytes() -> None:
    new = WIDENED_OLD.replace(
        "        VMSTATE_UINT32(delta, AcmeRtcState),\n"
        "        VMSTATE_UINT32(delta, AcmeRtcState),\n",
        "        VMSTATE_UNUSED(8),\n",
    )
    assert kinds(facts(WIDENED_OLD, new)) == []
