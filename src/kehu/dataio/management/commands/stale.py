"""`kehu stale`: a refresh task for the owner of every stale customer card."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from kehu.core import jobs
from kehu.dataio.quality.stale import create_refresh_tasks, stale_customers


class Command(BaseCommand):
    help = ("Give the owner of every customer card not confirmed for KEHU_STALE_AFTER_DAYS "
            "days a task to confirm or update it; never two open tasks for one card.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true",
                            help="only count the stale cards without an open task")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["dry_run"]:
            n = stale_customers().count()
            self.stdout.write(_("%(n)d stale cards (not confirmed for %(days)d days) have no "
                                "open refresh task.") % {"n": n,
                                                         "days": settings.KEHU_STALE_AFTER_DAYS})
            return
        job = jobs.run_inline("dataio.stale", create_refresh_tasks,
                              title=_("Refresh tasks for stale data"))
        if job.status != "done":
            self.stderr.write(job.error)
            raise SystemExit(1)
        self.stdout.write(_("%(created)d refresh tasks created (%(stale)d stale cards without "
                            "an open task).") % job.result)
