"""What the scanner reads out of one C file: the migration-relevant model.

Every value keeps the line it was read from so findings can be placed on the
old or new side of a diff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class FieldModel:
    """One entry of a VMSD field list, with what it means on the wire.

    ``name`` is the name QEMU gives the field (the stringified member, or the
    explicit ``.name``); it is not sent on the wire, so renaming it alone is
    harmless. ``wire`` is what is: element kind and size, count, nested VMSD.
    """

    macro: str
    args: tuple[str, ...]
    line: int
    name: str
    member: str | None = None
    info: str | None = None
    """The ``VMStateInfo`` used (``uint32``, ``bool``, ``unused_buffer``...)."""
    size: int | None = None
    """Bytes per element when known."""
    size_expr: str | None = None
    size_given: bool = True
    """The initializer sets ``.size`` (QEMU prints 0 for one that does not: a
    ``VMSTATE_VBUFFER``, ``VMSTATE_VIRTIO_DEVICE``)."""
    count: str | None = None
    """Literal element count, or the member that holds it for variable arrays."""
    vmsd: str | None = None
    """C identifier of the nested VMSD for struct fields."""
    version: int | None = None
    version_expr: str | None = None
    test: str | None = None
    flags: frozenset[str] = frozenset()
    condition: str | None = None
    """Preprocessor condition the field sits under (``#ifdef TARGET_X86_64``)."""
    understood: bool = True
    state: str | None = None
    """The struct the field's offset is taken in (``E1000State``)."""

    @property
    def is_unused(self) -> bool:
        return self.info == "unused_buffer" or self.macro.startswith("VMSTATE_UNUSED")

    @property
    def is_struct(self) -> bool:
        return self.vmsd is not None

    @property
    def is_end(self) -> bool:
        return self.macro == "VMSTATE_END_OF_LIST"

    def wire_shape(self) -> tuple[object, ...]:
        """What decides the bytes on the wire, minus gating."""
        flags = frozenset(f for f in self.flags if f not in _FLAGS_NOT_ON_WIRE)
        info = _SIGNLESS.sub(r"int\1", self.info) if self.info else None
        if info == "timer":
            info = "int64"  # timer_put() sends the expiry time as a big-endian int64
        elif info == "bool":
            info = "int8"  # put_bool() sends one byte, get_bool() takes any byte
        return (info, self.size, self.size_expr, self.count, self.vmsd, flags)

    def wire_key(self) -> tuple[object, ...]:
        """Shape plus what decides whether the field is sent."""
        return (*self.wire_shape(), self.version, self.test, self.condition)

    def wire_bytes(self) -> int | None:
        """Bytes this field puts on the wire, when the source tells."""
        if self.size is None:
            return None
        if self.count is None:
            return self.size
        try:
            return self.size * int(self.count, 0)
        except ValueError:
            return None


_FLAGS_NOT_ON_WIRE = frozenset({"VMS_MUST_EXIST", "VMS_POINTER", "VMS_ALLOC"})
"""How the destination finds or allocates memory, not what the stream holds."""
# int32 and uint32 put the same bytes on the wire: signedness is not sent.
_SIGNLESS = re.compile(r"^u?int(\d+)")


@dataclass(frozen=True, slots=True)
class VmsdModel:
    ident: str
    """C identifier (``vmstate_foo``; ``vmstate_foo[1]`` for arrays of VMSDs)."""
    line: int
    end_line: int
    name_expr: str | None = None
    name: str | None = None
    """The section/subsection name, resolved through ``#define`` when possible."""
    version_id: int | None = None
    version_expr: str | None = None
    minimum_version_id: int | None = None
    minimum_version_expr: str | None = None
    needed: str | None = None
    hooks: tuple[tuple[str, str], ...] = ()
    unmigratable: bool = False
    fields: tuple[FieldModel, ...] = ()
    fields_ref: str | None = None
    """Named ``VMStateField`` array used for ``.fields`` (resolved into ``fields``)."""
    has_end_of_list: bool = True
    subsections: tuple[str, ...] = ()
    subsections_line: int | None = None
    subsections_terminated: bool = True
    """The subsection list ends with ``NULL`` (the loader stops only there)."""
    generated_by: str | None = None
    """Macro that produced this VMSD, for VMSDs written through a generator macro."""
    name_line: int | None = None
    """Line of ``.name``, where a finding about the name belongs."""

    @property
    def wire_fields(self) -> tuple[FieldModel, ...]:
        return tuple(f for f in self.fields if not f.is_end)

    @property
    def effective_version(self) -> int:
        return self.version_id if self.version_id is not None else 0


@dataclass(frozen=True, slots=True)
class CompatEntry:
    array: str
    driver_expr: str
    driver: str | None
    prop: str
    value: str
    line: int
    optional: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.driver or self.driver_expr, self.prop)


