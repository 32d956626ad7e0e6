"""The system emulators a tree builds: configs/targets/*-softmmu.mak and their devices."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.change import Tree
from bot.tiers.kconfig import KconfigError, parse_assignments
from bot.tiers.makefiles import make_condition
from bot.tiers.meson import read_accelerator_targets
from bot.tiers.rules import TierRules

_MAK_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")
_TARGET_DIRS = ("configs/targets", "default-configs/targets")
"""Where target .mak files are: configs/ since QEMU 6.1, default-configs/ before."""
_TARGET_PATH = re.compile(r"^(?:default-)?configs/targets/([A-Za-z0-9_]+-softmmu)\.mak$")
_DEVICE_CONFIGS = ("configs/devices/{t}/default.mak", "default-configs/devices/{t}.mak")


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    """``x86_64-softmmu``."""
    arch: str
    """TARGET_ARCH (``x86_64``)."""
    base_arch: str
    """TARGET_BASE_ARCH (``i386``): which target/ and hw/ directories it uses."""
    accels: tuple[str, ...]
    """Accelerator keys this target can be built with on some host (``CONFIG_KVM``...)."""
    keys: Mapping[str, str]
    """What meson's ``config_target`` holds (the .mak keys plus derived ones)."""
    devices: Mapping[str, bool]
    """Assignments of configs/devices/<target>/default.mak."""

    @property
    def short(self) -> str:
        return self.name.split("-", 1)[0]

    @property
    def kvm(self) -> bool:
        return "CONFIG_KVM" in self.accels

    def kconfig_inputs(self) -> dict[str, bool]:
        """The symbols meson passes to minikconf for this target (``target_kconfig``)."""
        out = {k[len("CONFIG_") :]: True for k in self.accels}
        # Before meson, KVM was a Kconfig.host symbol every host profile turns on.
        out["KVM"] = self.kvm
        out[self.arch.upper()] = True
        out["TARGET_BIG_ENDIAN"] = self.keys.get("TARGET_BIG_ENDIAN", "n") == "y"
        return out


