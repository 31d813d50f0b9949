"""`kehu remind`: e-mail each person their tasks that fell due, once per task."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from kehu.tasks.reminders import send_reminders


class Command(BaseCommand):
    help = ("E-mail the assignee of every open task due today or overdue that was not "
            "reminded yet; each task is reminded once, ever. Run it from cron.")

    def handle(self, *args: Any, **options: Any) -> None:
        done = send_reminders()
        self.stdout.write(_("%(sent)d reminders sent; %(none)d tasks due for people without "
                            "an e-mail address.") % {"sent": done.sent,
                                                      "none": done.no_address})
        if done.failed:
            self.stderr.write(_("%(n)d reminders could not be sent; the next run tries "
                                "again.") % {"n": done.failed})
            raise SystemExit(1)
