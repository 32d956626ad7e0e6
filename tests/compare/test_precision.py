"""False-alarm classes found on real history, and the true findings next to them.

Each test is a QEMU-style example of a class (not QEMU code): the change a
maintainer accepts stays quiet, the one that breaks a stream is still reported.
"""

from __future__ import annotations

from bot.compare.aliases import aliased_types
from bot.compare.context import Context
from bot.compare.engine import compare
from bot.compare.local_wire import with_local_wire
from tests.harness import SNIPPET_PATH, facts, file_models, kinds

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


DMA_OLD = """
static const VMStateDescription vmstate_acme_chan = {
    .name = "acme-dma/chan",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(src, AcmeDmaChan),
        VMSTATE_UINT32(dst, AcmeDmaChan),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_acme_dma = {
    .name = "acme-dma",
    .version_id = 3,
    .minimum_version_id = 3,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(ctrl, AcmeDmaState),
        VMSTATE_STRUCT_ARRAY(chan, AcmeDmaState, 4, 1, vmstate_acme_chan, AcmeDmaChan),
        VMSTATE_END_OF_LIST()
    }
};

static void acme_dma_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->vmsd = &vmstate_acme_dma;
}
"""

CHAN_GROWN = DMA_OLD.replace(
    "        VMSTATE_UINT32(dst, AcmeDmaChan),\n",
    "        VMSTATE_UINT32(dst, AcmeDmaChan),\n        VMSTATE_UINT32(count, AcmeDmaChan),\n",
).replace(
    '    .name = "acme-dma/chan",\n    .version_id = 1,\n    .minimum_version_id = 1,',
    '    .name = "acme-dma/chan",\n    .version_id = 2,\n    .minimum_version_id = 2,',
)


def _with_nested_users(old: str, new: str) -> list[str]:
    """Facts with the tree lookup of embedding VMSDs, as the pipeline has it."""
    pair = file_models(old, new)
    assert pair.new is not None
    model = pair.new

    def users(ident: str) -> tuple[str, ...]:
        return tuple(v.name or v.ident for v in model.vmsds for f in v.fields if f.vmsd == ident)

    ctx = Context(nested_users=users, changed_paths=frozenset({pair.path}))
    return kinds(compare([pair], ctx))


def test_a_nested_vmsd_grown_under_a_parent_that_refuses_old_streams_is_one_finding() -> None:
    # Every stream holding the channels is refused by the parent's new minimum:
    # the grown channel is covered by that one clean refusal.
    new = CHAN_GROWN.replace(
        '    .name = "acme-dma",\n    .version_id = 3,\n    .minimum_version_id = 3,',
        '    .name = "acme-dma",\n    .version_id = 4,\n    .minimum_version_id = 4,',
    )
    assert _with_nested_users(DMA_OLD, new) == ["MinimumVersionRaised"]


def test_a_nested_vmsd_grown_under_a_parent_that_still_loads_old_streams_is_reported() -> None:
    new = CHAN_GROWN.replace(
        '    .name = "acme-dma",\n    .version_id = 3,',
        '    .name = "acme-dma",\n    .version_id = 4,',
    )
    assert "FieldAdded" in _with_nested_users(DMA_OLD, new)


PROPS_OLD = """
static const Property acme_nic_properties[] = {
    DEFINE_PROP_UINT32("bootrom", AcmeNicState, bootrom, 1),
    DEFINE_PROP_BOOL("x-wol", AcmeNicState, wol, true),
};
"""


def test_a_default_moved_to_a_value_the_old_type_could_not_hold_marks_unset() -> None:
    # -1 (and "auto") could not be typed before: they tell "not set by the user"
    # from an explicit value, and the default behaviour stays.
    new = PROPS_OLD.replace(
        'DEFINE_PROP_UINT32("bootrom", AcmeNicState, bootrom, 1)',
        'DEFINE_PROP_INT32("bootrom", AcmeNicState, bootrom, -1)',
    ).replace(
        'DEFINE_PROP_BOOL("x-wol", AcmeNicState, wol, true)',
        'DEFINE_PROP_ON_OFF_AUTO("x-wol", AcmeNicState, wol, ON_OFF_AUTO_AUTO)',
    )
    assert kinds(facts(PROPS_OLD, new)) == []


