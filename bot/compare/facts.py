"""Typed differences between the old and new models of a change.

``compare`` produces these; ``judge`` turns them into findings. A fact says
what happened, never whether it is allowed: that depends on the tier.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.findings import Side
from bot.scanner.model import CompatEntry, FieldModel, PropertyModel, Registration, VmsdModel


@dataclass(frozen=True, slots=True, kw_only=True)
class Fact:
    path: str
    line: int | None
    side: Side = Side.NEW
    vmsd: str | None = None
    """Section name of the VMSD the fact is about (C identifier when unresolved)."""
    subject: str | None = None


# --- fields -------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldAdded(Fact):
    field: FieldModel
    at_end: bool
    vmsd_version_old: int
    vmsd_version_new: int | None
    """None when it could not be seen (a patch judged from its hunks)."""
    in_new_vmsd_version: bool
    """The field is ``_V`` gated at a version the VMSD gained in this change."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldRemoved(Fact):
    field: FieldModel
    replacement: FieldModel | None
    """The ``VMSTATE_UNUSED`` put in its place, if any."""
    config_gated: bool = False
    """Sent only when a ``_TEST`` predicate that reads configuration (a property a
    compat entry sets) said so: cleanup when that configuration went with its
    machine types, judged with the tree (`bot.compare.engine`), never on its own."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldChanged(Fact):
    old: FieldModel
    new: FieldModel
    what: str
    """``size``, ``type``, ``count``, ``nested`` or ``gate``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldsReordered(Fact):
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldVersionAboveVmsd(Fact):
    field: FieldModel
    vmsd_version: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TestComparesVersionEq(Fact):
    field: FieldModel
    function: str


# --- VMSDs --------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionBumped(Fact):
    old: int
    new: int
    nested_in: tuple[str, ...]
    """VMSDs that embed this one with ``VMSTATE_STRUCT*`` (no version on the wire)."""
    is_subsection: bool
    added_versioned_fields: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionLowered(Fact):
    old: int
    new: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MinimumVersionRaised(Fact):
    old: int
    new: int


@dataclass(frozen=True, slots=True, kw_only=True)
class VmsdRenamed(Fact):
    old_name: str
    new_name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class VmsdRemoved(Fact):
    old: VmsdModel
    registered: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class EndOfListMissing(Fact):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class UnmigratableAdded(Fact):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class SubsectionAdded(Fact):
    sub: VmsdModel | None
    needed: str | None
    gate: str | None
    """What makes ``.needed`` false for old machine types: the property member it
    reads, when that member is backed by a property; None if nothing does."""
    new_parent: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class SubsectionRemoved(Fact):
    sub_name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SubsectionNameInvalid(Fact):
    parent_name: str
    sub_name: str
    problem: str
    """``prefix`` or ``duplicate``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NeededRemoved(Fact):
    function: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SecondRegistration(Fact):
    registration: Registration
    others: tuple[str, ...]


# --- compat and properties ----------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CompatEntryAdded(Fact):
    entry: CompatEntry
    newest: str | None
    """Name of the newest array of the same family, when known."""
    array_is_new: bool
    released_change: str | None = None
    """Set when the entry is in the array of the release before a released behaviour
    change it restores (``10.1.0, d3a24134e37``): the right array, not the newest."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CompatEntryRemoved(Fact):
    entry: CompatEntry
    array_removed: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class CompatEntryMoved(Fact):
    entry: CompatEntry
    old_array: str
    new_array: str
    narrowed: bool
    """True when moved to an older array: the machines in between lose the compat value."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PropertyAdded(Fact):
    prop: PropertyModel
    compat: tuple[CompatEntry, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PropertyDefaultChanged(Fact):
    old: PropertyModel
    new: PropertyModel
    compat: tuple[CompatEntry, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CompatDoneRight(Fact):
    prop: PropertyModel
    entry: CompatEntry
    gate: str
    """The subsection or ``_TEST`` field gated by the property."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RustTwinOneSided(Fact):
    twin: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TwinDiffers(Fact):
    """A C device and its Rust twin agreed on the wire before the change and no longer do."""

    twin: str
    difference: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CompatArrayNotApplied(Fact):
    function: str
    array: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldStructMismatch(Fact):
    field: FieldModel
    state: str
    expected: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CompatEntryWrongDriver(Fact):
    entry: CompatEntry
    types: tuple[str, ...]
    """The QOM types that define the property."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CompatEntryValueChanged(Fact):
    old: CompatEntry
    new: CompatEntry


# --- found in a whole tree (the audit) ------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CompatEntryUnmatched(Fact):
    """A compat entry whose driver names no type the tree defines (or lacks the property)."""

    entry: CompatEntry
    driver: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceNotMigrated(Fact):
    """A user-creatable device with state, no ``dc->vmsd`` and no migration blocker."""

    device: str
    base: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GateRetired(Fact):
    """A ``_TEST`` field removed together with every flag its predicate read: it was
    sent only for machine types that set those flags, and nothing sets them now."""

    inner: FieldRemoved
    flags: tuple[str, ...]


# --- against the last release --------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Unreleased(Fact):
    """A wire change to state no release has shipped, or that brings the stream
    back to what the last release sends: nothing released can tell."""

    inner: Fact
    release: str
    """The last release of the base (``10.1.0``)."""
    restored: bool
    """True: the state existed at the release, and after the change it is sent as
    the release sent it (a fix or revert of an unreleased change)."""


# --- between files (a header change followed into the tree) -------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class StateNotMigrated(Fact):
    """A member added to a migrated struct, written by the guest, in no VMSD."""

    struct: str
    member: str
    writer: str
    """The function that writes it (a TCG translator, helper or MMIO handler)."""
    writer_path: str
    writer_line: int
    how: str
    """``tcg-register``, ``tcg-store``, ``helper``, ``mmio-write``, ``register-table``
    or ``write`` (likely only)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WireSizeChangedFromDistance(Fact):
    """A constant or struct member changed in one file resizes a VMSD field in another."""

    cause: str
    """The ``#define`` or ``Struct.member`` that changed."""
    field: str
    field_path: str
    field_line: int
    old_bytes: str
    new_bytes: str


