"""What every kind of import shares: an Importer checks the rows of one kind, cell by cell
and against the database, and writes the good ones; the lookups of customers by reference,
the sensitive-tier check of the columns, and the record of the rows a batch created (what
undoing it removes)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.core.permissions import restrict
from kehu.customers.models import Customer
from kehu.dataio.imports.cleaning import CellError, cleaner_for
from kehu.dataio.imports.mapping import REQUIRED, ColumnMapping, field_label
from kehu.dataio.imports.report import ImportReport
from kehu.dataio.models import ImportBatch, ImportedRows


class Importer:
    """Checks rows of one kind and writes the good ones."""

    kind: str
    model: type[models.Model]

    def __init__(self, user: User, mapping: ColumnMapping, *, owner: User | None,
                 update_existing: bool):
        self.user = user
        self.mapping = mapping
        self.default_owner = owner or user
        self.update_existing = update_existing
        self.header_of = mapping.field_to_header()
        self.seen_keys: dict[Any, int] = {}
        self.cleaners: list[tuple[str, str, Callable[[Any], Any]]] = []
        self.now = timezone.now()
        self.required_fields = set(REQUIRED[self.kind])
        for header, name in mapping.columns.items():
            cleaner = self.cleaner(name)
            if cleaner is not None:
                self.cleaners.append((header, name, cleaner))

    # Set-up -------------------------------------------------------------------------------
    def cleaner(self, name: str) -> Callable[[Any], Any] | None:
        return cleaner_for(self.model._meta.get_field(name))

    def file_problems(self) -> list[str]:
        """Problems with the file as a whole, once the mapping is known."""
        return []

    def prepare(self) -> None:
        """Load what rows are checked against (customers, owners...)."""

    # Per row -------------------------------------------------------------------------------
    def clean(self, line: int, row: Mapping[str, Any], report: ImportReport) -> dict | None:
        values: dict[str, Any] = {}
        ok = True
        if row.get(""):
            report.add_error(line, "", _("The row has more cells than the header has "
                                         "columns."))
            ok = False
        for header, name, cleaner in self.cleaners:
            raw = row.get(header)
            if raw is None or raw == "" or (raw.__class__ is str and raw.isspace()):
                if name in self.required_fields:
                    report.add_error(line, header, _("This field is required."))
                    ok = False
                continue
            try:
                values[name] = cleaner(raw)
            except CellError as exc:
                report.add_error(line, header, exc.message)
                ok = False
        # The checks against the database run on the good cells even when others are bad,
        # so that one pass over the file names every problem.
        try:
            checked = self.check(line, values, report)
        except KeyError:  # a required cell was missing or bad, and is already reported
            return None
        return checked if ok else None

    def check(self, line: int, values: dict, report: ImportReport) -> Any:
        """Checks across fields and against the database; returns the row to write."""
        return values

    def finish_checks(self, report: ImportReport) -> None:
        """Checks made on many rows at once, after the last row (and between chunks)."""

    def updates(self, row: Any) -> bool:
        """Whether the checked row updates an existing record."""
        return isinstance(row, dict) and row.get("_target") is not None

    def duplicate(self, key: Any, line: int, column: str, report: ImportReport) -> bool:
        first = self.seen_keys.setdefault(key, line)
        if first != line:
            report.add_error(line, column, _("Duplicate of line %(line)d in this file.")
                             % {"line": first})
            return True
        return False

    # Writing ------------------------------------------------------------------------------
    def write(self, batch: ImportBatch, rows: list[dict]) -> tuple[int, int]:
        """Write one chunk; returns (created, updated)."""
        raise NotImplementedError

    def after_write(self, batch: ImportBatch) -> None:
        """After the last chunk, in the batch's transaction: what follows from the whole
        file (the credit-limit flags of imported orders)."""

    def record_created(self, batch: ImportBatch, objs: Iterable[models.Model]) -> None:
        """Remember the rows of `objs` as the batch's own, for undo."""
        record_ids(batch, self.model, (o.pk for o in objs))

    # Shared lookups -----------------------------------------------------------------------
    def load_customer_refs(self, action: str) -> None:
        """external id → id and exact name → id over the customers the user may act on."""
        self.customer_by_ref: dict[str, int | None] = {}
        by_name: dict[str, int | None] = {}
        qs = restrict(Customer.objects.all(), self.user, action)
        for pk, external_id, name in qs.values_list("id", "external_id", "name").iterator(
                chunk_size=20_000):
            if external_id:
                self.customer_by_ref[external_id] = pk
            key = name.strip()
            # A name shared by two customers identifies neither.
            by_name[key] = None if key in by_name and by_name[key] != pk else pk
        for name, pk in by_name.items():
            self.customer_by_ref.setdefault(name, pk)
        self.ambiguous_names = {n for n, pk in by_name.items() if pk is None}

    def customer_id(self, line: int, values: dict, report: ImportReport) -> int | None:
        """The id of the customer the row's "customer" cell names (popped from `values`), or
        None with the reason reported."""
        ref = str(values.pop("customer"))
        pk = self.customer_by_ref.get(ref)
        if pk is None:
            column = self.header_of["customer"]
            if ref in self.ambiguous_names:
                report.add_error(line, column, _("More than one customer is named “%(ref)s”; "
                                                 "use the customer's external id.")
                                 % {"ref": ref})
            else:
                report.add_error(line, column, _("Unknown customer “%(ref)s” (or one you may "
                                                 "not change).") % {"ref": ref})
        return pk

    def sensitive_problems(self, sensitive: Iterable[str]) -> list[str]:
        """A problem for each column of the sensitive tier, for a user who may not set it."""
        if self.user.sees_sensitive:
            return []
        return [_("Column “%(header)s” (%(field)s) is in the sensitive tier, which you may not "
                  "set.") % {"header": self.header_of[name],
                             "field": field_label(self.kind, name)}
                for name in sensitive if name in self.header_of]


def record_ids(batch: ImportBatch, model: type[models.Model], ids: Iterable[int]) -> None:
    """Keep the ids a batch created as runs of consecutive ids (what undoing it removes)."""
    runs: list[ImportedRows] = []
    label = model._meta.label_lower
    for pk in sorted(ids):
        if runs and runs[-1].last_id == pk - 1:
            runs[-1].last_id = pk
        else:
            runs.append(ImportedRows(batch=batch, model=label, first_id=pk, last_id=pk))
    ImportedRows.objects.bulk_create(runs)


def undo_value(value: Any) -> Any:
    """A field's value as the JSON that undoing a batch puts back."""
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
