"""The audit in every report format: the usual report, then the inventory.

JSON is the ``migbot.report/1`` document with one more key, ``inventory``
(optional in bot/report/report.schema.json; see docs/audit.md).
"""

from __future__ import annotations

import json
from typing import Any

from bot.audit.inventory import Counts, Inventory, RustTwin
from bot.findings import Report
from bot.judge.catalogue import Catalogue
from bot.report import render_text, report_to_dict
from bot.report.markdown import code, md, render_markdown

TEXT_DIRECTORIES = 20
"""Directories listed in the terminal inventory (JSON and Markdown list all)."""


def audit_to_dict(report: Report, inventory: Inventory) -> dict[str, Any]:
    return {**report_to_dict(report), "inventory": inventory.to_dict()}


def render_audit(
    report: Report,
    inventory: Inventory,
    fmt: str = "text",
    *,
    color: bool = False,
    catalogue: Catalogue | None = None,
) -> str:
    if fmt == "json":
        return json.dumps(audit_to_dict(report, inventory), indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        # An audit is a document, not a forge comment: no size limit applies.
        body = render_markdown(report, catalogue, max_chars=1 << 30)
        return body + "\n" + inventory_markdown(inventory)
    if fmt == "text":
        return render_text(report, color=color) + "\n" + inventory_text(inventory)
    raise ValueError(f"unknown format {fmt!r}")


_HEAD = ("files", "VMSDs", "fields", "subsections", "compat")


def _row(c: Counts) -> tuple[int, ...]:
    return (c.files, c.vmsds, c.fields, c.subsections, c.compat_entries)


def summary_line(inv: Inventory) -> str:
    t = inv.total
    return (
        f"{t.vmsds} VMSDs ({inv.sections} sections, {t.subsections} subsections) in "
        f"{t.files} files, {t.fields} fields ({inv.fields_not_understood} not understood), "
        f"{t.compat_entries} compat entries, {inv.properties} properties, {inv.types} QOM types"
    )


def inventory_text(inv: Inventory) -> str:
    out = ["Inventory: " + summary_line(inv), ""]

    def table(title: str, rows: list[tuple[str, Counts]]) -> None:
        width = max([len(title), *(len(k) for k, _ in rows)])
        out.append(f"  {title:<{width}}  " + "  ".join(f"{h:>11}" for h in _HEAD))
        for key, c in rows:
            out.append(f"  {key:<{width}}  " + "  ".join(f"{n:>11}" for n in _row(c)))
        out.append("")

    table("tier", list(inv.by_tier))
    shown = list(inv.by_directory[:TEXT_DIRECTORIES])
    more = len(inv.by_directory) - len(shown)
    table("directory" + (f" (top {len(shown)} of {len(inv.by_directory)})" if more else ""), shown)
    if inv.compat_by_release:
        out.append("  compat entries per release:")
        releases: dict[str, list[str]] = {}
        for c in inv.compat_by_release:
            releases.setdefault(c.release, []).append(f"{c.array} {c.entries}")
        for release, arrays in releases.items():
            out.append(f"    {release:<6} " + ", ".join(arrays))
        out.append("")
    if inv.machines:
        out.append("  versioned machine types:")
        for m in inv.machines:
            out.append(
                f"    {m.family:<8} {m.versions:>3} versions, {m.oldest} to {m.latest}  {m.path}"
            )
        out.append("")
    if inv.rust_twins:
        out.append("  Rust devices and their C twins:")
        out.extend(f"    {twin_line(t)}" for t in inv.rust_twins)
        out.append("")
    return "\n".join(out)


def twin_line(t: RustTwin) -> str:
    head = f"{t.name:<8} {t.rust_path}"
    if t.c_path is None:
        return f"{head}: no C twin"
    if t.agrees is None:
        return f"{head}: a field could not be read, not compared with {t.c_path}"
    if t.agrees:
        return f"{head}: agrees with {t.c_path}"
    return f"{head}: DIFFERS from {t.c_path}: " + "; ".join(t.differences)


def inventory_markdown(inv: Inventory) -> str:
    out = ["### Inventory", "", md(summary_line(inv)), ""]

    def table(title: str, rows: list[tuple[str, Counts]]) -> None:
        out.append(f"| {title} | " + " | ".join(_HEAD) + " |")
        out.append("| --- |" + " ---: |" * len(_HEAD))
        for key, c in rows:
            out.append(f"| {code(key, in_table=True)} | " + " | ".join(map(str, _row(c))) + " |")
        out.append("")

    table("tier", list(inv.by_tier))
    table("directory", list(inv.by_directory))
    if inv.compat_by_release:
        out += ["| release | array | entries |", "| --- | --- | ---: |"]
        out += [
            f"| {c.release} | {code(c.array, in_table=True)} | {c.entries} |"
            for c in inv.compat_by_release
        ]
        out.append("")
    if inv.machines:
        out += [
            "| machine family | file | versions | oldest | latest |",
            "| --- | --- | ---: | --- | --- |",
        ]
        out += [
            f"| {md(m.family)} | {code(m.path, in_table=True)} | {m.versions} "
            f"| {m.oldest} | {m.latest} |"
            for m in inv.machines
        ]
        out.append("")
    return "\n".join(out)
