"""Facts that need the head tree beyond the touched files, asked for lazily.

Machine wiring (`wiring`), what added compat entries hit (`compat_targets`),
and section names and versions (`sections`). Each asks the tree only when the
change touches what it is about: a change without compat arrays, machine
options or VMSDs costs no search.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.compare import facts as F
from bot.compare.class_globals import class_global_facts
from bot.compare.compat_targets import needles, target_facts
from bot.compare.context import Context, FileModels
from bot.compare.kvmhooks import kvm_hook_facts
from bot.compare.machinecompat import forced_gate_facts, machine_compat_facts
from bot.compare.remap import remap_facts
from bot.compare.sections import (
    name_needles,
    name_taken_facts,
    new_section_facts,
    removed_names,
    version_facts,
)
from bot.compare.unregistered import unregistered_facts
from bot.compare.wiring import sibling_reader, wiring_facts
from bot.scanner.treesearch import TreeSearch

Texts = Mapping[str, tuple[str | None, str | None]]
"""path -> (old text, new text) of each scanned file of the change."""


def tree_facts(
    files: Sequence[FileModels],
    ctx: Context,
    texts: Texts,
    head: TreeSearch,
    base: TreeSearch,
    earlier: Sequence[F.Fact] = (),
) -> list[F.Fact]:
    """``earlier``: the facts of `bot.compare.engine.compare`, not said twice."""
    out: list[F.Fact] = []
    # One search of the tree for every name the checks below look up.
    wanted = needles(files, ctx.resolve)
    for fm in files:
        wanted += name_needles(fm, ctx)
    head.prefetch(wanted)
    moved = removed_names(files, ctx) if wanted else set()
    read = sibling_reader(files, head.model, base.model)
    for fm in files:
        old_text, new_text = texts.get(fm.path, (None, None))
        out.extend(wiring_facts(fm, (old_text, new_text), read))
        out.extend(version_facts(fm))
        out.extend(new_section_facts(fm, old_text, ctx))
        if fm.new is not None and fm.new.vmsds:
            out.extend(name_taken_facts(fm, ctx, head, moved))
        out.extend(unregistered_facts(fm, ctx, head))
        out.extend(class_global_facts(fm, new_text))
        out.extend(kvm_hook_facts(fm, (old_text, new_text), head))
        out.extend(remap_facts(fm, (old_text, new_text)))
    out.extend(machine_compat_facts(files, texts, head))
    out.extend(forced_gate_facts(files, texts, earlier, head))
    # An entry for a property this change adds, naming another type, is
    # MIG029's (it names the types that have the property): one finding.
    wrong = {(f.path, f.line) for f in earlier if isinstance(f, F.CompatEntryWrongDriver)}
    out.extend(
        f
        for f in target_facts(files, head, ctx.resolve)
        if not (isinstance(f, F.CompatEntryNoSuchType) and (f.path, f.line) in wrong)
    )
    return out
