"""`kehu restore FILE`: put a backup written by `kehu backup` back into the database."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from kehu.core.backup import (
    KIND_NAMES,
    BackupError,
    describe_database,
    read_manifest,
    restore,
    summarise_tables,
    when,
)
from kehu.core.management.progress import terminal_progress


class Command(BaseCommand):
    help = ("Restore a backup written by `kehu backup` into the database, which must be empty "
            "(new, or just migrated) unless --force. Stop the web server and the worker first.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the backup file written by kehu backup")
        parser.add_argument("--force", action="store_true",
                            help="replace a database that is in use, with all its data")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS,
                            help="the database to restore into (default: %(default)s)")

    def handle(self, *args: Any, **options: Any) -> None:
        alias = options["database"]
        try:
            m = read_manifest(options["file"])
            self.stdout.write(
                f"Restoring the {KIND_NAMES[m.database]} backup of {when(m.created_at)} (kehu "
                f"{m.kehu_version}, {m.rows:,} rows in {len(m.tables)} tables, from "
                f"{m.source or 'an unnamed database'}) into {describe_database(alias)}.")
            with terminal_progress() as progress:
                result = restore(options["file"], alias=alias, force=options["force"],
                                 progress=progress)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        if result.replaced:
            self.stdout.write(f"Replaced what was there: {summarise_tables(result.replaced)}.")
        self.stdout.write(
            f"Restored in {result.seconds:.1f} s; every table has the rows of the backup "
            f"({m.rows:,} rows in {len(m.tables)} tables).")
        if result.pending_migrations:
            self.stdout.write(
                f"The backup is older than this kehu ({len(result.pending_migrations)} "
                "migrations to apply): run `kehu migrate` before starting kehu.")
