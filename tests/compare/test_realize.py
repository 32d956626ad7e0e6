"""Defaults decided at realize: the value realize gives an 'unspecified' property."""

from __future__ import annotations

from bot.compare import facts as F
from bot.compare.realize import realize_default_facts
from tests.harness import file_models

PATH = "hw/virtio/acme-rng-pci.c"

OLD = """
static void acme_rng_pci_realize(VirtIOPCIProxy *vpci_dev, Error **errp)
{
    qdev_realize(vdev, BUS(&vpci_dev->bus), errp);
}

static void acme_rng_pci_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
}
"""

NEW = """
static const Property acme_rng_properties[] = {
    DEFINE_PROP_UINT32("vectors", VirtIOPCIProxy, nvectors,
                       DEV_NVECTORS_UNSPECIFIED),
};

static void acme_rng_pci_realize(VirtIOPCIProxy *vpci_dev, Error **errp)
{
    if (vpci_dev->nvectors == DEV_NVECTORS_UNSPECIFIED) {
        vpci_dev->nvectors = 2;
    }
    qdev_realize(vdev, BUS(&vpci_dev->bus), errp);
}

static void acme_rng_pci_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    device_class_set_props(dc, acme_rng_properties);
}

static const VirtioPCIDeviceTypeInfo acme_rng_pci_info = {
    .generic_name = "acme-rng-pci",
};
"""


def _facts(old: str, new: str, compat: tuple[str, ...] = ()) -> list[F.Fact]:
    return realize_default_facts([file_models(old, new, PATH)], {PATH: (old, new)}, compat)


def test_new_unspecified_property_with_a_realize_default_changes_the_device() -> None:
    [fact] = _facts(OLD, NEW)
    assert isinstance(fact, F.RealizeDefaultChanged)
    assert fact.prop.name == "vectors" and fact.prop.owner == "acme-rng-pci"
    assert fact.new_value == "`2` (decided at realize)"


def test_compat_entry_for_the_property_in_the_change_keeps_it_quiet() -> None:
    assert _facts(OLD, NEW, ("vectors",)) == []


def test_expression_changed_is_reported_with_both_values() -> None:
    newer = NEW.replace("nvectors = 2;", "nvectors = 4;")
    [fact] = _facts(NEW, newer)
    assert isinstance(fact, F.RealizeDefaultChanged)
    assert (fact.old_value, fact.new_value) == (
        "`2` (decided at realize)",
        "`4` (decided at realize)",
    )


def test_change_elsewhere_in_realize_is_silent() -> None:
    newer = NEW.replace("    qdev_realize(", "    acme_rng_setup(vpci_dev);\n    qdev_realize(")
    assert _facts(NEW, newer) == []


def test_compat_knob_retired_from_the_expression_is_silent() -> None:
    old = NEW.replace("nvectors = 2;", "nvectors = vpci_dev->legacy_vectors ? 1 : 2;").replace(
        "                       DEV_NVECTORS_UNSPECIFIED),\n",
        "                       DEV_NVECTORS_UNSPECIFIED),\n"
        '    DEFINE_PROP_BOOL("x-legacy-vectors", VirtIOPCIProxy, legacy_vectors, false),\n',
    )
    assert _facts(old, NEW) == []


def test_value_realize_always_set_now_only_when_unspecified_is_silent() -> None:
    old = OLD.replace("{\n    qdev_realize", "{\n    vpci_dev->nvectors = 2;\n    qdev_realize")
    assert _facts(old, NEW) == []


HELPER = """
uint32_t acme_rng_default_vectors(int nqueues)
{
    return nqueues + 1;
}
"""

HELPER_NEW = NEW.replace("nvectors = 2;", "nvectors = acme_rng_default_vectors(1);")


def test_helper_renamed_with_the_same_body_is_silent() -> None:
    # The function computing the default is only renamed (another function
    # takes its old name): the value realize gives does not move.
    renamed = HELPER.replace("acme_rng_default_vectors", "acme_rng_build_vectors")
    taken = (
        "\nuint32_t acme_rng_default_vectors(VirtIOPCIProxy *p)\n{\n    return p->nvectors;\n}\n"
    )
    new = (
        renamed
        + taken
        + HELPER_NEW.replace("acme_rng_default_vectors(1)", "acme_rng_build_vectors(1)")
    )
    assert _facts(HELPER + HELPER_NEW, new) == []


def test_helper_renamed_and_changed_is_still_reported() -> None:
    renamed = HELPER.replace("acme_rng_default_vectors", "acme_rng_build_vectors").replace(
        "nqueues + 1", "nqueues + 2"
    )
    new = renamed + HELPER_NEW.replace("acme_rng_default_vectors(1)", "acme_rng_build_vectors(1)")
    assert len(_facts(HELPER + HELPER_NEW, new)) == 1
