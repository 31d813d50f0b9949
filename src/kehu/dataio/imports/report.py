"""What an import found and did: the problems by line and column, and the counts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

# Enough to fix a file by; a file that is wrong on every line says so in the first ones.
MAX_REPORTED_ERRORS = 10_000

# How an import tells its caller how far it got: (phase, rows done, rows in all or None).
# The phases are "check", "write" and, when both happen in one pass, "import".
Progress = Callable[[str, int, int | None], None]


@dataclass
class RowError:
    """One problem: its line in the file (0: the file as a whole), its column and why."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        if not self.line:  # about the whole file, not one of its lines
            return self.message
        where = _("line %(line)d") % {"line": self.line}
        if self.column:
            where += _(", column “%(column)s”") % {"column": self.column}
        return f"{where}: {self.message}"


@dataclass
class ImportReport:
    """The outcome of an import or a dry run; `ok` when the file had no problem."""

    kind: str
    file_name: str
    dry_run: bool = False
    rows: int = 0
    created: int = 0
    updated: int = 0
    batch_id: int | None = None
    columns: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def add_error(self, line: int, column: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(line, column, message))


def report_as_dict(report: ImportReport) -> dict[str, Any]:
    """The report as a background job keeps it (Job.result)."""
    return {
        "ok": report.ok, "kind": report.kind, "file": report.file_name,
        "dry_run": report.dry_run, "rows": report.rows, "created": report.created,
        "updated": report.updated, "batch_id": report.batch_id,
        "columns": report.columns, "ignored_columns": report.ignored_columns,
        "error_count": report.error_count,
        "errors": [[e.line, e.column, e.message] for e in report.errors],
    }
