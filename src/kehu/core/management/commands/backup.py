"""`kehu backup FILE`: a consistent backup of kehu's database while kehu runs."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from kehu.core.backup import BackupError, backup
from kehu.core.management.progress import terminal_progress


class Command(BaseCommand):
    help = ("Write a backup of kehu's database (SQLite or PostgreSQL) to FILE. It is "
            "consistent while users keep working; `kehu restore FILE` puts it back.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the backup file to write (a tar archive)")
        parser.add_argument("--force", action="store_true", help="replace FILE if it exists")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS,
                            help="the database to back up (default: %(default)s)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with terminal_progress() as progress:
                result = backup(options["file"], alias=options["database"],
                                overwrite=options["force"], progress=progress)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        m = result.manifest
        self.stdout.write(
            f"Backed up {m.source} to {result.path}: {m.rows:,} rows in {len(m.tables)} "
            f"tables, {_size(result.path.stat().st_size)}, in {result.seconds:.1f} s.")


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TB"
