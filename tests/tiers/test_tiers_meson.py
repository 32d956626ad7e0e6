"""Reading meson source sets: conditions, nesting, registries, stubs, subdirs."""

from __future__ import annotations

from bot.tiers.meson import (
    SYSTEM,
    USER,
    Condition,
    MesonLayout,
    Scope,
    Term,
    read_accelerator_targets,
    read_meson,
)

LAYOUT = MesonLayout(
    system_sets=frozenset({"system_ss", "specific_ss"}),
    user_sets=frozenset({"user_ss"}),
    arch_registries=frozenset({"hw_arch"}),
    module_registries=frozenset({"modules"}),
)


def rules_of(files: dict[str, str]) -> dict[str, list[tuple[str, str, bool]]]:
    ms = read_meson(files.get, LAYOUT)
    return {
        p: sorted((str(r.scope), str(r.cond), r.stub) for r in rs) for p, rs in ms.by_path().items()
    }


def test_when_list_is_and_and_add_all_nests() -> None:
    got = rules_of(
        {
            "meson.build": """
ss = import('sourceset')
system_ss = ss.source_set()
inner_ss = ss.source_set()
inner_ss.add(when: ['CONFIG_A', 'CONFIG_B'], if_true: files('ab.c'))
inner_ss.add(files('plain.c'))
system_ss.add_all(when: 'CONFIG_OUTER', if_true: inner_ss)
system_ss.add(when: 'CONFIG_X', if_true: files('x.c'), if_false: files('x-stub.c'))
""",
        }
    )
    assert got["ab.c"] == [("system", "CONFIG_A && CONFIG_B && CONFIG_OUTER", False)]
    assert got["plain.c"] == [("system", "CONFIG_OUTER", False)]
    assert got["x.c"] == [("system", "CONFIG_X", False)]
    assert got["x-stub.c"] == [("system", "!CONFIG_X", True)]


def test_subdir_paths_variables_registries_and_every_branch() -> None:
    got = rules_of(
        {
            "meson.build": """
ss = import('sourceset')
system_ss = ss.source_set()
user_ss = ss.source_set()
hw_arch = {}
modules = {}
subdir('hw')
""",
            "hw/meson.build": "subdir('arm')\nsubdir('display')\n",
            "hw/arm/meson.build": """
arm_ss = ss.source_set()
board_files = files('virt.c')
board_files += files('virt-acpi.c')
if host_os == 'linux' and not get_option('foo')
  arm_ss.add(when: 'CONFIG_ARM_VIRT', if_true: board_files)
else
  arm_ss.add(when: 'CONFIG_ARM_VIRT', if_true: files('other.c'))
endif
hw_arch += {'arm': arm_ss}
user_ss.add(files('user.c'))
""",
            "hw/display/meson.build": """
mods = {}
gpu_ss = ss.source_set()
gpu_ss.add(when: ['CONFIG_VIRTIO_GPU', pixman], if_true: [files('virtio-gpu.c'), pixman])
mods += {'virtio-gpu': gpu_ss}
modules += {'hw-display': mods}
""",
        }
    )
    assert got["hw/arm/virt.c"] == [("hw_arch[arm]", "CONFIG_ARM_VIRT", False)]
    assert got["hw/arm/virt-acpi.c"] == [("hw_arch[arm]", "CONFIG_ARM_VIRT", False)]
    assert got["hw/arm/other.c"] == [("hw_arch[arm]", "CONFIG_ARM_VIRT", False)]
    assert got["hw/arm/user.c"] == [("user", "always", False)]
    # A dependency object in `when:` is a host library: assumed present.
    assert got["hw/display/virtio-gpu.c"] == [("system", "CONFIG_VIRTIO_GPU", False)]


def test_odd_statements_are_skipped_not_fatal() -> None:
    ms = read_meson(
        {
            "meson.build": """
ss = import('sourceset')
system_ss = ss.source_set()
x = @@@ broken
system_ss.add(files('kept.c'))
subdir('missing')
""",
        }.get,
        LAYOUT,
    )
    assert [r.path for r in ms.rules] == ["kept.c"]
    assert any("missing/meson.build: not found" in n for n in ms.notes)
    assert any("meson.build:4: unexpected" in n for n in ms.notes)


def test_unregistered_sets_and_directory_conditions() -> None:
    ms = read_meson(
        {
            "meson.build": """
ss = import('sourceset')
system_ss = ss.source_set()
tool_ss = ss.source_set()
tool_ss.add(files('tool.c'))
subdir('rust')
""",
            "rust/meson.build": """
_lib = static_library('dev', structured_sources(['src/lib.rs']))
system_ss.add(when: 'CONFIG_X_DEV_RUST', if_true: [declare_dependency(link_whole: [_lib])])
""",
        }.get,
        LAYOUT,
    )
    assert "tool.c" in ms.unregistered
    assert ms.dir_rules["rust"] == ((SYSTEM, Condition.all_of(["CONFIG_X_DEV_RUST"])),)


def test_condition_algebra() -> None:
    a = Condition.all_of(["A"])
    ab = a.and_(Condition.all_of(["B"]))
    assert str(ab) == "A && B"
    assert str(ab.negate_term()) == "(!A) || (!B)"
    assert Condition.always().negate_term() == Condition.never()
    # X && !X can never hold, so it disappears.
    assert a.and_(a.negate_term()) == Condition.never()
    assert Term(frozenset({"A"})) in a.or_(Condition.all_of(["C"])).terms
    assert Scope("arch", "hw_arch", "arm") != USER


def test_accelerator_targets_union_over_host_branches() -> None:
    root = """
if cpu == 'x86_64'
  kvm_targets = ['i386-softmmu', 'x86_64-softmmu']
elif cpu == 'aarch64'
  kvm_targets = ['aarch64-softmmu']
else
  kvm_targets = []
endif
accelerator_targets = { 'CONFIG_KVM': kvm_targets }
accelerator_targets += {
  'CONFIG_HVF': ['aarch64-softmmu'],
}
"""
    got = read_accelerator_targets(root)
    assert got["CONFIG_KVM"] == {"i386-softmmu", "x86_64-softmmu", "aarch64-softmmu"}
    assert got["CONFIG_HVF"] == {"aarch64-softmmu"}