# --- machine wiring, compat targets, sections (checked against the head tree) ------


@dataclass(frozen=True, slots=True, kw_only=True)
class MachineOptionsChainBroken(Fact):
    """A machine version's options do not start from the next newer version's."""

    function: str
    expected: str
    calls: tuple[str, ...]
    """Options functions of the same family it calls instead (none: it chains to nothing)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MachineCompatDropped(Fact):
    """Versioned machine types lose a compat behaviour kept by a class flag."""

    flag: str
    """``recv->member`` as the options function spells it."""
    value: str
    """The value the options function set."""
    function: str
    """The options function (for ``ungated``: the function that stopped reading it)."""
    machine: str
    """The newest machine version that loses the behaviour (``2.6``); older ones follow."""
    how: str
    """``removed`` from the options, ``inverted`` there, ``unread`` by any code, or
    ``ungated``: a function that keeps running no longer reads it."""
    new_value: str | None
    setters: tuple[str, ...]
    """For ``unread``: the options functions that still set the flag."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NeededForcedByBoard(Fact):
    """Board code sets, unconditionally, the property a subsection's ``.needed`` reads."""

    prop: str
    subsection: str
    device_path: str
    call: str
    """The setter as written (``qdev_prop_set_bit``)."""
    function: str | None
    """The board function that sets it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MachineOptionsWrongArray(Fact):
    """A machine version's options apply the array of another version."""

    function: str
    array: str
    expected: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CompatMacroNotChained(Fact):
    """A family compat macro (before QEMU 4.0) without the generic macro of its version."""

    macro: str
    expected: str
    found: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CompatEntryNoSuchType(Fact):
    """An added compat entry whose driver is a type name spelled nowhere in the tree."""

    entry: CompatEntry
    driver: str
    near: str | None
    """A type name of the tree one edit away (the likely intent), when there is one."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CompatEntryChangesRelease(Fact):
    """An added entry pins machine types up to X.Y to a value QEMU X.Y did not run
    them with (the property's default in that release differs): it changes
    released machine types instead of keeping them."""

    entry: CompatEntry
    driver: str
    release: str
    """``2.6.0``: the release of the array's machine types."""
    shipped: str
    """The property's default in that release."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CompatValueInvalid(Fact):
    """An added compat entry whose value does not parse for the property's type."""

    entry: CompatEntry
    macro: str
    expected: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CompatEntryDuplicated(Fact):
    """An added compat entry equal to another entry of the same array."""

    entry: CompatEntry
    other_line: int
    sibling: str | None
    """A type of the same family with the same property that no entry covers."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SectionAddedToExistingDevice(Fact):
    """A device type that already existed now registers a migration section."""

    device: str
    how: str
    """``dc->vmsd`` or ``vmstate_register``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FlagInOlderVersion(Fact):
    """A class flag newly set in the options of a version older than the newest
    compat version of its family."""

    function: str
    member: str
    version: str
    newest: str


@dataclass(frozen=True, slots=True, kw_only=True)
class KvmCallInMigrationHook(Fact):
    """A migration hook reaches a KVM-only function with no accelerator check on
    the way: under TCG (in a QEMU built with KVM) the load or save crashes or fails."""

    hook: str
    callee: str
    via: tuple[str, ...]
    """Functions from the hook to the call, the hook first."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RemapNotRedoneOnLoad(Fact):
    """A function switching memory regions from migrated registers is newly reached
    from a guest write path, and nothing that runs on load reaches it."""

    switch: str
    operation: str
    writer: str
    member: str
    """A migrated member the switch reads."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GlobalSetInClassOptions(Fact):
    """A global variable assigned in a versioned machine-class options function:
    class init runs for every machine class, so every machine type gets it."""

    variable: str
    function: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RegistrationDropped(Fact):
    """The only registration of a VMSD that stays in the tree is removed: its
    section leaves the stream."""

    ident: str
    how: str
    """``dc->vmsd`` or ``vmstate_register``."""
    function: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class VmsdNameTaken(Fact):
    """A VMSD added (or renamed) with the ``.name`` of another VMSD of the tree."""

    name: str
    other: str
    """Where the other VMSD is (path:ident)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionNotConstant(Fact):
    which: str
    """``version_id`` or ``minimum_version_id``."""
    expr: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SubsectionsUnterminated(Fact):
    pass


# --- hand-written streams (qemu_put_*/qemu_get_* code) -----------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamChanged(Fact):
    """A hand-written save (or load) function sends (or reads) other bytes, with
    the section version unchanged (or no version at all)."""

    function: str
    what: str
    version: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamOutOfSync(Fact):
    """A save function and its load function agreed before the change and no longer do."""

    save: str
    load: str
    what: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamVersionBumped(Fact):
    """The version a hand-written section is registered with was raised."""

    old: int
    new: int
    how: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CoreStreamElementAdded(Fact):
    """Migration core code sends a new element unless a new flag is set, and
    some versioned machine families never set it for their old machine types."""

    function: str
    element: str
    flag: str
    families: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RealizeDefaultChanged(Fact):
    """A property whose default is 'unspecified' gets another value at realize."""

    prop: PropertyModel
    old_value: str
    new_value: str