def test_a_default_changed_within_the_same_type_is_still_reported() -> None:
    new = PROPS_OLD.replace(
        'DEFINE_PROP_UINT32("bootrom", AcmeNicState, bootrom, 1)',
        'DEFINE_PROP_UINT32("bootrom", AcmeNicState, bootrom, 0)',
    ).replace(
        'DEFINE_PROP_BOOL("x-wol", AcmeNicState, wol, true)',
        'DEFINE_PROP_ON_OFF_AUTO("x-wol", AcmeNicState, wol, ON_OFF_AUTO_OFF)',
    )
    assert kinds(facts(PROPS_OLD, new)) == ["PropertyDefaultChanged", "PropertyDefaultChanged"]


SUB_OLD = """
static bool acme_cpu_hyp_needed(void *opaque)
{
    AcmeCPU *cpu = opaque;

    return cpu->env.has_hyp;
}

static const VMStateDescription vmstate_acme_cpu_hyp = {
    .name = "cpu/hyp",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = acme_cpu_hyp_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(env.hstatus, AcmeCPU),
        VMSTATE_UINT64(env.htimedelta, AcmeCPU),
        VMSTATE_END_OF_LIST()
    }
};

const VMStateDescription vmstate_acme_cpu = {
    .name = "cpu",
    .version_id = 3,
    .minimum_version_id = 3,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(env.pc, AcmeCPU),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_acme_cpu_hyp,
        NULL
    }
};
"""


def test_a_subsection_grown_under_a_parent_that_refuses_old_streams_is_one_finding() -> None:
    grown = SUB_OLD.replace(
        "        VMSTATE_UINT64(env.htimedelta, AcmeCPU),\n",
        "        VMSTATE_UINT64(env.htimedelta, AcmeCPU),\n"
        "        VMSTATE_UINT64(env.vstimecmp, AcmeCPU),\n",
    )
    refusing = grown.replace(
        '    .name = "cpu",\n    .version_id = 3,\n    .minimum_version_id = 3,',
        '    .name = "cpu",\n    .version_id = 4,\n    .minimum_version_id = 4,',
    )
    assert kinds(facts(SUB_OLD, refusing)) == ["MinimumVersionRaised"]
    assert "FieldAdded" in kinds(facts(SUB_OLD, grown))


NVM_OLD = """
static const VMStateDescription acme_nvm_vmstate = {
    .name = "acme-nvm",
    .unmigratable = 1,
};

static const Property acme_nvm_props[] = {
    DEFINE_PROP_BOOL("ioeventfd", AcmeNvmState, ioeventfd, true),
};

static void acme_nvm_class_init(ObjectClass *oc, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    device_class_set_props(dc, acme_nvm_props);
    dc->vmsd = &acme_nvm_vmstate;
}
"""


def test_defaults_of_a_device_that_refuses_to_migrate_keep_no_stream() -> None:
    new = NVM_OLD.replace(
        'DEFINE_PROP_BOOL("ioeventfd", AcmeNvmState, ioeventfd, true)',
        'DEFINE_PROP_BOOL("ioeventfd", AcmeNvmState, ioeventfd, false)',
    )
    assert kinds(facts(NVM_OLD, new)) == []
    migratable_old = NVM_OLD.replace("    .unmigratable = 1,\n", "    .version_id = 1,\n")
    migratable_new = new.replace("    .unmigratable = 1,\n", "    .version_id = 1,\n")
    assert kinds(facts(migratable_old, migratable_new)) == ["PropertyDefaultChanged"]


def test_a_bool_widened_to_a_byte_sends_the_same_byte() -> None:
    old = """
static const VMStateDescription vmstate_acme_wdt = {
    .name = "acme-wdt",
    .version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(use, AcmeWdtState),
        VMSTATE_BOOL(expired, AcmeWdtState),
        VMSTATE_UINT16(timeout, AcmeWdtState),
        VMSTATE_END_OF_LIST()
    }
};
"""
    byte = old.replace("VMSTATE_BOOL(expired,", "VMSTATE_UINT8(expired,")
    assert kinds(facts(old, byte)) == []
    wider = old.replace("VMSTATE_BOOL(expired,", "VMSTATE_UINT16(expired,")
    assert kinds(facts(old, wider)) == ["FieldChanged"]


