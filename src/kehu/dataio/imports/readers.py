"""Reading import files row by row: CSV in any common delimiter and encoding (as
kehu.textfiles tells them), and XLSX.

Files are streamed, never loaded whole, so a file of millions of rows costs the memory of
one row. Each row comes with the line number the user sees in their editor or spreadsheet,
so that an error report can point at it.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from kehu import textfiles

csv.field_size_limit(10 * 1024 * 1024)  # cells of up to 10 MB


class FileRefused(Exception):
    """The file as a whole cannot be read (not a CSV/XLSX, unknown encoding, no header)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class TableFile:
    """An opened import file: its header and a way to stream its rows (more than once)."""

    path: Path
    format: str  # "csv" or "xlsx"
    headers: list[str]
    header_line: int
    encoding: str = ""
    delimiter: str = ""
    _sheet: str | None = field(default=None, repr=False)

    def rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """(line number, {header: value}) for each non-blank row after the header."""
        if self.format == "xlsx":
            yield from _xlsx_rows(self)
        else:
            yield from _csv_rows(self)


def open_table(path: str | os.PathLike[str]) -> TableFile:
    path = Path(path)
    if path.is_dir():
        raise FileRefused(_("%(path)s is a folder, not a file.") % {"path": path})
    if not path.is_file():
        raise FileRefused(_("File not found: %(path)s") % {"path": path})
    with path.open("rb") as f:
        magic = f.read(4)
    if magic == b"PK\x03\x04":
        return _open_xlsx(path)
    if path.suffix.lower() in {".xls", ".xlsb", ".ods"}:
        raise FileRefused(_("Only CSV and XLSX files can be imported; save the sheet as XLSX "
                            "or CSV first."))
    return _open_csv(path)


# CSV ----------------------------------------------------------------------------------------

def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) if the whole file decodes strictly as UTF-8, else GB18030
    (a superset of GBK and GB2312, what Excel in China saves as "CSV")."""
    try:
        return textfiles.detect_encoding(path, whole_file=True)
    except textfiles.SniffError:
        raise FileRefused(_undecodable()) from None


def _undecodable() -> str:
    return _("The file is neither UTF-8 nor GBK/GB18030 text; save it as CSV UTF-8 or as "
             "XLSX.")


def _open_csv(path: Path) -> TableFile:
    try:
        sniffed = textfiles.sniff(path, whole_file=True)
    except textfiles.SniffError as exc:
        if exc.code == textfiles.SniffError.EMPTY:
            raise FileRefused(_("The file is empty.")) from None
        raise FileRefused(_undecodable()) from None
    # A single column, or rows no delimiter splits alike: commas, and the rows that do not
    # fit are reported by line.
    delimiter = sniffed.delimiter or ","
    encoding = sniffed.encoding
    table = TableFile(path=path, format="csv", headers=[], header_line=0, encoding=encoding,
                      delimiter=delimiter)
    with path.open("r", encoding=encoding, newline="") as f:
        reader = csv.reader(f, delimiter=delimiter)
        line = 0
        for row in reader:
            start, line = line + 1, reader.line_num
            if any(cell.strip() for cell in row):
                table.headers = [cell.strip() for cell in row]
                table.header_line = start
                break
    if not table.headers:
        raise FileRefused(_("The file has no header row."))
    return table


def _csv_rows(table: TableFile) -> Iterator[tuple[int, dict[str, Any]]]:
    headers = table.headers
    width = len(headers)
    with table.path.open("r", encoding=table.encoding, newline="") as f:
        # strict: a quote never closed is an error, not the rest of the file read as one cell
        reader = csv.reader(f, delimiter=table.delimiter, strict=True)
        line = 0
        try:
            for row in reader:
                start, line = line + 1, reader.line_num
                if start <= table.header_line or not any(cell.strip() for cell in row):
                    continue
                if len(row) > width and any(c.strip() for c in row[width:]):
                    # Surplus cells with content mean a shifted row; keep them visible.
                    values = dict(zip(headers, row, strict=False))
                    values[""] = row[width:]
                else:
                    values = dict(zip(headers, row, strict=False))
                yield start, values
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                raise FileRefused(_("Line %(line)d opens a quoted value (\") that is never "
                                    "closed; nothing was imported.") % {"line": line + 1}
                                  ) from None
            raise FileRefused(_("Line %(line)d cannot be read as CSV: %(error)s")
                              % {"line": line + 1, "error": exc}) from None


# XLSX ---------------------------------------------------------------------------------------

def _open_xlsx(path: Path) -> TableFile:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
        raise FileRefused(_("The file is not a readable XLSX workbook.")) from None
    try:
        ws = wb.worksheets[0] if wb.worksheets else None
        if ws is None:
            raise FileRefused(_("The workbook has no sheet."))
        table = TableFile(path=path, format="xlsx", headers=[], header_line=0, _sheet=ws.title)
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in values]
            if any(cells):
                while cells and not cells[-1]:
                    cells.pop()
                table.headers = cells
                table.header_line = number
                break
        if table.headers:
            cell = _uncomputed_formula(ws)
            if cell:
                raise FileRefused(_(
                    "Cell %(cell)s holds a formula whose result the file does not contain (it "
                    "was written by a program, not saved by a spreadsheet). Open the file in "
                    "Excel or WPS and save it, or paste the values, then import it again.")
                    % {"cell": cell})
    finally:
        wb.close()
    if not table.headers:
        raise FileRefused(_("The first sheet has no header row."))
    return table


_SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _uncomputed_formula(ws) -> str | None:
    """The reference of the first formula cell without a saved result, or None. Read-only
    openpyxl gives such a cell as empty, and importing it so would lose what it was meant
    to say. Sheets without formulas cost one byte scan."""
    from defusedxml.ElementTree import iterparse  # an uploaded file is untrusted XML

    source = getattr(ws, "_get_source", None)  # openpyxl's read-only sheet: its XML part
    if source is None:
        return None
    with source() as raw:
        found, tail = False, b""
        while chunk := raw.read(1 << 20):
            if b"<f" in tail + chunk:
                found = True
                break
            tail = chunk[-2:]
    if not found:
        return None
    with source() as raw:
        for _event, elem in iterparse(raw, events=("end",)):
            if elem.tag == f"{_SHEET_NS}c":
                if elem.find(f"{_SHEET_NS}f") is not None:
                    value = elem.find(f"{_SHEET_NS}v")
                    # An empty result is a saved result only for a text formula (t="str").
                    if value is None or (not (value.text or "").strip()
                                         and elem.get("t") != "str"):
                        return elem.get("r")
                elem.clear()
    return None


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _xlsx_rows(table: TableFile) -> Iterator[tuple[int, dict[str, Any]]]:
    from openpyxl import load_workbook

    wb = load_workbook(table.path, read_only=True, data_only=True)
    try:
        ws = wb[table._sheet] if table._sheet else wb.worksheets[0]
        headers = table.headers
        width = len(headers)
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            if number <= table.header_line:
                continue
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            row = {h: ("" if v is None else v) for h, v in zip(headers, values, strict=False)}
            extra = [v for v in values[width:] if v is not None and str(v).strip()]
            if extra:
                row[""] = extra
            yield number, row
    finally:
        wb.close()
