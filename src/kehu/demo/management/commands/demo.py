"""`kehu demo load`: the demo firm, built from the real CDNOW purchase history."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand
from rich.console import Console

from kehu.demo import loader


class Command(BaseCommand):
    help = "Load the demo firm (idempotent): kehu demo load"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["load"], help="what to do with the demo data")
        parser.add_argument("--language", choices=loader.LANGUAGES, default=None,
                            help="names, places and notes in Simplified Chinese or English "
                                 "(default: the site's language, KEHU_LANGUAGE)")
        parser.add_argument("--sample", type=int, default=None, metavar="N",
                            help="only the first N CDNOW customers (a small demo firm)")

    def handle(self, *args, **options):
        console = Console(stderr=True)
        started = time.monotonic()
        with console.status("Loading the demo firm") as status:
            result = loader.load(progress=lambda message: status.update(message),
                                 language=options["language"], sample=options["sample"])
        if not result.created:
            self.stdout.write("Demo data already loaded; demo users checked.")
            return
        self.stdout.write(
            f"Demo data loaded in {time.monotonic() - started:.0f} s: {result.customers} "
            f"customers, {result.transactions} transactions, {result.contacts} contacts, "
            f"{result.activities} activities, {result.referrals} referrals."
        )
