"""What the Rust VMState bindings mean: learned from the tree's own bindings.

As the C scanner reads ``VMSTATE_*`` from ``vmstate.h``, the Rust scanner
reads the ``impl_vmstate_*!`` invocations of ``rust/migration`` (``rust/qemu-api``
before the crates were split), ``rust/qom`` and ``rust/hw/core``: which Rust
types are scalars and with which ``VMStateInfo``, which wrappers are
transparent, which are pointers, which C structs have a C VMSD. The data
table ``rules/rust-vmstate.toml`` fills in what a tree does not say.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

from bot.data import rules_dir
from bot.scanner.rust.tokens import Tok, inner, items, split_top


@dataclass(frozen=True, slots=True)
class Scalar:
    info: str
    size: int
    varray_flag: str | None = None


@dataclass(slots=True)
class RustTable:
    scalars: dict[str, Scalar] = field(default_factory=dict)
    transparent: set[str] = field(default_factory=set)
    pointers: set[str] = field(default_factory=set)
    migratable: set[str] = field(default_factory=set)
    c_structs: dict[str, str] = field(default_factory=dict)
    qom_parents: dict[str, str] = field(default_factory=dict)
    learned_from: tuple[str, ...] = ()

    def copy(self) -> RustTable:
        return RustTable(
            dict(self.scalars),
            set(self.transparent),
            set(self.pointers),
            set(self.migratable),
            dict(self.c_structs),
            dict(self.qom_parents),
            self.learned_from,
        )

    def learn(self, path: str, text: str) -> bool:
        """Add what one bindings file defines; True when it defined anything."""
        found = False
        for it in items(text):
            if it.kind != "macro_invocation" or len(it.toks) < 3:
                continue
            name = it.toks[0].text
            body = _body(it.toks)
            if body is None:
                continue
            args = split_top(body)
            if name == "impl_vmstate_scalar" and len(args) >= 2:
                info = _last(args[0]).removeprefix("vmstate_info_")
                size = _SIZES.get(info)
                if size is None:
                    continue
                flag = _last(args[2]) if len(args) > 2 else None
                self.scalars[_last(args[1])] = Scalar(info, size, flag)
                found = True
            elif name in ("impl_vmstate_transparent", "impl_vmstate_pointer") and args:
                base = _generic_base(args[0])
                if base is None:
                    continue
                (self.transparent if name.endswith("transparent") else self.pointers).add(base)
                found = True
            elif name == "impl_vmstate_c_struct" and len(args) == 2:
                self.c_structs[_last(args[0])] = _last(args[1])
                found = True
        if found:
            self.learned_from = (*self.learned_from, path)
        return found


# Bytes per element of the VMStateInfos a Rust scalar may use.
_SIZES = {
    "bool": 1,
    "int8": 1,
    "uint8": 1,
    "int16": 2,
    "uint16": 2,
    "int32": 4,
    "uint32": 4,
    "int64": 8,
    "uint64": 8,
    "timer": 8,
}


def _body(toks: tuple[Tok, ...]) -> list[Tok] | None:
    for k, t in enumerate(toks):
        if t.text in ("(", "{", "["):
            return inner(toks, k)
    return None


def _last(toks: Iterable[Tok]) -> str:
    """``bindings::vmstate_info_bool`` -> ``vmstate_info_bool``; ``timer::Timer`` -> ``Timer``."""
    words = [t.text for t in toks if t.kind == "ident" or (t.kind == "punct" and t.text == "*")]
    return words[-1] if words else ""


def _generic_base(toks: list[Tok]) -> str | None:
    """``bql::BqlCell<T> where T: VMState`` -> ``BqlCell``; ``*const T`` -> None."""
    for k, t in enumerate(toks):
        if t.text == "<" and k > 0 and toks[k - 1].kind == "ident":
            return toks[k - 1].text
    return None


@cache
def fallback_table() -> RustTable:
    data = tomllib.loads((rules_dir() / "rust-vmstate.toml").read_text())
    table = RustTable()
    for name, (info, size, flag) in data["scalars"].items():
        table.scalars[name] = Scalar(info, int(size), flag or None)
    wrappers = data["wrappers"]
    table.transparent.update(wrappers["transparent"])
    table.pointers.update(wrappers["pointers"])
    table.migratable.update(wrappers["migratable"])
    table.c_structs.update(data["c_structs"])
    table.qom_parents.update(data["qom_parents"])
    return table


def learned_table(files: Iterable[tuple[str, str]]) -> RustTable:
    """The fallback table, overlaid with what the tree's bindings files say."""
    table = fallback_table().copy()
    table.learned_from = ()
    for path, text in files:
        table.learn(path, text)
    return table
