"""The system emulators a tree builds: configs/targets/*-softmmu.mak and their devices."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.change import Tree
from bot.tiers.kconfig import KconfigError, parse_assignments
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
