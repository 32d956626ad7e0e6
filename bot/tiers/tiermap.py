"""The tier of every file meson builds, computed once per tree.

How a file gets its boards:

1. Every system target is evaluated with its default devices (configs/devices),
   once per host profile (rules/tiers.toml): this says what the target builds.
2. Boards are the Kconfig symbols that build a file registering machine types
   (`bot.tiers.boards`). For every board alive in a target we evaluate Kconfig
   again with that board alone switched on (the other boards' ``default y``
   ignored): what is on then is what the board pulls in through select, imply
   and ``default y if``.
3. A file belongs to a board when its meson condition holds in that board's
   configuration BECAUSE of the board: a chain of select / imply / default links
   leads from the board's symbols to the file's (what the architecture symbol
   selects for every board, like ARM's ARM_V7M, does not count).
4. A pluggable device (PCI, virtio, USB; rules/tiers.toml) built into a target
   also belongs to every board of the target whose Kconfig brings that bus.
5. A file built only when symbols of two boards meet goes with the boards of its
   most specific symbol; a file the target builds without any board asking for
   it (an accelerator's, a ``default y`` device) goes with all its boards.

Trees before meson (QEMU 2.0 to 5.1) are read the same way: `bot.tiers.makefiles`
turns Makefile.objs into the same source rules, targets come from
default-configs/<target>.mak and configure. From 4.0 the Kconfig is Kconfig.host
plus hw/Kconfig; before 4.0 there is none, so every file registering machines
is a board of its own and a device symbol is reached by the files whose code
creates its devices (`bot.tiers.qomlinks`), see `_Builder.link_old_tree`.

All configurations are evaluated together: a symbol's value is an int with one
bit per configuration, so the whole tree costs a few thousand big-int operations.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.change import Tree
from bot.errors import InputError
from bot.findings import Tier, TierDecision, TierSource
from bot.tiers.boards import Machine, machine_type_macros, scan_machines
from bot.tiers.rules import TierRules

if TYPE_CHECKING:
    # Only building a map reads Kconfig and meson: a map loaded from the cache
    # does not import their parsers (each function imports what it runs).
    from bot.tiers.kconfig import ConfigInput, Kconfig, Valuation
    from bot.tiers.meson import Condition, MesonSources, Scope, SourceRule, Term
    from bot.tiers.targets import Target

SCHEMA = 1
_C_SOURCE = re.compile(r"\.(c|cc|m)$")
_DEFINES_TYPE = re.compile(r"\.parent\s*=")
_MACHINE_HINT = re.compile(r"MACHINE|QEMUMachine|mc->name")
"""A file that may register machine types, in any era (QEMUMachine before 2.5)."""


def config_name(sym: str) -> str:
    """``CONFIG_PL011``; a board symbol named after its file (trees before
    Kconfig) is shown as the file."""
    return sym if "/" in sym else f"CONFIG_{sym}"


def machine_tier(versioned: bool, kvm: bool) -> Tier:
    """DOMAIN.md section 3, for one machine type."""
    if versioned and kvm:
        return Tier.BIDIRECTIONAL
    if versioned or kvm:
        return Tier.FORWARD
    return Tier.BEST_EFFORT


def strictest(tiers: Iterable[Tier]) -> Tier | None:
    return max(tiers, key=lambda t: t.strictness, default=None)


def _bits(mask: int) -> Iterator[int]:
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


class Era(StrEnum):
    """How a QEMU tree says what it builds."""

    MESON = "meson"
    """QEMU 5.2 on: meson.build source sets, Kconfig, configs/."""
    MAKE_KCONFIG = "make+kconfig"
    """QEMU 4.0 to 5.1: Makefile.objs, Kconfig (Kconfig.host, hw/Kconfig),
    default-configs/<target>.mak as minikconf input."""
    MAKE = "make"
    """QEMU 2.0 to 3.1: Makefile.objs and default-configs/<target>.mak, no Kconfig."""


_MAKE_KCONFIG_ROOTS = ("Kconfig.host", "hw/Kconfig")
"""What the Makefile handed minikconf before meson (MINIKCONF_INPUTS)."""


_OLDEST = (1, 7, 50)
"""The 2.0 development cycle: from there hw/ has a directory per kind of device
and per architecture, which is the layout the make-era reader knows."""


def tree_era(tree: Tree) -> Era:
    """How the tree says what it builds; `TreeNotUnderstood` before QEMU 2.0."""
    from bot.tiers.makefiles import is_make_tree

    if not is_make_tree(tree.read):
        return Era.MESON
    version = (tree.read("VERSION") or "").strip()
    parts = tuple(int(x) for x in re.findall(r"\d+", version)[:3])
    if parts and parts < _OLDEST:
        raise TreeNotUnderstood(
            f"QEMU {version} predates 2.0: its hw/ layout is not read (tiers from path rules)"
        )
    if tree.read("hw/Kconfig") is not None:
        return Era.MAKE_KCONFIG
    return Era.MAKE


@dataclass(frozen=True, slots=True)
class TargetInfo:
    name: str
    short: str
    base_arch: str
    kvm: bool


@dataclass(frozen=True, slots=True)
class Board:
    """The machines one board symbol (or group of symbols) gives one target."""

    target: str
    short: str
    symbols: tuple[str, ...]
    machines: tuple[Machine, ...]
    kvm: bool
    """The target is KVM-capable AND the board is still built without TCG."""

    @property
    def tier(self) -> Tier:
        return (
            strictest(machine_tier(m.versioned, self.kvm) for m in self.machines)
            or Tier.BEST_EFFORT
        )

    def details(self) -> str:
        """``(pc-q35-*, x86_64, KVM)``: what a maintainer checks the tier against."""
        names = [m.display for m in sorted(self.machines, key=lambda m: (not m.versioned, m.name))]
        shown = ", ".join(names[:2]) + (f" +{len(names) - 2}" if len(names) > 2 else "")
        return f"({shown}, {self.short}, {'KVM' if self.kvm else 'TCG only'})"

    def label(self) -> str:
        if not self.symbols:  # a machine file built with no board symbol of its own
            return f"board {self.details()}"
        return f"{'+'.join(self.symbols)} {self.details()}"


class Reach(StrEnum):
    """How a file reaches the machines that can contain it."""

    KCONFIG = "kconfig"
    """A board's Kconfig symbols select it."""
    UNCONDITIONAL = "unconditional"
    """Built into every binary of its targets."""
    PLUGGABLE = "pluggable"
    """A bus the board has brings it (a user-creatable PCI device, say)."""
    COMBINED = "combined"
    """Symbols of several boards together select it."""
    TARGET_WIDE = "target-wide"
    """Its target brings it to every board of that target."""
    DIR = "dir"
    """The default for files its directory builds unnamed."""
    UNBUILT = "unbuilt"
    """Listed in meson, enabled by no system target."""
    USER_ONLY = "user-only"
    """Built for user-mode emulation only."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FileEntry:
    path: str
    how: Reach
    tier: Tier | None
    boards: int
    """Bit i set = ``TierMap.boards[i]`` can contain the file."""
    targets: tuple[str, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class TierMap:
    tree_id: str
    rules_digest: str
    targets: tuple[TargetInfo, ...]
    boards: tuple[Board, ...]
    files: Mapping[str, FileEntry]
    dirs: Mapping[str, FileEntry]
    """Per directory with a meson.build: the entry for files it builds unnamed."""
    notes: tuple[str, ...] = ()
    era: Era = Era.MESON
    _tier_memo: dict[int, Tier | None] = field(default_factory=dict, compare=False, repr=False)

    @property
    def reusable(self) -> bool:
        """Whether the next tree may reuse this map when a change leaves its inputs
        alone (`bot.tiers.cache.alias_map`). Not before Kconfig: there, every
        source's type names and calls decide who holds a device."""
        return self.era is not Era.MAKE

    def tier_of(self, mask: int) -> Tier | None:
        """The strictest tier among the boards of ``mask`` (None for no board)."""
        if mask not in self._tier_memo:
            self._tier_memo[mask] = strictest(self.boards[b].tier for b in _bits(mask))
        return self._tier_memo[mask]

    def machines_of(self, mask: int) -> tuple[str, ...]:
        """Machine names (versioned families as ``pc-q35-*``), strictest first."""
        best: dict[str, int] = {}
        for b in _bits(mask):
            board = self.boards[b]
            for m in board.machines:
                s = machine_tier(m.versioned, board.kvm).strictness
                best[m.display] = max(best.get(m.display, -1), s)
        return tuple(sorted(best, key=lambda n: (-best[n], n)))

    def arch_mask(self, base_arch: str) -> int:
        """Every board of the targets built from target/<base_arch>."""
        archs = {t.name for t in self.targets if t.base_arch == base_arch}
        mask = 0
        for i, b in enumerate(self.boards):
            if b.target in archs:
                mask |= 1 << i
        return mask

    def decision(self, entry: FileEntry) -> TierDecision | None:
        if entry.tier is None:
            return None
        return TierDecision(
            tier=entry.tier,
            reason=entry.reason,
            machines=self.machines_of(entry.boards),
            source=TierSource.TREE,
        )

    def lookup(self, path: str) -> TierDecision | None:
        """The decision for a file meson names (None when it names it nowhere buildable)."""
        entry = self.files.get(path)
        return None if entry is None else self.decision(entry)