ETH_OLD = """
static const Property acme_eth_properties[] = {
    DEFINE_PROP_UINT32("mtu", AcmeEthState, mtu, 1500),
};

static void acme_eth_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    device_class_set_props(dc, acme_eth_properties);
}

static const char *const acme_eth_models[] = { "acme-eth", "acme-eth-fast" };

static void acme_eth_register_types(void)
{
    TypeInfo info = {
        .parent = TYPE_PCI_DEVICE,
        .instance_size = sizeof(AcmeEthState),
        .class_init = acme_eth_class_init,
    };
    int i;

    for (i = 0; i < ARRAY_SIZE(acme_eth_models); i++) {
        info.name = acme_eth_models[i];
        type_register_static(&info);
    }
}
"""

ETH2_OLD = """
static const Property acme_eth2_properties[] = {
    DEFINE_PROP_UINT32("mtu", AcmeEth2State, mtu, 1500),
};

static void acme_eth2_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    device_class_set_props(dc, acme_eth2_properties);
}

static const TypeInfo acme_eth2_info = {
    .name = "acme-eth2",
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(AcmeEth2State),
    .class_init = acme_eth2_class_init,
};
"""

COMPAT_OLD = """
GlobalProperty hw_compat_2_1[] = {
    { "acme-uart", "x-fifo", "off" },
};
const size_t hw_compat_2_1_len = G_N_ELEMENTS(hw_compat_2_1);
"""


def test_entries_for_a_property_whose_types_are_registered_in_a_loop_are_not_misplaced() -> None:
    # The same property goes to two NICs; one registers its types at run time,
    # so which types carry the property is only known for the other one.
    vet = '    DEFINE_PROP_BOOL("init-vet", {}, init_vet, true),\n'
    eth = ETH_OLD.replace("1500),\n};", "1500),\n" + vet.format("AcmeEthState") + "};")
    eth2 = ETH2_OLD.replace("1500),\n};", "1500),\n" + vet.format("AcmeEth2State") + "};")
    compat = COMPAT_OLD.replace(
        '    { "acme-uart", "x-fifo", "off" },\n',
        '    { "acme-uart", "x-fifo", "off" },\n'
        '    { "acme-eth", "init-vet", "off" },\n'
        '    { "acme-eth2", "init-vet", "off" },\n',
    )
    others = [
        file_models(ETH2_OLD, eth2, "hw/net/acme_eth2.c"),
        file_models(COMPAT_OLD, compat, "hw/core/machine.c"),
    ]
    found = kinds(facts(ETH_OLD, eth, "hw/net/acme_eth.c", others=others))
    assert "CompatEntryWrongDriver" not in found
    assert "PropertyAdded" in found


def test_a_compat_property_spelt_by_its_macro_is_the_same_entry() -> None:
    old = """
GlobalProperty pc_compat_2_1[] = {
    { "ACME-LPC", "acme-hotplug-bridges", "off" },
};
const size_t pc_compat_2_1_len = G_N_ELEMENTS(pc_compat_2_1);
"""
    new = old.replace('"acme-hotplug-bridges"', "ACME_PM_PROP_HOTPLUG_BRIDGES")
    strings = {"ACME_PM_PROP_HOTPLUG_BRIDGES": "acme-hotplug-bridges"}
    pair = file_models(old, new, "hw/i386/pc.c")
    ctx = Context(resolve=strings.get, resolve_old=strings.get, changed_paths=frozenset())
    assert kinds(compare([pair], ctx)) == []
    renamed = old.replace('"acme-hotplug-bridges"', '"acme-hotplug"')
    assert kinds(compare([file_models(old, renamed, "hw/i386/pc.c")], ctx)) == [
        "CompatEntryAdded",
        "CompatEntryRemoved",
    ]


