"""`kehu sales sweep`: the daily checks of the sales areas (see kehu.sales.sweeps)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.sales import sweeps


class Command(BaseCommand):
    help = ("sweep: run the daily sales checks (stale opportunities, overdue receivables, …) "
            "that turn into tasks on the workbench. Run it from cron once a day.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["sweep"])
        parser.add_argument("--today", help=_("the day to check as, YYYY-MM-DD (default: "
                                               "today)"))
        parser.add_argument("--only", help=_("run only this check"))

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.localdate()
        if options["today"]:
            try:
                today = dt.date.fromisoformat(options["today"])
            except ValueError:
                raise CommandError(_("--today %(value)s is not a date like 2026-12-31.")
                                   % {"value": options["today"]}) from None
        sweeps.run_command(self, today, options["only"])
