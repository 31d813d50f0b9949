"""A progress display on the terminal for long commands (backup, restore); silent when the
output goes to a file or cron, where only the closing lines matter."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Update = Callable[[str, int, "int | None"], None]


@contextmanager
def terminal_progress(enabled: bool | None = None) -> Iterator[Update]:
    """Yield update(step, done, total): a bar for each step, a spinner while total is None."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield lambda step, done, total: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
               TaskProgressColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True)) as bar:
        steps: dict[str, int] = {}

        def update(step: str, done: int, total: int | None) -> None:
            if step not in steps:
                for task in steps.values():  # the earlier steps are over
                    bar.update(task, total=1, completed=1)
                steps[step] = bar.add_task(step, total=total)
            bar.update(steps[step], completed=done, total=total)

        yield update
        for task in steps.values():
            bar.update(task, total=1, completed=1)