# -- building ---------------------------------------------------------------


@dataclass(slots=True)
class _Batch:
    """Configurations evaluated together; bit i of every mask is ``targets[i]``."""

    valuation: Valuation
    targets: list[Target]
    require_reach: bool = False
    """Board configurations: a term holds only if one of its board-chosen symbols
    is there because of the board (`Valuation.reach`), not merely on."""
    keys: dict[str, int] = field(default_factory=dict)
    scopes: dict[Scope, int] = field(default_factory=dict)
    terms: dict[tuple[Term, Scope], int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Matcher:
    """A regular expression with the literal words any match must contain.

    ``str.__contains__`` skips most files in microseconds; the regex only runs
    on the few that hold the literal.
    """

    pattern: re.Pattern[str]
    literal: str | None

    @staticmethod
    def of(rx: re.Pattern[str]) -> _Matcher:
        src = rx.pattern
        if any(c in src for c in "|()[]?{"):
            return _Matcher(rx, None)
        # Escapes (\s, \b) become spaces; a word followed by a quantifier
        # loses its optional last character through backtracking.
        plain = re.sub(r"\\[a-zA-Z]", " ", src)
        words = re.findall(r"(?<!\\)[A-Za-z_][A-Za-z0-9_]{3,}(?![*?+{])", plain)
        return _Matcher(rx, max(words, key=len) if words else None)

    def search(self, text: str) -> re.Match[str] | None:
        if self.literal is not None and self.literal not in text:
            return None
        return self.pattern.search(text)


@dataclass(frozen=True, slots=True)
class _Plug:
    bus: str
    board_has_any: tuple[str, ...]
    markers: tuple[_Matcher, ...]
    veto: tuple[_Matcher, ...]
    kconfig: frozenset[str]

    def vetoed(self, text: str) -> bool:
        return any(v.search(text) for v in self.veto)

    def marker(self, text: str) -> re.Match[str] | None:
        for mk in self.markers:
            m = mk.search(text)
            if m:
                return m
        return None


_SIGNATURE_LINE = re.compile(r"MACHINE|machine_")
"""Lines a map reads off a source: machine definitions. (Maps of trees before
Kconfig also read type names and calls from every source: they are never
handed on, see `TierMap.reusable`.)"""


def source_signature(text: str, rules: TierRules) -> tuple[object, ...]:
    """What a map reads off a built hw/ source: its machine lines, bus markers, vetoes
    and whether it defines a type. Equal signatures, equal maps."""
    plugs = _plugs(rules)
    return (
        tuple(line for line in text.splitlines() if _SIGNATURE_LINE.search(line)),
        tuple(p.vetoed(text) for p in plugs),
        tuple((m.group() if (m := p.marker(text)) else None) for p in plugs),
        _DEFINES_TYPE.search(text) is not None,
    )


def is_read_source(path: str) -> bool:
    """Whether the map reads ``path`` as a source text (see `source_signature`)."""
    return path.startswith("hw/") and _C_SOURCE.search(path) is not None


def _plugs(rules: TierRules) -> tuple[_Plug, ...]:
    return tuple(
        _Plug(
            p.bus,
            p.board_has_any,
            tuple(_Matcher.of(rx) for rx in p.markers),
            tuple(_Matcher.of(rx) for rx in p.not_if),
            p.kconfig,
        )
        for p in rules.pluggable
    )


class _Builder:
    """Everything read from the tree, and masks of configurations computed from it."""

    def __init__(self, tree: Tree, rules: TierRules) -> None:
        from bot.tiers.kconfig import declared_symbols, parse_kconfig
        from bot.tiers.makefiles import read_makefiles
        from bot.tiers.meson import read_meson
        from bot.tiers.targets import read_make_targets, read_targets

        self.tree = tree
        self.rules = rules
        self.notes: list[str] = []
        self.era = tree_era(tree)
        if self.era is Era.MESON:
            self.kc: Kconfig = parse_kconfig(tree.read)
            self.targets, notes = read_targets(tree, rules)
            self.notes += notes
            self.meson: MesonSources = read_meson(tree.read, rules.layout)
        else:
            self.targets, notes = read_make_targets(
                tree, rules, kconfig=self.era is Era.MAKE_KCONFIG
            )
            self.notes += notes
            if self.era is Era.MAKE_KCONFIG:
                self.kc = parse_kconfig(tree.read, _MAKE_KCONFIG_ROOTS)
            else:
                self.kc = declared_symbols(s for t in self.targets for s in t.devices)
            arch_dirs = {t.base_arch for t in self.targets}
            self.meson = read_makefiles(tree.read, sorted(arch_dirs))
        self.notes += list(self.meson.notes)
        # Kconfig.host symbols mirror host features; meson sets them per host.
        self.host = self.kc.declared_in("Kconfig.host")
        self.target_syms: set[str] = set()
        self.target_keys: set[str] = set()
        for t in self.targets:
            self.target_syms |= set(t.kconfig_inputs())
            self.target_keys |= set(t.keys)
        self.arch_keys: dict[str, set[str]] = {}
        for r in self.meson.rules:
            if r.scope.kind == "arch":
                self.arch_keys.setdefault(r.scope.registry, set()).add(r.scope.key)
        self.by_path = self.meson.by_path()
        self.texts: dict[str, str] = {}
        self._machine_files: dict[str, tuple[Machine, ...]] | None = None
        self.plugs = _plugs(rules)
        if self.era is Era.MAKE:
            self.link_old_tree()

    def link_old_tree(self) -> None:
        """Boards and their devices in a tree before Kconfig (QEMU 2.0 to 3.1).

        Such a tree sets every symbol flat per target, so nothing says which
        board brings what. Each file registering machines becomes a board of its
        own (a symbol named after the file, ``default y``), and a symbol is
        reached by the symbols of the files whose code creates its devices
        (`bot.tiers.qomlinks`): xilinx_zynq.c names "xilinx,zynq_slcr", so the
        zynq board holds zynq_slcr.c; what no board's code names stays
        target-wide.
        """
        from bot.tiers.kconfig import declared_symbols
        from bot.tiers.meson import Condition
        from bot.tiers.qomlinks import uses

        self.read_sources()
        machines = self.machine_files()
        device_syms = {s for t in self.targets for s in t.devices}
        for path in machines:
            own = Condition.all_of([f"CONFIG_{path}"])
            self.by_path[path] = [replace(r, cond=r.cond.and_(own)) for r in self.by_path[path]]
        known = device_syms | set(machines)

        def chosen(path: str) -> set[str]:
            out: set[str] = set()
            for r in self.by_path.get(path, ()):
                if r.scope.kind == "user" or r.stub:
                    continue
                for term in r.cond.terms:
                    out |= {
                        k[len("CONFIG_") :]
                        for k in term.pos
                        if k.startswith("CONFIG_")
                        and k[len("CONFIG_") :] in known
                        and k[len("CONFIG_") :] not in self.target_syms
                    }
            return out

        headers: list[str] = []
        if self.tree.grep is not None:
            for under in ("include", "hw"):
                for p in self.tree.grep("define TYPE_", under):
                    if p.endswith(".h"):
                        headers.append(self.tree.read(p) or "")
        links = uses(self.texts, headers)
        syms = {p: chosen(p) for p in self.texts}
        used_by: dict[str, set[str]] = {}
        for f, users in syms.items():
            if not users:
                continue
            # through files built without a symbol of their own (pc.c, built
            # whenever hw/i386 is, calls serial_isa_init for pc_piix.c's boards)
            seen = {f}
            todo = list(links.get(f, ()))
            while todo:
                d = todo.pop()
                if d in seen:
                    continue
                seen.add(d)
                if syms.get(d):
                    for sym in syms[d] - users:
                        used_by.setdefault(sym, set()).update(users)
                else:
                    todo.extend(links.get(d, ()))
        self.kc = declared_symbols(device_syms, on_by_default=machines, used_by=used_by)

    # -- configurations

    def assignments(
        self, t: Target, profile_index: int, *, kvm_only: bool = False
    ) -> dict[str, bool]:
        """What meson hands minikconf for target ``t`` on a host like the profile."""
        p = self.rules.profiles[profile_index]
        out = {s: p.host for s in self.host}
        out.update({s: False for s in p.off})
        out.update({s: True for s in p.on})
        out.update(t.devices)
        out.update(t.kconfig_inputs())
        if kvm_only:  # a KVM-only build (--disable-tcg): which boards survive
            for acc in t.accels:
                out[acc[len("CONFIG_") :]] = acc == "CONFIG_KVM"
        return out

    def is_chosen(self, key: str) -> bool:
        """A meson key naming a Kconfig symbol that boards choose: not the
        architecture, an accelerator or a host feature, which every board has."""
        sym = key[len("CONFIG_") :]
        return (
            key.startswith("CONFIG_")
            and sym in self.kc.symbols
            and sym not in self.target_syms
            and sym not in self.host
        )

    def key_mask(self, batch: _Batch, key: str) -> int:
        m = batch.keys.get(key)
        if m is not None:
            return m
        sym = key[len("CONFIG_") :] if key.startswith("CONFIG_") else None
        if sym is not None and sym in self.kc.symbols:
            m = batch.valuation.mask(sym)
        elif key in self.rules.false_keys:
            m = 0
        elif key.startswith("TARGET_") or key in self.target_keys:
            m = 0
            for i, t in enumerate(batch.targets):
                v = t.keys.get(key, "")
                if v and v != "n":
                    m |= 1 << i
        else:
            m = batch.valuation.all  # a host feature (CONFIG_LINUX...): assume present
        batch.keys[key] = m
        return m

    def scope_mask(self, batch: _Batch, scope: Scope) -> int:
        m = batch.scopes.get(scope)
        if m is not None:
            return m
        if scope.kind == "user":
            m = 0
        elif scope.kind == "system":
            m = batch.valuation.all
        else:
            keys = self.arch_keys.get(scope.registry, set())
            m = 0
            for i, t in enumerate(batch.targets):
                # meson's hw_dir rule, generalised: the target's own name when the
                # registry has it (hw/sparc64), else its base architecture.
                k = t.short if t.short in keys else t.base_arch
                if k == scope.key:
                    m |= 1 << i
        batch.scopes[scope] = m
        return m

    def term_mask(self, batch: _Batch, term: Term, scope: Scope) -> int:
        m = batch.terms.get((term, scope))
        if m is None:
            m = self.scope_mask(batch, scope)
            for k in term.pos:
                m &= self.key_mask(batch, k)
            for k in term.neg:
                m &= ~self.key_mask(batch, k)
            if batch.require_reach:
                chosen = [k[len("CONFIG_") :] for k in term.pos if self.is_chosen(k)]
                if chosen:
                    reached = 0
                    for sym in chosen:
                        reached |= batch.valuation.reach.get(sym, 0)
                    m &= reached
            batch.terms[(term, scope)] = m
        return m

    def rules_mask(self, batch: _Batch, rules: Iterable[SourceRule]) -> int:
        m = 0
        for r in rules:
            for term in r.cond.terms:
                m |= self.term_mask(batch, term, r.scope)
        return m

    # -- texts and machines

    def read_sources(self) -> None:
        """Texts of the hw/ files meson builds: machine definitions and bus markers."""
        if self.texts:
            return
        for path, rules in self.by_path.items():
            built = any(r.scope.kind != "user" for r in rules)
            if is_read_source(path) and built:
                text = self.tree.read(path)
                if text is not None:
                    self.texts[path] = text

    def machine_files(self) -> dict[str, tuple[Machine, ...]]:
        if self._machine_files is None:
            self._machine_files = self._scan_machine_files()
        return self._machine_files

    def _scan_machine_files(self) -> dict[str, tuple[Machine, ...]]:
        header_texts: list[str] = []
        if self.tree.grep is not None:
            # TYPE_*_MACHINE macros mostly live in include/.
            for p in self.tree.grep("MACHINE_TYPE_NAME(", "include"):
                header_texts.append(self.tree.read(p) or "")
        macros = machine_type_macros([*header_texts, *self.texts.values()])
        out: dict[str, tuple[Machine, ...]] = {}
        families = self.rules.versioned_families
        for path, text in self.texts.items():
            if not _MACHINE_HINT.search(text):
                continue
            ignored = self.rules.ignored_machines
            ms = tuple(m for m in scan_machines(text, macros, families) if m.name not in ignored)
            if ms:
                out[path] = ms
        return out

    def alive_boards(
        self, batch: _Batch, machine_files: Mapping[str, tuple[Machine, ...]]
    ) -> dict[tuple[int, tuple[str, ...]], set[Machine]]:
        """(configuration, board symbols) -> machines, for every machine file built."""
        alive: dict[tuple[int, tuple[str, ...]], set[Machine]] = {}
        for path, machines in machine_files.items():
            for r in self.by_path.get(path, ()):
                if r.scope.kind == "user" or r.stub:
                    continue
                for term in r.cond.terms:
                    key = tuple(sorted(k[len("CONFIG_") :] for k in term.pos if self.is_chosen(k)))
                    for i in _bits(self.term_mask(batch, term, r.scope)):
                        alive.setdefault((i, key), set()).update(machines)
        return alive

    # -- pluggable devices

    def pluggable_bus(self, path: str, rules: Sequence[SourceRule]) -> tuple[_Plug, str] | None:
        from bot.tiers.kconfig import positive_symbols

        text = self.texts.get(path)
        if text is None:
            return None
        for plug in self.plugs:
            if plug.vetoed(text):
                continue
            m = plug.marker(text)
            if m:
                return plug, f"its text has {' '.join(m.group().split())}"
            if not plug.kconfig or _DEFINES_TYPE.search(text):
                # A file with a QOM type of its own says what it is (cirrus_vga_isa.c
                # is an ISA card although CONFIG_VGA_CIRRUS is a PCI_DEVICES one).
                continue
            for r in rules:
                for k in sorted(r.cond.keys()):
                    sym = self.kc.symbols.get(k[len("CONFIG_") :])
                    if sym is None:
                        continue
                    for df in sym.defaults:
                        hit = sorted(positive_symbols(df.cond) & plug.kconfig)
                        if df.value and df.implied_by is None and hit:
                            return plug, f"a helper of CONFIG_{sym.name}, default y if {hit[0]}"
        return None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class _Mapper:
    """Turns the evaluated configurations into file entries with reasons."""

    def __init__(
        self,
        b: _Builder,
        full: _Batch,
        full_inputs: Sequence[ConfigInput],
        alone: _Batch,
        boards: tuple[Board, ...],
        alone_board: list[int],
        alone_of_full: dict[int, int],
        machine_files: Mapping[str, tuple[Machine, ...]],
    ) -> None:
        from bot.tiers.kconfig import Explainer

        self.b = b
        self.full = full
        self.alone = alone
        self.boards = boards
        self.alone_board = alone_board
        self.alone_of_full = alone_of_full
        self.machine_files = machine_files
        self.full_inputs = full_inputs
        self.explainer = Explainer(b.kc, alone.valuation)
        self.target_explainer = Explainer(b.kc, full.valuation)
        self.tier_masks: dict[Tier, int] = {}
        for j, bi in enumerate(alone_board):
            t = boards[bi].tier
            self.tier_masks[t] = self.tier_masks.get(t, 0) | (1 << j)
        self.bus_masks: dict[str, int] = {}
        for plug in b.plugs:
            m = 0
            for s in plug.board_has_any:  # the board brings the bus, not the arch
                m |= alone.valuation.reach.get(s, 0)
            self.bus_masks[plug.bus] = m
        self._to_boards: dict[int, int] = {}

    def to_boards(self, jmask: int) -> int:
        r = self._to_boards.get(jmask)
        if r is None:
            r = 0
            for j in _bits(jmask):
                r |= 1 << self.alone_board[j]
            self._to_boards[jmask] = r
        return r

    def spread(self, fmask: int) -> int:
        """Every board configuration of the targets in ``fmask``."""
        m = 0
        for i in _bits(fmask):
            m |= self.alone_of_full.get(i, 0)
        return m

    def strictest_in(self, jmask: int) -> tuple[Tier, list[int]]:
        for tier in (Tier.BIDIRECTIONAL, Tier.FORWARD, Tier.BEST_EFFORT):
            hit = jmask & self.tier_masks.get(tier, 0)
            if hit:
                return tier, sorted(_bits(hit), key=self.preference)
        raise ValueError("empty board mask")

    def preference(self, j: int) -> tuple[int, str, str]:
        """Which board to cite among equally strict ones: versioned, 64-bit, by name."""
        board = self.boards[self.alone_board[j]]
        versioned = any(m.versioned for m in board.machines)
        return (0 if versioned else 1, "0" if "64" in board.short else "1", board.target)

    def count_text(self, bmask: int) -> str:
        targets = {self.boards[x].target for x in _bits(bmask)}
        return f"{_plural(bmask.bit_count(), 'board')} on {_plural(len(targets), 'target')}"

    def explain(self, j: int, rules: Sequence[SourceRule]) -> tuple[str, bool]:
        """Why board configuration j builds the file, and whether the text ends on the board."""
        key = self.boards[self.alone_board[j]].symbols
        for r in rules:
            for term in sorted(r.cond.terms):
                if not (self.b.term_mask(self.alone, term, r.scope) >> j) & 1:
                    continue
                if r.stub:
                    return f"is a stub, built when {term}", False
                syms = [k[len("CONFIG_") :] for k in sorted(term.pos) if self.b.is_chosen(k)]
                if not syms:
                    where = (
                        "every system emulator"
                        if r.scope.kind == "system"
                        else f"every {r.scope.key} target"
                    )
                    return f"is built into {where} ({r.set_name} in {r.meson_file})", False
                reach = self.alone.valuation.reach
                brought = [x for x in syms if (reach.get(x, 0) >> j) & 1] or syms

                def specific(x: str) -> tuple[int, int, str]:
                    # The most specific symbol the board brings: on in the fewest
                    # configurations, then the furthest down its chain
                    # (CONFIG_VIRTIO_NET rather than the CONFIG_VIRTIO it needs).
                    found = self.explainer.chain(j, key, x)
                    depth = len(found) if found is not None else -1
                    return (self.alone.valuation.mask(x).bit_count(), -depth, x)

                sym = min(brought, key=specific)
                chain = self.explainer.chain(j, key, sym)
                others = " && ".join(config_name(x) for x in syms if x != sym)
                head = f"is built by {config_name(sym)}" + (f" (with {others})" if others else "")
                if chain is None:
                    return f"{head}, on by default on {self.alone.targets[j].short}", False
                if not chain:
                    return f"{head}, the board's own symbol", True
                return f"{head}, {', '.join(c.phrase() for c in chain)}", True
        return "is built", False

    def explain_target(self, i: int, rules: Sequence[SourceRule]) -> str:
        """Why target configuration i builds a file no board brings: from what the
        target itself sets (its architecture, accelerators, host, default.mak)."""
        roots = tuple(sorted(s for s, v in self.full_inputs[i].assign.items() if v))
        for r in rules:
            for term in sorted(r.cond.terms):
                if not (self.b.term_mask(self.full, term, r.scope) >> i) & 1:
                    continue
                syms = [k[len("CONFIG_") :] for k in sorted(term.pos) if self.b.is_chosen(k)]
                if r.stub or not syms:
                    return f"is built when {term}"
                sym = min(syms, key=lambda x: (self.full.valuation.mask(x).bit_count(), x))
                chain = self.target_explainer.chain(i, roots, sym)
                head = f"is built by {config_name(sym)}"
                if chain is None:
                    return f"{head}, on by default"
                if not chain:
                    return f"{head}, set for the target"
                return f"{head}, {', '.join(c.phrase() for c in chain)}"
        return "is built"

    def cite(self, j: int, rules: Sequence[SourceRule]) -> str:
        text, names_board = self.explain(j, rules)
        board = self.boards[self.alone_board[j]]
        return f"{text} {board.details()}" if names_board else f"{text}, e.g. in {board.label()}"

    def entry(self, path: str, rules_all: Sequence[SourceRule]) -> FileEntry:
        from bot.tiers.meson import Condition

        b = self.b
        sys_rules = [r for r in rules_all if r.scope.kind != "user"]
        if not sys_rules:
            return FileEntry(
                path=path,
                how=Reach.USER_ONLY,
                tier=None,
                boards=0,
                targets=(),
                reason="built for user mode only",
            )
        fmask = b.rules_mask(self.full, sys_rules)
        false_keys = self.b.rules.false_keys
        if not fmask and all(t.pos & false_keys for r in sys_rules for t in r.cond.terms):
            # linux-user files reach specific_ss under CONFIG_LINUX_USER
            return FileEntry(
                path=path,
                how=Reach.USER_ONLY,
                tier=None,
                boards=0,
                targets=(),
                reason="built for user mode only",
            )
        if not fmask:
            conds = "; ".join(sorted({str(r.cond) for r in sys_rules}))
            return FileEntry(
                path=path,
                how=Reach.UNBUILT,
                tier=None,
                boards=0,
                targets=(),
                reason=f"no system target enables it ({conds})",
            )
        targets = tuple(sorted({self.full.targets[i].name for i in _bits(fmask)}))
        # A board holds the file only where its target builds it: a stub built
        # when !CONFIG_PCI is on in microvm alone, not in an x86_64 binary.
        jmask = b.rules_mask(self.alone, sys_rules) & self.spread(fmask)
        how = Reach.KCONFIG
        if all(r.cond == Condition.always() for r in sys_rules):
            how = Reach.UNCONDITIONAL
        plug_note = ""
        plugmask = 0
        if path not in self.machine_files:
            found = b.pluggable_bus(path, sys_rules)
            if found is not None:
                plug, why = found
                plugmask = self.spread(fmask) & self.bus_masks.get(plug.bus, 0) & ~jmask
                plug_note = f"a pluggable {plug.bus} device ({why})"
        total = jmask | plugmask
        combined: tuple[Term, str] | None = None
        if not total:
            combined = self.combined(fmask, sys_rules)
            if combined is not None:
                total = self.combined_mask(fmask, sys_rules)
                how = Reach.COMBINED
        if not total:
            total = self.spread(fmask)
            how = Reach.TARGET_WIDE
        if not total:  # built, but in a target without any machine we know
            return FileEntry(
                path=path,
                how=Reach.UNBUILT,
                tier=None,
                boards=0,
                targets=targets,
                reason="built only where no machine is known",
            )
        bmask = self.to_boards(total)
        tier, best = self.strictest_in(total)
        via_kconfig = [j for j in best if (jmask >> j) & 1]
        if combined is not None:
            term, sym = combined
            j = best[0]
            chain = self.explainer.chain(j, self.boards[self.alone_board[j]].symbols, sym) or []
            links = "".join(f", {c.phrase()}" for c in chain)
            body = (
                f"is built when {term}, which no board turns on alone; counting the boards "
                f"that bring {config_name(sym)}{links} {self.boards[self.alone_board[j]].details()}"
            )
        elif how is Reach.TARGET_WIDE:
            j = best[0]
            board = self.boards[self.alone_board[j]]
            i = next(i for i in _bits(fmask) if (self.alone_of_full.get(i, 0) >> j) & 1)
            body = (
                f"{self.explain_target(i, sys_rules)}: it comes with every {board.short} "
                f"build, not with a board, so assume any board there, e.g. {board.label()}"
            )
        elif via_kconfig:
            # The shortest explanation among the few preferred boards.
            j = min(
                via_kconfig[:8],
                key=lambda x: (self.explain(x, sys_rules)[0].count(", "), self.preference(x)),
            )
            body = self.cite(j, sys_rules)
        else:
            how = Reach.PLUGGABLE
            board = self.boards[self.alone_board[best[0]]]
            body = (
                f"is {plug_note}, built on {board.short}, so any board there with that bus "
                f"can hold it, e.g. {board.label()}"
            )
        reason = f"tier {tier.value}: {path} {body}; {self.count_text(bmask)}"
        return FileEntry(
            path=path, how=how, tier=tier, boards=bmask, targets=targets, reason=reason
        )

    def _combined_terms(
        self, fmask: int, rules: Sequence[SourceRule]
    ) -> Iterator[tuple[Term, str, int]]:
        """Terms built in a target though no single board turns them on (the file needs
        two boards' symbols, ``CONFIG_MEM_DEVICE && CONFIG_NPCM7XX``), each with the
        most specific of their symbols and the boards that bring that one."""
        on = self.alone.valuation
        for r in rules:
            for term in sorted(r.cond.terms):
                tm = self.b.term_mask(self.full, term, r.scope) & fmask
                syms = [k[len("CONFIG_") :] for k in term.pos if self.b.is_chosen(k)]
                if not tm or not syms or r.stub:
                    continue
                sym = min(syms, key=lambda x: (on.mask(x).bit_count(), x))
                m = on.reach.get(sym, 0) & self.spread(tm)
                if m:
                    yield term, sym, m

    def combined(self, fmask: int, rules: Sequence[SourceRule]) -> tuple[Term, str] | None:
        for term, sym, _ in self._combined_terms(fmask, rules):
            return term, sym
        return None

    def combined_mask(self, fmask: int, rules: Sequence[SourceRule]) -> int:
        m = 0
        for _, _, mm in self._combined_terms(fmask, rules):
            m |= mm
        return m

    def dir_entry(self, d: str, pairs: Sequence[tuple[Scope, Condition]]) -> FileEntry | None:
        from bot.tiers.meson import SourceRule

        meson_file = posixpath.join(d, "meson.build")
        rules = [SourceRule("", cond, scope, "", meson_file) for scope, cond in pairs]
        fmask = self.b.rules_mask(self.full, rules)
        jmask = self.b.rules_mask(self.alone, rules) or self.spread(fmask)
        if not jmask:
            return None
        tier, best = self.strictest_in(jmask)
        board = self.boards[self.alone_board[best[0]]]
        bmask = self.to_boards(jmask)
        reason = (
            f"{meson_file} builds its files under {_plural(len(pairs), 'condition')}; "
            f"the strictest board among them is {board.label()}"
        )
        targets = tuple(sorted({self.full.targets[i].name for i in _bits(fmask)}))
        return FileEntry(
            path=d, how=Reach.DIR, tier=tier, boards=bmask, targets=targets, reason=reason
        )


class TreeNotUnderstood(InputError):
    """The tree lacks what the map is computed from (an older QEMU layout, or not QEMU)."""


def build_tier_map(tree: Tree, rules: TierRules) -> TierMap:
    """Compute the tier map of a tree (pure: reads the tree, runs nothing from it).

    Three eras are read (`Era`): meson trees (5.2 on), Makefile.objs trees with
    Kconfig (4.0 to 5.1) and Makefile.objs trees without (2.0 to 3.1). Raises
    `TreeNotUnderstood` (or `bot.tiers.kconfig.KconfigError`) when the tree is
    none of them.
    """
    from bot.tiers.kconfig import ConfigInput, evaluate

    b = _Builder(tree, rules)
    meson = b.era is Era.MESON
    if not b.targets:
        where = "configs/targets" if meson else "default-configs"
        raise TreeNotUnderstood(f"no {where}/*-softmmu.mak")
    if not b.meson.rules:
        what = "meson.build source sets" if meson else "Makefile.objs rules"
        raise TreeNotUnderstood(f"no {what}")
    kc = b.kc
    nprof = len(rules.profiles)

    # 1. every target in every host profile, and KVM-only builds of KVM targets
    full_targets = [t for _ in range(nprof) for t in b.targets]
    full_inputs = [ConfigInput(b.assignments(t, pi)) for pi in range(nprof) for t in b.targets]
    full = _Batch(evaluate(kc, full_inputs), full_targets)
    kvm_targets = [t for _ in range(nprof) for t in b.targets if t.kvm]
    kvm_inputs = [
        ConfigInput(b.assignments(t, pi, kvm_only=True))
        for pi in range(nprof)
        for t in b.targets
        if t.kvm
    ]
    kvm = _Batch(evaluate(kc, kvm_inputs), kvm_targets)

    # 2. boards: symbols building a machine file, alive where that file is built
    b.read_sources()
    machine_files = b.machine_files()
    alive = b.alive_boards(full, machine_files)
    kvm_capable = {(kvm_targets[i].name, key) for i, key in b.alive_boards(kvm, machine_files)}
    board_syms: set[str] = set()
    for _, key in alive:
        board_syms.update(key)

    # 3. each board alone: its own symbols on, every other board's default off
    alone_inputs: list[ConfigInput] = []
    alone_targets: list[Target] = []
    alone_board: list[int] = []
    alone_of_full: dict[int, int] = {}
    index: dict[tuple[str, tuple[str, ...]], int] = {}
    metas: list[tuple[Target, tuple[str, ...], set[Machine]]] = []
    for (i, key), machines in sorted(alive.items()):
        t = full_targets[i]
        assign = {s: v for s, v in full_inputs[i].assign.items() if s not in board_syms}
        assign.update({s: True for s in key})
        j = len(alone_inputs)
        alone_inputs.append(ConfigInput(assign, frozenset(board_syms - set(key)), frozenset(key)))
        alone_targets.append(t)
        alone_of_full[i] = alone_of_full.get(i, 0) | (1 << j)
        bi = index.get((t.name, key))
        if bi is None:
            bi = index[(t.name, key)] = len(metas)
            metas.append((t, key, set()))
        metas[bi][2].update(machines)
        alone_board.append(bi)
    alone = _Batch(evaluate(kc, alone_inputs), alone_targets, require_reach=True)

    def runs_kvm(t: Target, key: tuple[str, ...], ms: set[Machine]) -> bool:
        listed = rules.kvm_boards.get(t.name)
        named = rules.kvm_machines.get(t.name, frozenset())
        return (
            t.kvm
            and (t.name, key) in kvm_capable
            and (listed is None or bool(listed & set(key)) or any(m.name in named for m in ms))
        )

    boards = tuple(
        Board(t.name, t.short, key, tuple(sorted(ms)), runs_kvm(t, key, ms)) for t, key, ms in metas
    )

    found = {m.name for board in boards for m in board.machines if m.versioned}
    for family in rules.versioned_families:
        if family not in found:
            b.notes.append(
                f"rules/tiers.toml lists the versioned family {family!r} but no board of "
                "this tree defines it: machine detection may have missed it"
            )

    # 4. every file meson names, and every meson directory for files it does not name
    mapper = _Mapper(b, full, full_inputs, alone, boards, alone_board, alone_of_full, machine_files)
    files = {path: mapper.entry(path, rules_) for path, rules_ in sorted(b.by_path.items())}
    dirs: dict[str, FileEntry] = {}
    for d, pairs in sorted(b.meson.dir_rules.items()):
        e = mapper.dir_entry(d, pairs)
        if e is not None:
            dirs[d] = e
    return TierMap(
        tree_id=tree.tree_id,
        rules_digest=rules.digest,
        targets=tuple(TargetInfo(t.name, t.short, t.base_arch, t.kvm) for t in b.targets),
        boards=boards,
        files=files,
        dirs=dirs,
        notes=tuple(b.notes),
        era=b.era,
    )