def test_a_test_predicate_renamed_with_the_member_it_reads_gates_the_same_bytes() -> None:
    old = """
static bool acme_net_multiqueue(void *opaque, int version_id)
{
    AcmeNetState *n = opaque;

    return n->max_queues > 1;
}

static const VMStateDescription vmstate_acme_net = {
    .name = "acme-net",
    .version_id = 2,
    .minimum_version_id = 2,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(status, AcmeNetState),
        VMSTATE_UINT16_TEST(curr_queues, AcmeNetState, acme_net_multiqueue),
        VMSTATE_END_OF_LIST()
    }
};
"""
    new = (
        old.replace("acme_net_multiqueue", "acme_net_multiqueue_pairs")
        .replace("n->max_queues", "n->max_queue_pairs")
        .replace("curr_queues,", "curr_queue_pairs,")
    )
    assert kinds(facts(old, new)) == []
    dropped = old.replace(
        "        VMSTATE_UINT16_TEST(curr_queues, AcmeNetState, acme_net_multiqueue),\n", ""
    )
    assert kinds(facts(old, dropped)) == ["FieldRemoved"]


def test_a_version_equality_gate_the_tree_had_is_not_new_when_its_line_is_reformatted() -> None:
    old = """
static bool acme_snd_is_version_2 (void *opaque, int version_id)
{
    return version_id == 2;
}

static const VMStateDescription vmstate_acme_snd = {
    .name = "acme-snd",
    .version_id = 3,
    .minimum_version_id = 2,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32 (glob_cnt, AcmeSndState),
        VMSTATE_UINT32_TEST (mixer, AcmeSndState, acme_snd_is_version_2),
        VMSTATE_END_OF_LIST ()
    }
};
"""
    reformatted = old.replace(" (", "(")
    assert kinds(facts(old, reformatted)) == []
    gated = old.replace(
        "        VMSTATE_END_OF_LIST ()\n",
        "        VMSTATE_UINT32_TEST(volume, AcmeSndState, acme_snd_is_version_2),\n"
        "        VMSTATE_END_OF_LIST ()\n",
    )
    assert "TestComparesVersionEq" in kinds(facts(old, gated))


VSOCK_COMMON_OLD = """
static const Property acme_vsock_common_properties[] = {
    DEFINE_PROP_UINT32("guest-cid", AcmeVsockCommon, cid, 3),
};

static void acme_vsock_common_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    device_class_set_props(dc, acme_vsock_common_properties);
}

static const TypeInfo acme_vsock_common_info = {
    .name = "acme-vsock-common",
    .parent = TYPE_VIRTIO_DEVICE,
    .abstract = true,
    .class_init = acme_vsock_common_class_init,
};
"""

VSOCK_DEVICE = """
static const TypeInfo acme_vsock_info = {
    .name = "acme-vsock-device",
    .parent = "acme-vsock-common",
    .instance_size = sizeof(AcmeVsock),
};
"""


def test_a_compat_entry_naming_a_subclass_of_the_property_owner_reaches_it() -> None:
    common = VSOCK_COMMON_OLD.replace(
        "3),\n};", '3),\n    DEFINE_PROP_BOOL("seqpacket", AcmeVsockCommon, seqpacket, true),\n};'
    )

    def entry(driver: str) -> list[str]:
        compat = COMPAT_OLD.replace(
            '    { "acme-uart", "x-fifo", "off" },\n',
            f'    {{ "acme-uart", "x-fifo", "off" }},\n    {{ "{driver}", "seqpacket", "off" }},\n',
        )
        others = [
            file_models(VSOCK_DEVICE, VSOCK_DEVICE, "hw/virtio/acme-vsock.c"),
            file_models(COMPAT_OLD, compat, "hw/core/machine.c"),
        ]
        return kinds(
            facts(VSOCK_COMMON_OLD, common, "hw/virtio/acme-vsock-common.c", others=others)
        )

    assert "CompatEntryWrongDriver" not in entry("acme-vsock-device")
    assert "CompatEntryWrongDriver" in entry("acme-vsock-pci")


CMOS_OLD = """
static const VMStateDescription vmstate_acme_rtc_cmos = {
    .name = "acme-rtc-cmos",
    .version_id = 2,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_BUFFER(cmos, AcmeRTCState),
        VMSTATE_UINT8(index, AcmeRTCState),
        VMSTATE_END_OF_LIST()
    }
};
"""


def test_a_buffer_of_a_renamed_state_struct_keeps_its_size() -> None:
    # The buffer's size is sizeof the member: naming the struct anew
    # (AcmeRTCState -> AcmeRtcCmosState) leaves every byte where it was.
    new = CMOS_OLD.replace("AcmeRTCState", "AcmeRtcCmosState")
    assert kinds(facts(CMOS_OLD, new)) == []


