"""`kehu import KIND FILE` and `kehu import undo BATCH_ID`."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kehu.accounts.models import User
from kehu.accounts.selectors import acting_user
from kehu.core.errors import ServiceError
from kehu.dataio.imports.report import ImportReport
from kehu.dataio.imports.services import import_file, save_mapping, undo_batch
from kehu.dataio.imports.writing import CHUNK_SIZE
from kehu.dataio.models import ImportKind

EXIT_REFUSED = 2


class Command(BaseCommand):
    help = ("Import customers, contacts, transactions, products, activities, receivables or "
            "payments from a CSV or XLSX file, all or nothing; or undo an import batch.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=[*ImportKind.values, "undo"],
                            help="what the file holds, or 'undo' to undo a batch")
        parser.add_argument("file", help="the CSV/XLSX file (for undo: the batch id)")
        parser.add_argument("--as", dest="as_user", metavar="USER",
                            help="the user who imports (needed unless there is exactly one "
                                 "admin)")
        parser.add_argument("--owner", metavar="USER",
                            help="owner of imported customers that have no owner column")
        parser.add_argument("--mapping", metavar="NAME", help="use a saved column mapping")
        parser.add_argument("--map", action="append", default=[], metavar="HEADER=FIELD",
                            help="map a column to a field (empty FIELD ignores the column); "
                                 "repeatable")
        parser.add_argument("--save-mapping", metavar="NAME",
                            help="save the columns as mapped now under this name")
        parser.add_argument("--update-existing", action="store_true",
                            help="update customers (or products) that already exist instead "
                                 "of refusing the rows")
        parser.add_argument("--dry-run", action="store_true",
                            help="check the file and report, write nothing")
        parser.add_argument("--chunk-size", type=int, default=CHUNK_SIZE,
                            help="rows per bulk insert")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = acting_user(options["as_user"])
            if options["kind"] == "undo":
                self._undo(user, options["file"])
            else:
                self._import(user, options)
        except (ServiceError, ValidationError) as exc:
            message = getattr(exc, "message", None) or "; ".join(
                m for ms in getattr(exc, "message_dict", {"": exc.messages}).values() for m in ms)
            raise CommandError(message) from None

    def _undo(self, user: User, batch_id: str) -> None:
        if not batch_id.isdigit():
            raise CommandError(_("Give the number of the batch to undo."))
        batch = undo_batch(user, int(batch_id), via="cli")
        self.stdout.write(_("Import batch %(id)d (%(file)s) undone.")
                          % {"id": batch.pk, "file": batch.file_name})

    def _import(self, user: User, options: dict[str, Any]) -> None:
        kind = options["kind"]
        owner = None
        if options["owner"]:
            owner = User.objects.filter(username=options["owner"], is_active=True).first()
            if owner is None:
                raise CommandError(_("There is no active user “%(name)s”.")
                                   % {"name": options["owner"]})
        overrides: dict[str, str] = {}
        for item in options["map"]:
            header, sep, field = item.partition("=")
            if not sep:
                raise CommandError(_("--map takes HEADER=FIELD, not “%(item)s”.")
                                   % {"item": item})
            overrides[header.strip()] = field.strip()

        interactive = sys.stderr.isatty()
        with _progress(interactive) as progress:
            report = import_file(
                user, kind, options["file"], mapping_name=options["mapping"],
                mapping=overrides, owner=owner, update_existing=options["update_existing"],
                dry_run=options["dry_run"], chunk_size=max(1, options["chunk_size"]),
                progress=progress, via="cli")
        if options["save_mapping"] and report.columns:
            mapping = {h: f for h, f in report.columns.items()}
            mapping.update({h: "" for h in report.ignored_columns})
            save_mapping(user, kind, options["save_mapping"], mapping)
        self._print(report)
        if not report.ok:
            sys.exit(EXIT_REFUSED)

    def _print(self, report: ImportReport) -> None:
        if not report.ok:
            for error in report.errors:
                self.stderr.write(str(error))
            hidden = report.error_count - len(report.errors)
            if hidden:
                self.stderr.write(ngettext("… and %(n)d more problem.",
                                           "… and %(n)d more problems.", hidden) % {"n": hidden})
            self.stderr.write(ngettext(
                "%(file)s was refused: %(n)d problem; nothing was imported.",
                "%(file)s was refused: %(n)d problems; nothing was imported.",
                report.error_count) % {"file": report.file_name, "n": report.error_count})
            return
        if report.ignored_columns:
            self.stderr.write(_("Ignored columns: %(columns)s")
                              % {"columns": ", ".join(report.ignored_columns)})
        if report.dry_run:
            self.stdout.write(_("Dry run: %(rows)d rows are fine (%(created)d new, %(updated)d "
                                "updates); nothing was written.") % vars(report))
        else:
            self.stdout.write(_("Imported %(rows)d rows as batch %(batch_id)d: %(created)d "
                                "created, %(updated)d updated.") % vars(report))


def _progress(interactive: bool):
    """A Rich progress bar on a terminal; nothing when the output goes to a file or pipe."""
    if not interactive:
        return nullcontext(None)
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    class _Bar:
        def __init__(self) -> None:
            self.bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                MofNCompleteColumn(), TimeElapsedColumn(), transient=True)
            self.tasks: dict[str, Any] = {}

        def __enter__(self):
            self.bar.__enter__()
            return self

        def __exit__(self, *exc: Any) -> None:
            self.bar.__exit__(*exc)

        def __call__(self, phase: str, done: int, total: int | None) -> None:
            if phase not in self.tasks:
                label = {"check": _("Checking"), "write": _("Writing"),
                         "import": _("Checking and writing")}.get(phase, phase)
                self.tasks[phase] = self.bar.add_task(label, total=total)
            self.bar.update(self.tasks[phase], completed=done, total=total)

    return _Bar()
