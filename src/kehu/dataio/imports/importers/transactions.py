"""Importing transactions (orders, invoices, returns), a million rows at a time: rows are
plain tuples written by one bulk insert per chunk, and an order number the customer already
has is refused, so that a file imported twice does not count the same sales twice."""

from __future__ import annotations

from decimal import Decimal

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.bulk import write_rows
from kehu.core.permissions import CHANGE
from kehu.customers.models import Transaction, TransactionKind
from kehu.dataio.imports.cleaning import cleaner_for, text
from kehu.dataio.imports.importers.base import Importer, record_ids
from kehu.dataio.imports.report import ImportReport
from kehu.dataio.models import ImportBatch, ImportedRows, ImportKind
from kehu.sales.credit.services import flag_imported_transactions


class TransactionImporter(Importer):
    kind = ImportKind.TRANSACTIONS
    model = Transaction

    def cleaner(self, name: str):
        if name == "customer":
            return text
        if name == "kind":
            return cleaner_for(Transaction._meta.get_field("kind"), "transaction_kind")
        return super().cleaner(name)

    def prepare(self) -> None:
        self.load_customer_refs(CHANGE)
        self.pending: list[tuple[int, str, str, int]] = []
        # Into a database without numbered transactions (a first import), nothing can
        # repeat one: the lookups are skipped.
        self.known_numbers = Transaction.objects.exclude(number="").exists()

    def check(self, line: int, values: dict, report: ImportReport) -> tuple | None:
        customer_id = self.customer_id(line, values, report)
        if customer_id is None:
            return None
        kind = values.get("kind", TransactionKind.ORDER)
        number = values.get("number", "")
        if number:
            # One string per row, not a tuple: a million keys are held until the end.
            if self.duplicate(f"{customer_id}:{kind}:{number}", line,
                              self.header_of["number"], report):
                return None
            if self.known_numbers:
                self.pending.append((customer_id, kind, number, line))
                if len(self.pending) >= 5000:
                    self.finish_checks(report)
        amount, cost = values["amount"], values.get("cost", _ZERO)
        if kind == TransactionKind.RETURN:
            # A return is stored negative whatever sign it was written with, as on the card.
            amount, cost = -abs(amount), -abs(cost)
        # A tuple in the column order of the insert: a million dicts would cost seconds.
        return (customer_id, number, kind, values["date"], amount, cost,
                values.get("notes", ""))

    def finish_checks(self, report: ImportReport) -> None:
        """Refuse the rows whose order number the customer already has: a file imported
        twice, or months that overlap, would otherwise count the same sales twice."""
        pending, self.pending = self.pending, []
        if not pending:
            return
        numbers = list({number for _c, _k, number, _l in pending})
        if connection.vendor == "postgresql":
            # One array parameter instead of thousands of placeholders to bind.
            with connection.cursor() as cursor:
                cursor.execute("SELECT customer_id, kind, number FROM customers_transaction "
                               "WHERE number <> '' AND number = ANY(%s)", [numbers])
                known = set(cursor.fetchall())
        else:
            known = set(Transaction.objects.exclude(number="").filter(
                number__in=numbers).values_list("customer_id", "kind", "number"))
        for customer_id, kind, number, line in pending:
            if (customer_id, kind, number) in known:
                report.add_error(line, self.header_of["number"], _(
                    "Already in kehu: this customer has a transaction of this kind numbered "
                    "“%(number)s” (was the file imported before?).") % {"number": number})

    def write(self, batch: ImportBatch, rows: list[tuple]) -> tuple[int, int]:
        now = timezone.now()
        # Plain rows, not model instances: a million of those would cost most of the time.
        ids = write_rows(Transaction._meta.db_table, _TRANSACTION_COLUMNS, rows,
                         constants={"created_by_id": self.user.pk, "created_at": now,
                                    "updated_at": now},
                         new_ids=True, binary=True)
        record_ids(batch, Transaction, ids)
        return len(ids), 0

    def after_write(self, batch: ImportBatch) -> None:
        """Flag each customer whose imported orders and invoices take it over its credit
        limit (one flag per customer and file, with the file's total)."""
        runs = list(ImportedRows.objects.filter(batch=batch).values_list("first_id", "last_id"))
        if runs:
            flag_imported_transactions(self.user, (min(f for f, _l in runs),
                                                   max(last for _f, last in runs)),
                                       reference=batch.file_name)


_ZERO = Decimal(0)
# The order of the tuples check() returns.
_TRANSACTION_COLUMNS = ("customer_id", "number", "kind", "date", "amount", "cost", "notes")
