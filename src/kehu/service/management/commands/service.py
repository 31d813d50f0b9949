"""`kehu service sweep`: the regular checks of service (see kehu.service.sweeps);
`kehu service fetch-mail`: service e-mail into tickets (kehu.service.tickets.intake)."""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

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
            "targets, …) that turn into tasks. fetch-mail: read service e-mail from a folder "
            "of .eml files (--folder) or an IMAP mailbox (--imap-host, --imap-user, the "
            "password in KEHU_IMAP_PASSWORD) and file each message as a new ticket or onto "
            "the ticket its subject names. Run both from cron every few minutes.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["sweep", "fetch-mail"])
        parser.add_argument("--today", help=_("check as of this day (its end) or time, "
                                               "YYYY-MM-DD or YYYY-MM-DDTHH:MM (default: now)"))
        parser.add_argument("--only", help=_("run only this check"))
        parser.add_argument("--folder", help=_("a folder of .eml files; filed messages move "
                                               "to done/, unmatched ones to unmatched/"))
        parser.add_argument("--keep", action="store_true",
                            help=_("leave the files where they are"))
        parser.add_argument("--imap-host", help=_("the IMAP server"))
        parser.add_argument("--imap-user", help=_("the IMAP user name"))
        parser.add_argument("--imap-port", type=int, help=_("the IMAP port"))
        parser.add_argument("--imap-mailbox", default="INBOX", help=_("the mailbox to read"))
        parser.add_argument("--no-ssl", action="store_true",
                            help=_("connect without TLS (a server on this machine only)"))

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "fetch-mail":
            self.fetch_mail(options)
        else:
            self.sweep(options)

    def sweep(self, options: dict[str, Any]) -> None:
        now = parse_now(options["today"]) if options["today"] else timezone.now()
        sweeps.run_command(self, now, options["only"])

    def fetch_mail(self, options: dict[str, Any]) -> None:
        from kehu.service.tickets import intake
        from kehu.service.tickets.services import receive_email

        if bool(options["folder"]) == bool(options["imap_host"]):
            raise CommandError(_("Give either --folder or --imap-host."))
        if options["folder"]:
            folder = Path(options["folder"])
            if not folder.is_dir():
                raise CommandError(_("%(folder)s is not a folder.") % {"folder": folder})
            source: intake.Source = intake.FolderSource(folder, keep=options["keep"])
        else:
            password = os.environ.get("KEHU_IMAP_PASSWORD", "")
            if not options["imap_user"] or not password:
                raise CommandError(_("Give --imap-user and the password in the environment "
                                     "variable KEHU_IMAP_PASSWORD."))
            try:
                source = intake.ImapSource(options["imap_host"], options["imap_user"],
                                           password, mailbox=options["imap_mailbox"],
                                           port=options["imap_port"],
                                           ssl=not options["no_ssl"])
            except (OSError, intake.imaplib.IMAP4.error) as e:
                raise CommandError(_("Could not read the mailbox: %(error)s")
                                   % {"error": e}) from None
        counts: Counter[str] = Counter()
        try:
            for key, raw in source.messages():
                try:
                    outcome, ticket = receive_email(raw)
                except Exception as e:  # noqa: BLE001 — one bad message must not stop the rest
                    counts["failed"] += 1
                    source.failed(key)
                    self.stderr.write(_("%(key)s: could not be filed, left to be read again: "
                                        "%(error)s") % {"key": key, "error": e})
                    continue
                counts[outcome] += 1
                if outcome == "unknown":
                    source.set_aside(key)
                    self.stdout.write(_("%(key)s: unknown sender, set aside") % {"key": key})
                else:
                    source.filed(key)
                    if ticket is not None:
                        self.stdout.write(f"{key}: {outcome} {ticket.number}")
        finally:
            if isinstance(source, intake.ImapSource):
                source.close()
        self.stdout.write(_("Opened %(opened)d, added to tickets %(threaded)d, already read "
                            "%(duplicate)d, unknown senders %(unknown)d.")
                          % {k: counts[k] for k in ("opened", "threaded", "duplicate",
                                                    "unknown")})
        if counts["failed"]:
            self.stderr.write(ngettext("%(n)d message could not be filed.",
                                       "%(n)d messages could not be filed.",
                                       counts["failed"]) % {"n": counts["failed"]})
            raise SystemExit(1)
