"""``migbot rule MIG001``: a rule's page on the terminal (as ``ruff rule``).

What breaks, which direction, the severity per tier, the fix recipe with its
examples, the real case and the documentation link; ``--all`` lists every rule.
Exit codes: 0 shown, 2 no such rule.
"""

from __future__ import annotations

import click

from bot.findings import Tier
from bot.judge.catalogue import Rule, load_catalogue


class _Usage(click.ClickException):
    exit_code = 2

    def show(self, file: object = None) -> None:
        click.echo(f"migbot: {self.format_message()}", err=True)


def rule_page(rule: Rule) -> str:
    severities = ", ".join(f"{t.value} {rule.severity(t).value}" for t in Tier)
    out = [
        f"{rule.id} {rule.slug}: {rule.title}",
        "",
        f"Category: {rule.category or 'none'}. Status: {rule.status}, since {rule.since}.",
        f"Severity: {severities}.",
        "",
        "What breaks:",
        f"  {rule.why}",
        "",
        "Fix:",
        *(f"  {line}" if line else "" for line in rule.fix.splitlines()),
        "",
    ]
    if rule.example:
        out += [f"Real case: {rule.example}.", ""]
    out.append(f"See: {rule.doc_url}")
    return "\n".join(out) + "\n"


@click.command("rule")
@click.argument("code", required=False)
@click.option("--all", "show_all", is_flag=True, help="List every rule: id, slug, category, title.")
def rule(code: str | None, show_all: bool) -> None:
    """Explain a rule: CODE is an id (MIG001), a slug or an old code."""
    catalogue = load_catalogue()
    if show_all or code is None:
        for r in sorted(catalogue, key=lambda r: r.id):
            click.echo(f"{r.id}  {r.slug:<36} {r.category:<12} {r.title}")
        return
    found = catalogue.find(code.strip())
    if found is None:
        raise _Usage(f"no rule {code!r}; 'migbot rule --all' lists them")
    click.echo(rule_page(found), nl=False)
