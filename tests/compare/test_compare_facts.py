"""compare on two texts of one file, with no git: which facts each edit gives.

Each edit is one line of a change a developer makes to tests/compare/snippets;
compare must name what happened to the migration stream, and nothing else.
"""

from __future__ import annotations

from bot.compare.facts import (
    CompatEntryAdded,
    CompatEntryMoved,
    CompatEntryRemoved,
    FieldAdded,
    FieldChanged,
    FieldRemoved,
    PropertyDefaultChanged,
    VersionBumped,
)
from tests.compare.snippets import (
    CTRL,
    END,
    FIFO_ENTRY,
    FIFO_REF,
    IRQ_SUBSECTION,
    LEVEL,
    MACHINE,
    MACHINE_C,
    MAIN_VMSD,
    NIC_ENTRY,
    STATUS,
    VERSIONS,
    WIDGET,
    WIDGET_C,
    machine,
    widget,
)
from tests.harness import facts, kinds

EXTRA = "        VMSTATE_UINT32(extra, AcmeWidgetState),\n"
EXTRA_V3 = "        VMSTATE_UINT32_V(extra, AcmeWidgetState, 3),\n"
BUMPED = VERSIONS.replace("version_id = 2", "version_id = 3")


def widget_facts(*pairs: tuple[str, str]) -> list[str]:
    return kinds(facts(WIDGET, widget(*pairs), WIDGET_C))


def machine_facts(*pairs: tuple[str, str]) -> list[str]:
    return kinds(facts(MACHINE, machine(*pairs), MACHINE_C))


# --- nothing changed ------------------------------------------------------------


def test_an_unchanged_file_has_no_fact() -> None:
    assert facts(WIDGET, WIDGET, WIDGET_C) == []


def test_a_comment_is_no_fact() -> None:
    assert widget_facts((CTRL, "        /* control register */\n" + CTRL)) == []


# --- fields ---------------------------------------------------------------------


def test_field_added() -> None:
    assert widget_facts((LEVEL, LEVEL + EXTRA)) == ["FieldAdded"]


def test_field_added_says_which_field_and_that_the_version_stayed() -> None:
    (fact,) = facts(WIDGET, widget((LEVEL, LEVEL + EXTRA)), WIDGET_C)
    assert isinstance(fact, FieldAdded)
    assert (fact.subject, fact.vmsd, fact.at_end) == ("extra", "acme-widget", True)
    assert (fact.vmsd_version_old, fact.vmsd_version_new) == (2, 2)


def test_field_added_with_its_version_bump() -> None:
    assert widget_facts((VERSIONS, BUMPED), (LEVEL, LEVEL + EXTRA_V3)) == [
        "VersionBumped",
        "FieldAdded",
    ]


def test_field_added_in_the_new_version_is_marked_so() -> None:
    found = facts(WIDGET, widget((VERSIONS, BUMPED), (LEVEL, LEVEL + EXTRA_V3)), WIDGET_C)
    added = next(f for f in found if isinstance(f, FieldAdded))
    assert added.in_new_vmsd_version and added.vmsd_version_new == 3


def test_field_added_in_the_middle_is_not_at_the_end() -> None:
    (fact,) = facts(WIDGET, widget((CTRL, CTRL + EXTRA)), WIDGET_C)
    assert isinstance(fact, FieldAdded) and not fact.at_end


def test_field_removed() -> None:
    assert widget_facts((STATUS, "")) == ["FieldRemoved"]


def test_field_removed_names_the_field_on_the_old_side() -> None:
    (fact,) = facts(WIDGET, widget((STATUS, "")), WIDGET_C)
    assert isinstance(fact, FieldRemoved)
    assert (fact.subject, fact.line, fact.side.value, fact.replacement) == (
        "status",
        39,
        "old",
        None,
    )


def test_field_replaced_by_unused_of_its_size_changes_no_stream() -> None:
    # The same four bytes go out in the same place: nothing to judge.
    assert facts(WIDGET, widget((STATUS, "        VMSTATE_UNUSED(4),\n")), WIDGET_C) == []


def test_field_replaced_by_unused_of_another_size_keeps_the_replacement() -> None:
    unused = "        VMSTATE_UNUSED(2),\n"
    (fact,) = facts(WIDGET, widget((STATUS, unused)), WIDGET_C)
    assert isinstance(fact, FieldRemoved)
    assert fact.replacement is not None and fact.replacement.macro == "VMSTATE_UNUSED"


def test_field_size_changed() -> None:
    assert widget_facts(("VMSTATE_UINT16(count", "VMSTATE_UINT32(count")) == ["FieldChanged"]


def test_field_changed_type_says_so() -> None:
    (fact,) = facts(WIDGET, widget(("VMSTATE_UINT16(count", "VMSTATE_UINT32(count")), WIDGET_C)
    assert isinstance(fact, FieldChanged)
    assert (fact.subject, fact.what) == ("count", "type")


def test_array_length_changed_is_a_count_change() -> None:
    (fact,) = facts(WIDGET, widget(("AcmeWidgetState, 16)", "AcmeWidgetState, 32)")), WIDGET_C)
    assert isinstance(fact, FieldChanged)
    assert (fact.subject, fact.vmsd, fact.what) == ("fifo", "acme-widget/fifo", "count")


def test_fields_reordered() -> None:
    assert widget_facts((CTRL + STATUS, STATUS + CTRL)) == ["FieldsReordered"]


