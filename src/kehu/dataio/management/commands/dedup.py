"""`kehu dedup`: refresh the review queue of likely duplicate customers and contacts."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from kehu.core import jobs
from kehu.dataio.quality.dedup import scan


class Command(BaseCommand):
    help = ("Find likely duplicate customers and contacts (same phone, e-mail, alike names in "
            "characters or pinyin) and put them in the review queue of the data quality page.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--full", action="store_true",
                            help="recompute every record's keys, not only those changed since "
                                 "the last scan")
        parser.add_argument("--only", choices=["customers", "contacts"],
                            help="scan only customers or only contacts")

    def handle(self, *args: Any, **options: Any) -> None:
        kinds = (options["only"],) if options["only"] else ("customers", "contacts")
        job = jobs.run_inline("dataio.dedup", scan, kwargs={"kinds": kinds,
                                                            "full": options["full"]},
                              title=_("Scan for duplicates"))
        if job.status != "done":
            self.stderr.write(job.error)
            raise SystemExit(1)
        for kind, figures in job.result.items():
            label = _("customers") if kind == "customers" else _("contacts")
            self.stdout.write(_("%(pairs)d pairs of %(kind)s to review (%(candidates)d "
                                "candidates compared, %(keys)d records' keys refreshed).")
                              % {"pairs": figures["pairs"], "kind": label,
                                 "candidates": figures["candidates"],
                                 "keys": figures["keys_refreshed"]})