def parse_mak(text: str) -> dict[str, str]:
    """meson's ``keyval.load``: ``KEY=VALUE`` lines, ``#`` comments."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        m = _MAK_LINE.match(line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def target_names(tree: Tree, rules: TierRules) -> list[str]:
    """The system targets of the tree (the grep finds them; the rules list is a fallback)."""
    if tree.grep is not None:
        for d in _TARGET_DIRS:
            found = sorted(
                m.group(1) for p in tree.grep("TARGET_ARCH=", d) if (m := _TARGET_PATH.match(p))
            )
            if found:
                return found
    return [t for t in rules.known_targets if _target_mak(tree, t) is not None]


def _target_mak(tree: Tree, name: str) -> str | None:
    for d in _TARGET_DIRS:
        text = tree.read(f"{d}/{name}.mak")
        if text is not None:
            return text
    return None


def read_targets(tree: Tree, rules: TierRules) -> tuple[tuple[Target, ...], list[str]]:
    """Every system target with its accelerators and default devices, and notes."""
    notes: list[str] = []
    root = tree.read("meson.build") or ""
    accel = read_accelerator_targets(root)
    if "CONFIG_KVM" not in accel:
        notes.append(
            "meson.build lists no kvm_targets: using rules/tiers.toml targets.kvm_fallback"
        )
        accel["CONFIG_KVM"] = rules.kvm_fallback
    out: list[Target] = []
    for name in target_names(tree, rules):
        text = _target_mak(tree, name)
        if text is None:
            continue
        mak = parse_mak(text)
        arch = mak.get("TARGET_ARCH")
        if not arch:
            notes.append(f"{name}.mak: no TARGET_ARCH")
            continue
        base = mak.get("TARGET_BASE_ARCH", arch)
        # CONFIG_TCG: every system target is built with TCG by default.
        accels = ("CONFIG_TCG", *sorted(k for k, ts in accel.items() if name in ts))
        keys = dict(mak)
        keys.update({k: "y" for k in accels})
        keys.update(
            {
                "TARGET_NAME": name.split("-", 1)[0],
                "TARGET_BASE_ARCH": base,
                "CONFIG_SOFTMMU": "y",
                "CONFIG_SYSTEM_ONLY": "y",
                f"TARGET_{arch.upper()}": "y",
            }
        )
        keys.setdefault("TARGET_BIG_ENDIAN", "n")
        devices: dict[str, bool] = {}
        for pattern in _DEVICE_CONFIGS:
            dev_path = pattern.format(t=name)
            if tree.read(dev_path) is not None:
                try:
                    devices = parse_assignments(tree.read, dev_path)
                except KconfigError as e:
                    notes.append(f"{dev_path}: not understood ({e})")
                break
        out.append(Target(name, arch, base, accels, keys, devices))
    return tuple(out), notes


# -- before meson (QEMU 2.0 to 5.1): default-configs/<target>.mak and configure ----------

_OLD_TARGET_PATH = re.compile(r"^default-configs/([A-Za-z0-9_]+-softmmu)\.mak$")
_CASE_ARM = re.compile(r"^\s*([\w|]+)\)\s*$")
_SET = re.compile(r"^\s*(TARGET_ARCH|TARGET_BASE_ARCH)=\"?(\w+)\"?\s*$")
_KVM_PAIR = re.compile(r"\b(\w+):\w+\b")
_OLD_MAK_LINE = re.compile(r"^\s*CONFIG_(\w+)\s*=\s*(.*?)\s*$")
_OLD_INCLUDE = re.compile(r"^\s*include\s+(\S+)\s*$")


def make_target_names(tree: Tree, rules: TierRules) -> list[str]:
    """The system targets of a make-era tree: its default-configs/*-softmmu.mak."""
    found: set[str] = set()
    if tree.grep is not None:
        for needle in ("CONFIG_", "-softmmu"):
            found |= {
                m.group(1)
                for p in tree.grep(needle, "default-configs")
                if (m := _OLD_TARGET_PATH.match(p))
            }
    if not found:
        found = {t for t in rules.known_targets if tree.read(f"default-configs/{t}.mak")}
    return sorted(found)


def configure_arches(configure: str) -> dict[str, tuple[str, str]]:
    """target name -> (TARGET_ARCH, TARGET_BASE_ARCH) from configure's
    ``case "$target_name" in`` after ``TARGET_ARCH="$target_name"``; names it
    does not list keep their own name for both."""
    out: dict[str, tuple[str, str]] = {}
    start = configure.find('TARGET_ARCH="$target_name"')
    if start < 0:
        return out
    case = configure.find('case "$target_name" in', start)
    end = configure.find("\nesac", case)
    if case < 0 or end < 0:
        return out
    names: list[str] = []
    sets: dict[str, str] = {}

    def flush() -> None:
        for n in names:
            arch = sets.get("TARGET_ARCH", n)
            out[n] = (arch, sets.get("TARGET_BASE_ARCH", arch))

    depth = 0
    for line in configure[case:end].splitlines()[1:]:
        if re.match(r"^\s*case\b", line):
            depth += 1
            continue
        if re.match(r"^\s*esac\b", line):
            depth -= 1
            continue
        if depth:
            continue
        m = _CASE_ARM.match(line)
        if m and m.group(1) != "*":
            flush()
            names, sets = m.group(1).split("|"), {}
            continue
        s = _SET.match(line)
        if s:
            sets[s.group(1)] = s.group(2)
    flush()
    return out


def configure_kvm_targets(configure: str) -> frozenset[str]:
    """Targets configure's ``supported_kvm_target`` accepts on some host."""
    start = configure.find("supported_kvm_target()")
    if start < 0:
        return frozenset()
    case = configure.find("case", start)
    end = configure.find("esac", case)
    body = configure[case:end]
    head = body.find(" in")
    pairs = body[head + 3 : body.find(")", head)] if head >= 0 else ""
    return frozenset(f"{t}-softmmu" for t in _KVM_PAIR.findall(pairs))


def parse_old_mak(tree: Tree, path: str, kvm: bool, _depth: int = 0) -> dict[str, bool]:
    """A pre-Kconfig device config: ``CONFIG_X=y``, ``include other.mak`` and values
    that are make expressions of keys (``$(CONFIG_KVM)``, ``$(call land,$(CONFIG_A),
    $(CONFIG_KVM))``): KVM as the target allows, earlier symbols as set, other host
    features present."""
    out: dict[str, bool] = {}
    text = tree.read(path)
    if text is None or _depth > 8:
        return out
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        inc = _OLD_INCLUDE.match(line)
        if inc:
            sub = posixpath.normpath(posixpath.join(posixpath.dirname(path), inc.group(1)))
            out.update(parse_old_mak(tree, sub, kvm, _depth + 1))
            continue
        m = _OLD_MAK_LINE.match(line)
        if not m:
            continue
        value = m.group(2)
        if value in ("y", "n", ""):
            out[m.group(1)] = value == "y"
            continue
        cond = make_condition(value)
        if cond is None:
            out[m.group(1)] = True
            continue

        def holds(key: str) -> bool:
            sym = key[len("CONFIG_") :] if key.startswith("CONFIG_") else key
            if sym == "KVM":
                return kvm
            return out.get(sym, True)  # a symbol set above, else a host feature

        out[m.group(1)] = any(
            all(holds(k) for k in t.pos) and not any(holds(k) for k in t.neg) for t in cond.terms
        )
    return out


def read_make_targets(
    tree: Tree, rules: TierRules, *, kconfig: bool
) -> tuple[tuple[Target, ...], list[str]]:
    """Every system target of a make-era tree, its accelerators and devices.

    ``kconfig``: the device configs are minikconf inputs (QEMU 4.0 to 5.1, only
    ``CONFIG_X=y|n``); before 4.0 they are make fragments read by `parse_old_mak`.
    """
    notes: list[str] = []
    configure = tree.read("configure") or ""
    arches = configure_arches(configure)
    kvm_targets = configure_kvm_targets(configure)
    if kvm_targets:
        # What configure builds with KVM, within what the policy counts as KVM-capable.
        kvm_targets &= rules.kvm_fallback
    else:
        notes.append("configure has no supported_kvm_target: using targets.kvm_fallback")
        kvm_targets = rules.kvm_fallback
    out: list[Target] = []
    for name in make_target_names(tree, rules):
        short = name.split("-", 1)[0]
        arch, base = arches.get(short, (short, short))
        accels = ("CONFIG_TCG", *(("CONFIG_KVM",) if name in kvm_targets else ()))
        keys: dict[str, str] = {k: "y" for k in accels}
        keys.update(
            {
                "TARGET_ARCH": arch,
                "TARGET_NAME": short,
                "TARGET_BASE_ARCH": base,
                "CONFIG_SOFTMMU": "y",
                "CONFIG_SYSTEM_ONLY": "y",
                f"TARGET_{arch.upper()}": "y",
                f"TARGET_{short.upper()}": "y",
                "TARGET_BIG_ENDIAN": "n",
            }
        )
        path = f"default-configs/{name}.mak"
        devices: dict[str, bool] = {}
        if kconfig:
            try:
                devices = parse_assignments(tree.read, path)
            except KconfigError as e:
                notes.append(f"{path}: not understood ({e})")
        else:
            devices = parse_old_mak(tree, path, "CONFIG_KVM" in accels)
        out.append(Target(name, arch, base, accels, keys, devices))
    return tuple(out), notes