def test_a_buffer_taken_from_another_struct_than_its_neighbours_is_still_reported() -> None:
    # Only the buffer's struct changes: its member there may have another size.
    new = CMOS_OLD.replace("VMSTATE_BUFFER(cmos, AcmeRTCState)", "VMSTATE_BUFFER(cmos, AcmeNvram)")
    assert kinds(facts(CMOS_OLD, new)) != []


TABLES_OLD = """
static const VMStateDescription vmstate_acme_nic = {
    .name = "acme-nic",
    .version_id = 2,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(ctrl, AcmeNicState),
        VMSTATE_UINT32_SUB_ARRAY(regs, AcmeNicState, RAL, 16),
        VMSTATE_UINT32_SUB_ARRAY(regs, AcmeNicState, MTA, 128),
        VMSTATE_UINT32_SUB_ARRAY(regs, AcmeNicState, VTA, 128),
        VMSTATE_END_OF_LIST()
    }
};
"""


def test_sub_arrays_of_one_member_counted_by_a_constant_are_the_same_fields() -> None:
    # Several entries share the member's name: each keeps its place, and a
    # count spelt by a header constant is not judged as changed.
    new = TABLES_OLD.replace("MTA, 128", "MTA, ACME_MTA_SIZE").replace(
        "VTA, 128", "VTA,\n                                 ACME_VTA_SIZE"
    )
    assert kinds(facts(TABLES_OLD, new)) == []


def test_a_sub_array_of_one_member_dropped_is_still_a_removal() -> None:
    dropped = "        VMSTATE_UINT32_SUB_ARRAY(regs, AcmeNicState, MTA, 128),\n"
    new = TABLES_OLD.replace(dropped, "")
    assert "FieldRemoved" in kinds(facts(TABLES_OLD, new))


MIXER_OLD = """
static const VMStateDescription vmstate_acme_mixer = {
    .name = "acme-mixer",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(irq, AcmeMixerState),
        VMSTATE_UINT32(dma, AcmeMixerState),
        VMSTATE_UINT32(port, AcmeMixerState),
        VMSTATE_INT32(left, AcmeMixerState),
        VMSTATE_BUFFER(regs, AcmeMixerState),
        VMSTATE_INT32(right, AcmeMixerState),
        VMSTATE_END_OF_LIST()
    }
};
"""

MIXER_RETIRED = """        VMSTATE_UINT32(irq, AcmeMixerState),
        VMSTATE_UINT32(dma, AcmeMixerState),
        VMSTATE_UINT32(port, AcmeMixerState),
"""


def test_retired_fields_padded_beside_a_buffer_keep_their_bytes() -> None:
    # The buffer's size is not known from the file, but it is the same buffer
    # on both sides: one padding of 4 + 4 + 4 bytes stands for three fields.
    new = MIXER_OLD.replace(
        MIXER_RETIRED,
        "        VMSTATE_UNUSED(4 /* irq */ + 4 /* dma */\n"
        "                       + 4 /* port */),\n",
    )
    assert kinds(facts(MIXER_OLD, new)) == []


def test_retired_fields_padded_short_beside_a_buffer_are_still_reported() -> None:
    new = MIXER_OLD.replace(MIXER_RETIRED, "        VMSTATE_UNUSED(8),\n")
    assert kinds(facts(MIXER_OLD, new)) != []


def test_a_buffer_swapped_with_its_neighbour_is_still_reported() -> None:
    buffer = "        VMSTATE_BUFFER(regs, AcmeMixerState),\n"
    right = "        VMSTATE_INT32(right, AcmeMixerState),\n"
    new = MIXER_OLD.replace(buffer + right, right + buffer)
    assert kinds(facts(MIXER_OLD, new)) != []


FPU_OLD = """
static const VMStateDescription vmstate_acme_cpu = {
    .name = "cpu",
    .version_id = 4,
    .minimum_version_id = 4,
    .fields = (const VMStateField[]) {
        VMSTATE_UINTTL(env.pc, AcmeCPU),
        VMSTATE_UINTTL(env.fpcr, AcmeCPU),
        VMSTATE_UINT32(env.sr, AcmeCPU),
        VMSTATE_END_OF_LIST()
    }
};
"""

