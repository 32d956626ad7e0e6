"""Progress on a terminal, nothing when piped (rich draws it on standard error).

``with progress("auditing", total=n) as step: ... step()``: the bar shows only
when standard error is a terminal and ``TERM`` is not ``dumb``, so logs, pipes
and CI output stay exactly as they were.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Step = Callable[..., None]
"""``step()`` advances by one; ``step(description=...)`` renames the task."""


def on_terminal() -> bool:
    return sys.stderr.isatty() and os.environ.get("TERM", "") != "dumb"


@contextmanager
def progress(description: str, total: int | None = None) -> Iterator[Step]:
    if not on_terminal():
        yield _nothing
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    bar = Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with bar:
        task = bar.add_task(description, total=total)

        def step(advance: int = 1, description: str | None = None) -> None:
            if description is not None:
                bar.update(task, description=description)
            bar.advance(task, advance)

        yield step


def _nothing(advance: int = 1, description: str | None = None) -> None:
    """The step of a run that shows no progress."""
