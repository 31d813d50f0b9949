"""The preview of an import: its first rows checked exactly as the import will check them,
each problem attached to its cell. Writes nothing."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.core.errors import ServiceError
from kehu.dataio.imports.importers import IMPORTERS
from kehu.dataio.imports.mapping import resolve
from kehu.dataio.imports.readers import open_table
from kehu.dataio.imports.report import ImportReport, RowError
from kehu.dataio.imports.services import role_problem

PREVIEW_ROWS = 20


@dataclass
class PreviewCell:
    header: str
    value: Any
    error: str = ""


@dataclass
class PreviewRow:
    line: int
    cells: list[PreviewCell]
    errors: list[str] = field(default_factory=list)  # problems of the row as a whole

    @property
    def ok(self) -> bool:
        return not self.errors and not any(c.error for c in self.cells)


@dataclass
class Preview:
    headers: list[str]
    columns: dict[str, str]  # header → field, for the columns that are used
    ignored: list[str]
    problems: list[str]  # problems of the file as a whole
    rows: list[PreviewRow]
    errors: list[RowError]  # every problem found in the previewed rows, in order

    @property
    def ok(self) -> bool:
        return not self.problems and not self.errors


def preview_file(user: User, kind: str, path: str | os.PathLike[str], *,
                 mapping: Mapping[str, str] | None = None, owner: User | None = None,
                 update_existing: bool = False, limit: int = PREVIEW_ROWS) -> Preview:
    """Check the first `limit` rows exactly as the import will, writing nothing, and say
    which cell of which row has which problem. FileRefused if the file cannot be read."""
    if kind not in IMPORTERS:
        raise ServiceError(_("Unknown kind of import: %(kind)s.") % {"kind": kind})
    table = open_table(path)
    columns = resolve(kind, table.headers, None, mapping)
    importer = IMPORTERS[kind](user, columns, owner=owner, update_existing=update_existing)
    problems = [p for p in (role_problem(user, kind),) if p]
    problems += [*columns.problems, *importer.file_problems()]
    result = Preview(headers=list(table.headers), columns=dict(columns.columns),
                     ignored=list(columns.ignored), problems=problems, rows=[], errors=[])
    if problems:
        return result
    importer.prepare()
    report = ImportReport(kind=kind, file_name=Path(path).name, dry_run=True)
    for line, row in table.rows():
        if len(result.rows) >= limit:
            break
        before = len(report.errors)
        importer.clean(line, row, report)
        found = report.errors[before:]
        by_column = {}
        for error in found:
            by_column.setdefault(error.column, []).append(error.message)
        cells = [PreviewCell(h, row.get(h, ""), " ".join(by_column.pop(h, [])))
                 for h in table.headers]
        extra = [m for ms in by_column.values() for m in ms]
        result.rows.append(PreviewRow(line=line, cells=cells, errors=extra))
        result.errors.extend(found)
    return result

