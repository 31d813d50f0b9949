"""Exporting lists to CSV and XLSX: only the rows and fields the user may see, recorded in
the audit log, and safe to open in a spreadsheet.

A cell that starts with = + - @, a tab or a carriage return would be run as a formula by
Excel or WPS (CSV injection); such text gets a leading single quote, in CSV and XLSX alike.
Numbers are written as numbers and are never touched, so a negative amount stays a number.
"""

from __future__ import annotations

import csv
import os
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.accounts.models import User
from kehu.audit.services import customer_set, record, used_filters
from kehu.core.errors import ServiceError
from kehu.core.permissions import EXPORT, restrict
from kehu.customers.models import SENSITIVE_CUSTOMER_FIELDS, Customer, Transaction
from kehu.dataio import normalise

FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class Column:
    name: str
    label: Any
    get: Callable[[Any], Any]


def _field_column(model, name: str) -> Column:
    field = model._meta.get_field(name)
    if field.choices:
        display = f"get_{name}_display"
        return Column(name, field.verbose_name, lambda obj: getattr(obj, display)())
    return Column(name, field.verbose_name, lambda obj: getattr(obj, field.attname))


def customer_columns(user: User) -> list[Column]:
    """The card's fields, without the sensitive tier for users who may not see it."""
    skip = {"id", "search_text", "name_sort", "owner", "team", "created_by", "updated_by",
            "version", "confirmed_by"}
    if not user.sees_sensitive:
        skip |= set(SENSITIVE_CUSTOMER_FIELDS)
    columns = [Column("id", "ID", lambda c: c.pk)]
    columns += [_field_column(Customer, f.name) for f in Customer._meta.concrete_fields
                if f.name not in skip]
    columns += [
        Column("owner", Customer._meta.get_field("owner").verbose_name,
               lambda c: c.owner.username),
        Column("team", Customer._meta.get_field("team").verbose_name,
               lambda c: c.team.name if c.team_id else ""),
    ]
    return columns


def transaction_columns(user: User) -> list[Column]:
    return [
        Column("id", "ID", lambda t: t.pk),
        Column("customer_external_id", gettext_lazy("customer's external id"),
               lambda t: t.customer.external_id or ""),
        Column("customer", gettext_lazy("customer"), lambda t: t.customer.name),
        *(_field_column(Transaction, name)
          for name in ("date", "number", "kind", "amount", "cost", "notes")),
    ]


# Which customer each exported row is about, for the audit row.
CUSTOMER_OF: dict[str, Callable[[Any], int]] = {
    "customers": lambda c: c.pk,
    "transactions": lambda t: t.customer_id,
}

KINDS: dict[str, tuple[Callable[[User], list[Column]], Callable[[User], QuerySet]]] = {
    "customers": (customer_columns, lambda user: restrict(
        Customer.objects.select_related("owner", "team").order_by("id"), user, EXPORT)),
    "transactions": (transaction_columns, lambda user: restrict(
        Transaction.objects.select_related("customer").order_by("id"), user, EXPORT)),
}


@dataclass(frozen=True)
class ExtraColumns:
    """Columns a higher app adds to an export (kehu.marketing's consent columns), registered
    from its AppConfig.ready() with add_columns: `columns(user)` the columns the user may
    export (each reads what `annotate` put on the row), `annotate(queryset)` the same
    queryset with those values added in the one query of the export (never a query per
    row)."""

    key: str
    kind: str
    columns: Callable[[User], list[Column]]
    annotate: Callable[[QuerySet], QuerySet]


_extra: dict[str, ExtraColumns] = {}


def add_columns(extra: ExtraColumns) -> None:
    if extra.kind not in KINDS:
        raise ValueError(f"no export kind {extra.kind!r}")
    _extra[extra.key] = extra


def extra_columns(kind: str) -> list[ExtraColumns]:
    """The column groups other apps add to the export `kind`, in the order they joined."""
    return [e for e in _extra.values() if e.kind == kind]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        # Spreadsheets know no time zones: the firm's local time, to the second.
        if timezone.is_aware(value):
            value = timezone.localtime(value).replace(tzinfo=None)
        return value.replace(microsecond=0)
    return normalise.guard_formula(value)


def _rows(queryset: QuerySet, columns: list[Column], customer_of: Callable[[Any], int],
          customers: array) -> Iterator[list[Any]]:
    """The rows to write; the customer of each is appended to `customers` (8 bytes a row,
    not a Python object: an export may hold millions)."""
    for obj in queryset.iterator(chunk_size=2000):
        customers.append(customer_of(obj))
        yield [_cell(c.get(obj)) for c in columns]


def export(user: User, kind: str, fmt: str, out: str | os.PathLike[str], *,
           queryset: QuerySet | None = None, filters: Any = None, ip: str | None = None,
           via: str = "web") -> int:
    """Write the list `kind` (customers, transactions) as `fmt` (csv, xlsx) to `out`, limited
    to what `user` may export; `queryset` narrows it further (a filtered list) and `filters`
    says how, for the audit log. Returns the number of rows written. The export is recorded
    in the audit log with that count, the filter and the customers it holds (see
    audit.services.customer_set)."""
    if kind not in KINDS:
        raise ServiceError(_("Unknown list to export: %(kind)s.") % {"kind": kind})
    if fmt not in FORMATS:
        raise ServiceError(_("Unknown export format: %(format)s (use csv or xlsx).")
                           % {"format": fmt}, field="format")
    make_columns, scoped = KINDS[kind]
    columns = make_columns(user)
    rows_qs = scoped(user)
    if queryset is not None:
        rows_qs = rows_qs.filter(pk__in=queryset.values("pk"))
    for extra in extra_columns(kind):
        columns += extra.columns(user)
        rows_qs = extra.annotate(rows_qs)
    headers = [str(c.label) for c in columns]
    path = Path(out)
    customers = array("q")
    count = (_write_xlsx if fmt == "xlsx" else _write_csv)(
        path, headers, _rows(rows_qs, columns, CUSTOMER_OF[kind], customers))
    record(user, f"export.{kind}", ip=ip, via=via, detail={
        "format": fmt, "rows": count, "columns": [c.name for c in columns],
        "filter": used_filters(filters), **customer_set(customers)})
    return count


def _write_csv(path: Path, headers: list[str], rows: Iterable[list[Any]]) -> int:
    # UTF-8 with BOM: Excel in China opens it with the Chinese intact, other tools skip it.
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([normalise.guard_formula(h) for h in headers])
        for row in rows:
            writer.writerow([_csv_text(v) for v in row])
            count += 1
    return count


def _csv_text(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return value


def _write_xlsx(path: Path, headers: list[str], rows: Iterable[list[Any]]) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    count = 0

    def cells(values: list[Any]) -> list[Any]:
        out = []
        for value in values:
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, str):
                # openpyxl would store text starting with "=" as a formula otherwise.
                cell.data_type = "s"
            out.append(cell)
        return out

    ws.append(cells([normalise.guard_formula(h) for h in headers]))
    for row in rows:
        ws.append(cells(row))
        count += 1
    wb.save(path)
    return count