@dataclass(frozen=True, slots=True)
class CompatArray:
    name: str
    family: str
    """``hw``, ``pc``, or the local prefix (``spapr``, ``s390``...)."""
    version: tuple[int, int] | None
    line: int
    entries: tuple[CompatEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class PropertyModel:
    array: str
    macro: str
    name: str
    member: str | None
    default: str | None
    line: int
    owner: str | None = None
    """The state struct named in the macro (``E1000State``)."""
    condition: str | None = None


@dataclass(frozen=True, slots=True)
class MachineVersion:
    macro: str
    family: str
    version: tuple[int, ...]
    line: int
    latest: bool = False


@dataclass(frozen=True, slots=True)
class Registration:
    """A VMSD registered as a top-level section (``dc->vmsd =`` or ``vmstate_register``)."""

    kind: str
    vmsd: str
    function: str | None
    line: int


@dataclass(frozen=True, slots=True)
class FunctionSummary:
    """What the rules need to know about a function body (a ``.needed`` or test)."""

    name: str
    line: int
    end_line: int
    identifiers: frozenset[str]
    members: frozenset[str]
    """Struct members read in the body (``s->foo`` gives ``foo``)."""
    compares_version_eq: bool = False
    returns_constant: str | None = None


@dataclass(frozen=True, slots=True)
class TypeModel:
    """A QOM ``TypeInfo``: the type name, its parent and its class_init."""

    name: str
    parent: str | None
    class_init: str | None
    line: int
    instance: str | None = None
    """The instance struct (``sizeof(E1000State)`` in ``.instance_size``)."""


@dataclass(frozen=True, slots=True)
class Unknown:
    """A construct the scanner saw but could not follow; reported, never guessed."""

    line: int
    what: str


@dataclass(frozen=True, slots=True)
class FileModel:
    path: str
    vmsds: tuple[VmsdModel, ...] = ()
    compat_arrays: tuple[CompatArray, ...] = ()
    properties: tuple[PropertyModel, ...] = ()
    machines: tuple[MachineVersion, ...] = ()
    registrations: tuple[Registration, ...] = ()
    functions: tuple[FunctionSummary, ...] = ()
    string_defines: tuple[tuple[str, str], ...] = ()
    types: tuple[TypeModel, ...] = ()
    prop_bindings: tuple[tuple[str, str], ...] = ()
    """(class_init function, property array) from ``device_class_set_props``."""
    unknowns: tuple[Unknown, ...] = field(default=())

    def vmsd(self, ident: str) -> VmsdModel | None:
        for v in self.vmsds:
            if v.ident == ident:
                return v
        return None

    def types_with_props(self, array: str) -> list[TypeModel]:
        """QOM types whose class_init installs the property array ``array``."""
        inits = {fn for fn, arr in self.prop_bindings if arr == array}
        return [t for t in self.types if t.class_init in inits]

    def function(self, name: str) -> FunctionSummary | None:
        for f in self.functions:
            if f.name == name:
                return f
        return None

    @property
    def is_empty(self) -> bool:
        return not (
            self.vmsds
            or self.compat_arrays
            or self.properties
            or self.machines
            or self.registrations
        )
