"""What ``check`` and ``audit`` do after the review: select, baseline, write, count.

Shared so both commands take the same options: ``--select``/``--ignore``,
``--config``, ``--baseline``/``--write-baseline``, ``-o FORMAT=FILE``
(repeatable: one analysis, several reports), ``--statistics``.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from bot.findings import Report, Severity
from bot.judge.baseline import BaselineError, apply_baseline, read_baseline, write_baseline
from bot.judge.catalogue import Catalogue
from bot.judge.project import (
    CONFIG_NAME,
    ProjectConfig,
    ProjectConfigError,
    apply_selection,
    find_config,
    load_config,
    selection,
)

FAIL_ON = {"error": Severity.ERROR, "warning": Severity.WARNING, "never": None}
OUTPUT_FORMATS = ("text", "json", "markdown", "sarif", "codequality", "github", "rdjson")

F = TypeVar("F", bound=Callable[..., Any])


class FinishError(ValueError):
    """Bad options or files around the report (exit 2)."""


@dataclass(frozen=True, slots=True)
class Output:
    fmt: str
    path: Path


def parse_output(spec: str) -> Output:
    """``sarif=out.sarif`` -> Output; ``-`` as the file is standard output."""
    fmt, sep, path = spec.partition("=")
    if not sep or not path:
        raise FinishError(f"-o takes FORMAT=FILE (e.g. sarif=migbot.sarif), not {spec!r}")
    if fmt not in OUTPUT_FORMATS:
        raise FinishError(f"-o: unknown format {fmt!r}; choose one of {', '.join(OUTPUT_FORMATS)}")
    return Output(fmt, Path(path))


def selection_options(func: F) -> F:
    """The options ``check`` and ``audit`` share."""
    options = [
        click.option(
            "--select",
            "select",
            multiple=True,
            help="Report only these rules: ids, slugs, id prefixes or categories; repeatable.",
        ),
        click.option(
            "--ignore", "ignore", multiple=True, help="Do not report these rules; repeatable."
        ),
        click.option(
            "--config",
            "config_path",
            type=click.Path(path_type=Path, dir_okay=False),
            help=f"Project file (default: {CONFIG_NAME} at the repository's top).",
        ),
        click.option(
            "--baseline",
            type=click.Path(path_type=Path, dir_okay=False),
            help="Leave out the findings this baseline file accepts.",
        ),
        click.option(
            "--write-baseline",
            type=click.Path(path_type=Path, dir_okay=False),
            help="Write every finding to this baseline file (and exit 0).",
        ),
        click.option(
            "-o",
            "--output",
            "outputs",
            multiple=True,
            metavar="FORMAT=FILE",
            help="Also write the report in FORMAT to FILE; repeatable.",
        ),
        click.option("--statistics", is_flag=True, help="Count the findings per rule."),
        click.option("--doc-base", help="Where docs/rules.md is published (rule id links)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def project_config(
    explicit: Path | None,
    near: Path | None,
    *,
    select: Sequence[str],
    ignore: Sequence[str],
    fail_on: str | None,
    labels: Sequence[str],
    doc_base: str | None,
    baseline: Path | None,
) -> ProjectConfig:
    """The project file (``--config``, else found from ``near`` or the current
    directory) with the command line over it."""
    try:
        path = explicit or find_config(near or Path.cwd())
        config = load_config(path) if path is not None else ProjectConfig()
    except ProjectConfigError as exc:
        raise FinishError(str(exc)) from None
    return config.merged(
        select=select,
        ignore=ignore,
        fail_on=fail_on,
        labels=labels,
        doc_base=doc_base,
        baseline=baseline,
    )


def refine(report: Report, config: ProjectConfig, catalogue: Catalogue) -> Report:
    """Selection, then the baseline."""
    try:
        report = apply_selection(report, selection(config, catalogue))
        if config.baseline is not None:
            entries = read_baseline(config.baseline)
            report = apply_baseline(report, entries, str(config.baseline))
    except (ProjectConfigError, BaselineError) as exc:
        raise FinishError(str(exc)) from None
    return report


def statistics(report: Report) -> str:
    """``  3  MIG001  field-added-unversioned  error`` per rule, most frequent first."""
    counts = Counter((f.rule_id, f.slug) for f in report.findings)
    worst: dict[str, Severity] = {}
    for f in report.findings:
        if f.rule_id not in worst or f.severity.rank > worst[f.rule_id].rank:
            worst[f.rule_id] = f.severity
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0][0]))
    width = max((len(str(n)) for n in counts.values()), default=1)
    lines = [f"{n:>{width}}  {rule}  {slug}  {worst[rule].value}" for (rule, slug), n in rows]
    total = sum(counts.values())
    lines.append(f"{total:>{width}}  total")
    return "\n".join(lines) + "\n"


def emit(
    report: Report,
    *,
    fmt: str,
    outputs: Sequence[str],
    show_statistics: bool,
    color: bool,
    render: Callable[[Report, str, bool], str],
    write_baseline_to: Path | None = None,
) -> None:
    """Write the baseline or the reports: ``-o`` files first (so a failing write
    stops before anything is printed), then standard output."""
    parsed = [parse_output(spec) for spec in outputs]
    if write_baseline_to is not None:
        try:
            n = write_baseline(report, write_baseline_to)
        except BaselineError as exc:
            raise FinishError(str(exc)) from None
        click.echo(f"migbot: wrote {n} finding(s) to the baseline {write_baseline_to}", err=True)
        return
    for out in parsed:
        text = render(report, out.fmt, False)
        if str(out.path) == "-":
            click.echo(text, nl=False)
            continue
        try:
            out.path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise FinishError(f"cannot write {out.path}: {exc.strerror}") from None
    if fmt in {o.fmt for o in parsed} and not any(str(o.path) == "-" for o in parsed):
        pass  # the main format goes to standard output as well, as asked
    click.echo(render(report, fmt, color), nl=False)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary and (fmt == "github" or any(o.fmt == "github" for o in parsed)):
        try:
            with open(summary, "a", encoding="utf-8") as handle:
                handle.write(render(report, "markdown", False))
        except OSError as exc:
            click.echo(f"migbot: cannot write the job summary {summary}: {exc.strerror}", err=True)
    if show_statistics:
        stream = sys.stderr if fmt != "text" else sys.stdout
        click.echo(statistics(report), nl=False, file=stream)


def exit_status(report: Report, fail_on: str, *, baseline_written: bool = False) -> int:
    threshold = FAIL_ON[fail_on]
    if baseline_written or threshold is None:
        return 0
    return 1 if report.reaches(threshold) else 0
