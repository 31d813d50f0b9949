"""`kehu export customers|transactions --as USER --format csv|xlsx --out FILE`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from kehu.accounts.selectors import acting_user
from kehu.core.errors import ServiceError
from kehu.dataio.exports.services import FORMATS, KINDS, export


class Command(BaseCommand):
    help = ("Export customers or transactions that the user may see to CSV or XLSX; the "
            "export is recorded in the audit log.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=list(KINDS))
        parser.add_argument("--as", dest="as_user", metavar="USER",
                            help="the user who exports (needed unless there is exactly one "
                                 "admin)")
        parser.add_argument("--format", choices=FORMATS, default=None,
                            help="csv or xlsx (default: from the --out file name)")
        parser.add_argument("--out", required=True, metavar="FILE")

    def handle(self, *args: Any, **options: Any) -> None:
        out = options["out"]
        fmt = options["format"] or ("xlsx" if out.lower().endswith(".xlsx") else "csv")
        try:
            user = acting_user(options["as_user"])
            count = export(user, options["kind"], fmt, out, via="cli")
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        except OSError as exc:
            raise CommandError(_("Cannot write %(file)s: %(error)s")
                               % {"file": out, "error": exc.strerror}) from None
        self.stdout.write(_("Exported %(n)d rows to %(file)s.") % {"n": count, "file": out})