FPU_ACCESSOR = """
static int get_fpcr(QEMUFile *f, void *opaque, size_t size,
                    const VMStateField *field)
{
    AcmeCPU *cpu = opaque;
    target_ulong val = qemu_get_betl(f);

    acme_cpu_set_fpcr(&cpu->env, val);
    return 0;
}

static int put_fpcr(QEMUFile *f, void *opaque, size_t size,
                    const VMStateField *field, JSONWriter *vmdesc)
{
    AcmeCPU *cpu = opaque;

    qemu_put_betl(f, acme_cpu_get_fpcr(&cpu->env));
    return 0;
}

static const VMStateInfo vmstate_fpcr = {
    .name = "fpcr",
    .get = get_fpcr,
    .put = put_fpcr,
};
"""

FPU_RAW = """        {
            .name = "fpcr",
            .version_id = 0,
            .size = sizeof(target_ulong),
            .info = &vmstate_fpcr,
            .flags = VMS_SINGLE,
            .offset = 0,
        },
"""


def _facts_local_wire(old: str, new: str) -> list[str]:
    pairs = with_local_wire([file_models(old, new)], {SNIPPET_PATH: (old, new)})
    return kinds(compare(pairs, Context()))


def test_a_field_moved_to_an_accessor_info_of_the_same_width_keeps_its_bytes() -> None:
    # put/get move one target_ulong each: what VMSTATE_UINTTL sent.
    new = FPU_ACCESSOR + FPU_OLD.replace("        VMSTATE_UINTTL(env.fpcr, AcmeCPU),\n", FPU_RAW)
    assert _facts_local_wire(FPU_OLD, new) == []


def test_a_field_moved_to_an_accessor_info_of_another_width_is_still_reported() -> None:
    accessor = FPU_ACCESSOR.replace("qemu_get_betl", "qemu_get_be64").replace(
        "qemu_put_betl", "qemu_put_be64"
    )
    new = accessor + FPU_OLD.replace("        VMSTATE_UINTTL(env.fpcr, AcmeCPU),\n", FPU_RAW)
    assert _facts_local_wire(FPU_OLD, new) != []


STATUS_OLD = """
typedef struct {
    uint32_t size;
    uint8_t state[64];
    bool seen;
} AcmeStatus;

static const VMStateDescription vmstate_acme_status = {
    .name = "acme-status",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(size, AcmeStatus),
        VMSTATE_BUFFER(state, AcmeStatus),
        VMSTATE_END_OF_LIST()
    },
};
"""

STATUS_CARVED = STATUS_OLD.replace(
    "    uint8_t state[64];\n",
    "    uint8_t state[16];\n    uint8_t has_flags;\n    uint8_t flags;\n    uint8_t spare[46];\n",
).replace(
    "        VMSTATE_BUFFER(state, AcmeStatus),\n",
    "        VMSTATE_BUFFER(state, AcmeStatus),\n"
    "        VMSTATE_UINT8(has_flags, AcmeStatus),\n"
    "        VMSTATE_UINT8(flags, AcmeStatus),\n"
    "        VMSTATE_BUFFER(spare, AcmeStatus),\n",
)


def test_a_buffer_carved_into_fields_of_the_same_total_keeps_its_bytes() -> None:
    # 64 bytes before; 16 + 1 + 1 + 46 now, at the same place: the stream is the same.
    assert _facts_local_wire(STATUS_OLD, STATUS_CARVED) == []


def test_a_buffer_carved_into_fields_of_more_bytes_is_still_reported() -> None:
    grown = STATUS_CARVED.replace("spare[46]", "spare[50]")
    assert "FieldAdded" in _facts_local_wire(STATUS_OLD, grown)


VSOCK_PCI = """
static void acme_vsock_pci_instance_init(Object *obj)
{
    AcmeVsockPCI *dev = ACME_VSOCK_PCI(obj);

    virtio_instance_init_common(obj, &dev->vdev, sizeof(dev->vdev),
                                "acme-vsock-device");
}

static void acme_other_pci_instance_init(Object *obj)
{
    AcmeOtherPCI *dev = ACME_OTHER_PCI(obj);

    virtio_instance_init_common(obj, &dev->vdev, sizeof(dev->vdev),
                                "acme-other-device");
}

static const VirtioPCIDeviceTypeInfo acme_vsock_pci_info = {
    .generic_name  = "acme-vsock-pci",
    .instance_size = sizeof(AcmeVsockPCI),
    .instance_init = acme_vsock_pci_instance_init,
};

static const VirtioPCIDeviceTypeInfo acme_other_pci_info = {
    .generic_name  = "acme-other-pci",
    .instance_size = sizeof(AcmeOtherPCI),
    .instance_init = acme_other_pci_instance_init,
};
"""


