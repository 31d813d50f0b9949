"""`kehu service sweep`: the regular checks of service (see kehu.service.sweeps)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.service import sweeps


def parse_now(value: str) -> dt.datetime:
    """--today: a day (checked as at the end of it, in the firm's time zone) or an instant
    (2026-12-31T14:30, local unless it carries its offset)."""
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            return timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59, 59)))
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(_("--today %(value)s is neither a date like 2026-12-31 nor a time "
                             "like 2026-12-31T14:30.") % {"value": value}) from None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


class Command(BaseCommand):
    help = ("sweep: run the service checks (tickets about to miss or past their service-level "
            "targets, …) that turn into tasks. Run it from cron every few minutes.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["sweep"])
        parser.add_argument("--today", help=_("check as of this day (its end) or time, "
                                               "YYYY-MM-DD or YYYY-MM-DDTHH:MM (default: now)"))
        parser.add_argument("--only", help=_("run only this check"))

    def handle(self, *args: Any, **options: Any) -> None:
        now = parse_now(options["today"]) if options["today"] else timezone.now()
        known = sweeps.SWEEPS  # read now: checks register when the apps are ready
        if options["only"] and options["only"] not in known:
            raise CommandError(_("There is no check named %(name)s; the checks are: "
                                 "%(names)s.") % {"name": options["only"],
                                                   "names": ", ".join(known) or "—"})
        failed = False
        for result in sweeps.run_sweeps(now, options["only"]):
            if result.error:
                failed = True
                self.stderr.write(_("%(label)s: failed: %(error)s")
                                  % {"label": result.label, "error": result.error})
            else:
                self.stdout.write(_("%(label)s: %(n)d") % {"label": result.label,
                                                          "n": result.made})
        if failed:
            raise SystemExit(1)
