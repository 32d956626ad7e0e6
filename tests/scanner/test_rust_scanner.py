"""The Rust scanner and the twin check, on Rust written in the style of QEMU's bindings."""

from __future__ import annotations

from bot.compare.twinwire import Side, differences
from bot.scanner.macros import fallback_table as c_fallback
from bot.scanner.rust import fallback_table, scan_rust
from bot.scanner.scan import scan

RUST = """
use migration::prelude::*;

pub const UART_DEPTH: u32 = 8;

#[repr(transparent)]
pub struct Queue([u32; UART_DEPTH as usize]);
impl_vmstate_forward!(Queue);

#[repr(C)]
pub struct UartRegs {
    pub status: u32,
    pub count: u8,
}

pub struct UartState {
    regs: BqlRefCell<UartRegs>,
    level: BqlCell<u8>,
    stamp: u64,
}

impl_vmstate_struct!(
    UartRegs,
    VMStateDescriptionBuilder::<UartRegs>::new()
        .name(c"uart/regs")
        .version_id(1)
        .minimum_version_id(1)
        .fields(vmstate_fields! {
            vmstate_of!(UartRegs, status),
            vmstate_of!(UartRegs, count),
        })
        .build()
);

static VMSTATE_UART_LEVEL: VMStateDescription<UartState> =
    VMStateDescriptionBuilder::<UartState>::new()
        .name(c"uart/level")
        .version_id(1)
        .minimum_version_id(1)
        .needed(&UartState::level_needed)
        .fields(vmstate_fields! {
            vmstate_of!(UartState, level),
        })
        .build();

pub const VMSTATE_UART: VMStateDescription<UartState> =
    VMStateDescriptionBuilder::<UartState>::new()
        .name(c"uart")
        .version_id(3)
        .minimum_version_id(2)
        .fields(vmstate_fields! {
            vmstate_unused!(core::mem::size_of::<u32>()),
            vmstate_of!(UartState, regs),
            vmstate_of!(UartState, stamp).with_version_id(3),
        })
        .subsections(vmstate_subsections! {
            VMSTATE_UART_LEVEL,
        })
        .build();

impl DeviceImpl for UartState {
    const VMSTATE: Option<VMStateDescription<Self>> = Some(VMSTATE_UART);
}
"""

C = """
static const VMStateDescription vmstate_uart_level = {
    .name = "uart/level",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = uart_level_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(level, UartState),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_uart = {
    .name = "uart",
    .version_id = 3,
    .minimum_version_id = 2,
    .fields = (const VMStateField[]) {
        VMSTATE_UNUSED(4),
        VMSTATE_UINT32(status, UartState),
        VMSTATE_UINT8(count, UartState),
        VMSTATE_UINT64_V(stamp, UartState, 3),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_uart_level,
        NULL
    }
};
"""

PATH = "rust/hw/char/uart/src/device.rs"


def _rust(text: str = RUST):
    return scan_rust(text, PATH, fallback_table(), c_fallback())


def test_builder_fields_types_versions_and_subsections_are_read() -> None:
    m = _rust()
    assert not m.unknowns
    top = m.vmsd("VMSTATE_UART")
    assert top is not None
    assert (top.name, top.version_id, top.minimum_version_id) == ("uart", 3, 2)
    assert top.subsections == ("VMSTATE_UART_LEVEL",)
    unused, regs, stamp = top.wire_fields
    assert unused.is_unused
    assert regs.vmsd == 'impl_vmstate_struct!("uart/regs")'
    assert (stamp.info, stamp.size, stamp.version) == ("uint64", 8, 3)
    inner = m.vmsd('impl_vmstate_struct!("uart/regs")')
    assert inner is not None
    status, count = inner.wire_fields
    assert (status.info, status.size, count.info, count.size) == ("uint32", 4, "uint8", 1)
    level = m.vmsd("VMSTATE_UART_LEVEL")
    assert level is not None and level.needed == "UartState::level_needed"
    assert [r.vmsd for r in m.registrations] == ["VMSTATE_UART"]


def _diff(rust_text: str) -> list[str]:
    c = scan(C, "hw/char/uart.c", c_fallback())
    r = _rust(rust_text)
    cv, rv = c.vmsd("vmstate_uart"), r.vmsd("VMSTATE_UART")
    assert cv is not None and rv is not None
    return differences(Side("C", [c]), cv, Side("Rust", [r]), rv)


def test_twins_that_send_the_same_bytes_agree() -> None:
    assert _diff(RUST) == []


def test_twin_with_a_wider_field_differs() -> None:
    wider = RUST.replace("level: BqlCell<u8>,", "level: BqlCell<u32>,")
    assert _diff(wider) == [
        "subsection 'uart/level': field 1 is level (1-byte integer) in C, "
        "level (4-byte integer) in Rust"
    ]


def test_twin_with_another_version_differs() -> None:
    bumped = RUST.replace(".version_id(3)", ".version_id(4)")
    assert _diff(bumped) == ["uart: version_id 3 in C, 4 in Rust"]


def test_forms_the_scanner_cannot_follow_are_said_not_guessed() -> None:
    odd = RUST.replace("level: BqlCell<u8>,", "level: chardev::Level,").replace(
        "vmstate_of!(UartState, stamp).with_version_id(3),",
        "vmstate_of!(UartState, nowhere),",
    )
    m = _rust(odd)
    assert [u.what for u in m.unknowns] == [
        "VMSD VMSTATE_UART_LEVEL: type Level has no VMState the scanner can see",
        "VMSD VMSTATE_UART: field nowhere of UartState not found",
    ]
    c = scan(C, "hw/char/uart.c", c_fallback())
    cv, rv = c.vmsd("vmstate_uart"), m.vmsd("VMSTATE_UART")
    assert cv is not None and rv is not None
    assert differences(Side("C", [c]), cv, Side("Rust", [m]), rv) is None


def test_broken_rust_is_read_as_far_as_it_goes() -> None:
    broken = RUST.replace('.name(c"uart/level")', '.name(c"uart/level"')
    m = _rust(broken)
    assert m.vmsds and "Rust that does not parse: VMState not read here" in [
        u.what for u in m.unknowns
    ]
