"""A VMSD that stops being registered while its device still migrates.

Removing the only ``vmstate_register`` (or ``dc->vmsd``, or the spapr
``vmstate_replace_hack_for_ppc``) of a VMSD that stays in the tree drops its
section from the stream: a new QEMU neither sends nor loads the state. The
usual cause is cleanup around the registration (a machine-type hack removed
with the machine types it served) that takes the plain registration with it.

Judged with the head tree: the VMSD must be registered, nested or listed as a
subsection nowhere any more. Every reference that is not its definition or a
``vmstate_unregister`` counts as a use, so anything the check cannot read
keeps it silent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.compare import facts as F
from bot.compare.context import Context, FileModels
from bot.findings import Side
from bot.scanner.treesearch import TreeSearch

_NOT_A_USE = re.compile(
    r"^\s*(?://|/?\*)"  # a comment line
    r"|\bVMStateDescription\s+{ident}\b"  # the definition
    r"|\bvmstate_unregister\s*\("  # taking it out is not putting it in
)


def unregistered_facts(fm: FileModels, ctx: Context, head: TreeSearch) -> Iterable[F.Fact]:
    if fm.old is None or fm.new is None or not head.searchable:
        return
    kept = {r.vmsd for r in fm.new.registrations}
    seen: set[str] = set()
    for r in fm.old.registrations:
        if r.vmsd in kept or r.vmsd in seen:
            continue
        seen.add(r.vmsd)
        vmsd = fm.new.vmsd(r.vmsd)
        if vmsd is None:
            continue  # the VMSD went too: judged as a removed section
        if r.line not in fm.changed_old:
            continue
        if _still_used(r.vmsd, head):
            continue
        yield F.RegistrationDropped(
            path=fm.path,
            line=r.line,
            side=Side.OLD,
            vmsd=ctx.name_of(vmsd, fm.new),
            subject=r.vmsd,
            ident=r.vmsd,
            how=r.kind,
            function=r.function,
        )


def _still_used(ident: str, head: TreeSearch) -> bool:
    not_a_use = re.compile(_NOT_A_USE.pattern.format(ident=re.escape(ident)))
    word = re.compile(rf"\b{re.escape(ident)}\b")
    for path in head.files_with(ident):
        for line in (head.text(path) or "").splitlines():
            if word.search(line) and not not_a_use.search(line):
                return True
    return False