def test_a_virtio_proxy_creating_its_device_carries_the_device_properties() -> None:
    assert aliased_types(VSOCK_PCI, '"acme-vsock-pci"') == ['"acme-vsock-device"']
    assert aliased_types(VSOCK_PCI, '"acme-other-pci"') == ['"acme-other-device"']


def test_a_compat_entry_naming_the_virtio_proxy_of_the_device_reaches_it() -> None:
    # The proxy aliases every property of the device it creates in instance_init:
    # { "acme-vsock-pci", "seqpacket", "off" } sets the device's seqpacket.
    common = VSOCK_COMMON_OLD.replace(
        "3),\n};", '3),\n    DEFINE_PROP_BOOL("seqpacket", AcmeVsockCommon, seqpacket, true),\n};'
    )

    def entry(driver: str) -> list[str]:
        compat = COMPAT_OLD.replace(
            '    { "acme-uart", "x-fifo", "off" },\n',
            f'    {{ "acme-uart", "x-fifo", "off" }},\n    {{ "{driver}", "seqpacket", "off" }},\n',
        )
        pairs = [
            file_models(VSOCK_COMMON_OLD, common, "hw/virtio/acme-vsock-common.c"),
            file_models(VSOCK_DEVICE, VSOCK_DEVICE, "hw/virtio/acme-vsock.c"),
            file_models(COMPAT_OLD, compat, "hw/core/machine.c"),
        ]
        ctx = Context(
            aliased_by=lambda spelt: [t.strip('"') for t in aliased_types(VSOCK_PCI, spelt)]
        )
        return kinds(compare(pairs, ctx))

    assert "CompatEntryWrongDriver" not in entry("acme-vsock-pci")
    assert "CompatEntryWrongDriver" in entry("acme-other-pci")


UART_PROPS = """
static const Property acme_uart_properties[] = {
    DEFINE_PROP_UINT32("baud", AcmeUartState, baud, 9600),
    DEFINE_PROP_BOOL("x-fifo", AcmeUartState, fifo, true),
};

static void acme_uart_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    device_class_set_props(dc, acme_uart_properties);
}

static const TypeInfo acme_uart_info = {
    .name = "acme-uart",
    .parent = TYPE_SYS_BUS_DEVICE,
    .class_init = acme_uart_class_init,
};
"""


def _entry_removed(uart_new: str, spelt_elsewhere: bool) -> list[str]:
    compat = COMPAT_OLD.replace('    { "acme-uart", "x-fifo", "off" },\n', "")
    pairs = [
        file_models(UART_PROPS, uart_new, "hw/char/acme-uart.c"),
        file_models(COMPAT_OLD, compat, "hw/core/machine.c"),
    ]
    return kinds(compare(pairs, Context(mentioned=lambda _ident: spelt_elsewhere)))


def test_a_compat_entry_removed_with_its_property_is_no_removal() -> None:
    # The feature went away (after its deprecation) with the knob that kept it
    # off for old machine types: nothing is left for the entry to set.
    retired = UART_PROPS.replace('    DEFINE_PROP_BOOL("x-fifo", AcmeUartState, fifo, true),\n', "")
    assert "CompatEntryRemoved" not in _entry_removed(retired, spelt_elsewhere=False)


def test_a_compat_entry_removed_while_its_property_lives_on_is_still_reported() -> None:
    assert "CompatEntryRemoved" in _entry_removed(UART_PROPS, spelt_elsewhere=False)
    retired = UART_PROPS.replace('    DEFINE_PROP_BOOL("x-fifo", AcmeUartState, fifo, true),\n', "")
    # Still defined somewhere else in the tree (another file has the property).
    assert "CompatEntryRemoved" in _entry_removed(retired, spelt_elsewhere=True)
