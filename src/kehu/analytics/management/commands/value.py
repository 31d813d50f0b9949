"""`kehu value refresh`: score every customer from the database (the value engine's own
`kehu value fit|score|evaluate` work on files; see kehu.cli)."""

from __future__ import annotations

import datetime as dt
import sys

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from kehu.analytics.refresh import refresh_values
from kehu.analytics.selectors import is_stale, latest_refresh
from kehu.core.errors import ServiceError


class _Bar:
    """What the refresh reports to, shown as a Rich progress bar."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.task = progress.add_task("", total=None)

    def report(self, done, total=None, message=None):
        self.progress.update(self.task, completed=done, total=total,
                             description=message or "")


class Command(BaseCommand):
    help = ("kehu value refresh [--as-of YYYY-MM-DD] [--if-stale]: score every customer "
            "(value, P(alive), CLV, segments, lifecycle) and keep the history.")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["refresh"])
        parser.add_argument("--as-of", help="score as of this date (default: today)")
        parser.add_argument("--if-stale", action="store_true",
                            help="do nothing unless the latest scores are stale (for cron)")

    def handle(self, *args, action, as_of=None, if_stale=False, **options):
        try:
            day = dt.date.fromisoformat(as_of) if as_of else None
        except ValueError:
            raise CommandError(f"--as-of: {as_of!r} is not a date like 2026-06-30",
                               returncode=2) from None
        if if_stale and not is_stale(latest_refresh()):
            self.stdout.write("Scores are fresh; nothing to do.")
            return
        console = Console(stderr=True)
        columns = [TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn()]
        try:
            with Progress(*columns, console=console, disable=not sys.stderr.isatty()) as bar:
                run = refresh_values(None, _Bar(bar), as_of=day, via="cli")
        except ServiceError as exc:
            raise CommandError(exc.message, returncode=2) from exc
        self.stdout.write(f"Scored {run.customers:,} customers as of {run.as_of} in "
                          f"{run.seconds:.1f} s.")
        for warning in run.warnings:
            self.stderr.write(f"warning: {warning['message']}")