def test_end_of_list_missing() -> None:
    assert widget_facts((END, "    },\n    .subsections")) == ["EndOfListMissing"]


# --- versions -------------------------------------------------------------------


def test_version_bumped() -> None:
    assert widget_facts((VERSIONS, BUMPED)) == ["VersionBumped"]


def test_version_bumped_says_from_and_to() -> None:
    (fact,) = facts(WIDGET, widget((VERSIONS, BUMPED)), WIDGET_C)
    assert isinstance(fact, VersionBumped)
    assert (fact.old, fact.new, fact.is_subsection) == (2, 3, False)


def test_version_lowered_leaves_a_field_above_it() -> None:
    lowered = VERSIONS.replace("version_id = 2", "version_id = 1")
    assert widget_facts((VERSIONS, lowered)) == ["VersionLowered", "FieldVersionAboveVmsd"]


def test_minimum_version_raised() -> None:
    raised = VERSIONS.replace("minimum_version_id = 1", "minimum_version_id = 2")
    assert widget_facts((VERSIONS, raised)) == ["MinimumVersionRaised"]


# --- subsections and names ------------------------------------------------------


def test_subsection_added() -> None:
    assert widget_facts(
        (MAIN_VMSD, IRQ_SUBSECTION + MAIN_VMSD),
        (FIFO_REF, FIFO_REF + "        &vmstate_acme_widget_irq,\n"),
    ) == ["SubsectionAdded"]


def test_subsection_defined_but_not_listed_is_no_fact() -> None:
    assert widget_facts((MAIN_VMSD, IRQ_SUBSECTION + MAIN_VMSD)) == []


def test_subsection_removed() -> None:
    assert widget_facts((FIFO_REF, "")) == ["SubsectionRemoved"]


def test_subsection_renamed() -> None:
    (fact,) = facts(WIDGET, widget(('"acme-widget/fifo"', '"acme-widget/queue"')), WIDGET_C)
    assert (type(fact).__name__, fact.subject) == ("VmsdRenamed", "acme-widget/fifo")


def test_section_renamed() -> None:
    renamed = (
        "    .name = TYPE_ACME_WIDGET,\n    .version_id",
        '    .name = "acme-w",\n    .version_id',
    )
    assert widget_facts(renamed) == ["VmsdRenamed"]


# --- properties and compat arrays -----------------------------------------------


def test_property_default_changed() -> None:
    assert widget_facts(("depth, 16)", "depth, 32)")) == ["PropertyDefaultChanged"]


def test_property_default_changed_names_both_defaults() -> None:
    (fact,) = facts(WIDGET, widget(("depth, 16)", "depth, 32)")), WIDGET_C)
    assert isinstance(fact, PropertyDefaultChanged)
    assert (fact.old.default, fact.new.default, fact.compat) == ("16", "32", ())


def test_property_added() -> None:
    new_prop = '    DEFINE_PROP_BOOL("x-irq", AcmeWidgetState, irq, true),\n'
    depth = '    DEFINE_PROP_UINT32("depth"'
    assert widget_facts((depth, new_prop + depth)) == ["PropertyAdded"]


def test_compat_entry_added_to_the_newest_array() -> None:
    entry = '    { "acme-widget", "depth", "8" },\n'
    (fact,) = facts(MACHINE, machine((FIFO_ENTRY, FIFO_ENTRY + entry)), MACHINE_C)
    assert isinstance(fact, CompatEntryAdded)
    assert (fact.subject, fact.entry.array, fact.newest) == (
        "acme-widget.depth",
        "hw_compat_10_2",
        "hw_compat_10_2",
    )


def test_compat_entry_added_to_an_older_array_says_which_is_newest() -> None:
    entry = '    { "acme-widget", "depth", "8" },\n'
    (fact,) = facts(MACHINE, machine((NIC_ENTRY, NIC_ENTRY + entry)), MACHINE_C)
    assert isinstance(fact, CompatEntryAdded)
    assert (fact.entry.array, fact.newest) == ("hw_compat_10_1", "hw_compat_10_2")


def test_compat_entry_removed() -> None:
    assert machine_facts((NIC_ENTRY, "")) == ["CompatEntryRemoved"]


def test_compat_entry_removed_keeps_its_array() -> None:
    (fact,) = facts(MACHINE, machine((NIC_ENTRY, "")), MACHINE_C)
    assert isinstance(fact, CompatEntryRemoved)
    assert (fact.subject, fact.array_removed) == ("acme-nic.mrg-rxbuf", False)


def test_compat_entry_moved_to_an_older_array_narrows_it() -> None:
    moved = machine((FIFO_ENTRY, ""), (NIC_ENTRY, NIC_ENTRY + FIFO_ENTRY))
    (fact,) = facts(MACHINE, moved, MACHINE_C)
    assert isinstance(fact, CompatEntryMoved)
    assert (fact.old_array, fact.new_array, fact.narrowed) == (
        "hw_compat_10_2",
        "hw_compat_10_1",
        True,
    )


def test_compat_entry_value_changed() -> None:
    on = FIFO_ENTRY.replace('"off"', '"on"')
    assert machine_facts((FIFO_ENTRY, on)) == ["CompatEntryValueChanged"]


# --- whole files ----------------------------------------------------------------


def test_a_new_file_is_compared_against_nothing() -> None:
    assert facts(None, WIDGET, WIDGET_C) == []
