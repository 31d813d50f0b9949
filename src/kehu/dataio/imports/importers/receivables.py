"""Importing receivables (invoices with their due dates) and the payments against them.

Both are the sensitive tier: the file is refused as a whole for a user who may not see it.
A receivable's invoice number must be new for its customer (a file imported twice would
count the same debt twice); a payment names its receivable by the customer and the invoice
number, and may not pay more than is open on it, counting the earlier rows of the file."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import F
from django.utils.translation import gettext as _

from kehu.core import policy
from kehu.core.permissions import CHANGE
from kehu.customers.models import Customer
from kehu.dataio.imports.cleaning import cleaner_for, text
from kehu.dataio.imports.importers.base import Importer
from kehu.dataio.imports.report import ImportReport
from kehu.dataio.models import ImportBatch, ImportKind
from kehu.sales.credit.models import Payment, PaymentMethod, Receivable
from kehu.sales.credit.services import DEFAULT_TERMS_DAYS, resettle_receivables

_ZERO = Decimal("0")


class _CreditImporter(Importer):
    def file_problems(self) -> list[str]:
        if not policy.may_record_credit(self.user):
            return [_("Receivables and payments are in the sensitive tier, which you may not "
                      "set.")]
        return []

    def cleaner(self, name: str):
        if name in ("customer", "receivable"):
            return text
        if name == "method":
            return cleaner_for(Payment._meta.get_field("method"), "payment_method")
        return super().cleaner(name)


class ReceivableImporter(_CreditImporter):
    kind = ImportKind.RECEIVABLES
    model = Receivable

    def prepare(self) -> None:
        self.load_customer_refs(CHANGE)
        self.terms: dict[int, int | None] = {}
        self.known: set[tuple[int, str]] = set()

    def check(self, line: int, values: dict, report: ImportReport) -> dict | None:
        customer_id = self.customer_id(line, values, report)
        if customer_id is None:
            return None
        number = values.get("number", "")
        if number:
            if self.duplicate(f"{customer_id}:{number}", line, self.header_of["number"],
                              report):
                return None
            if Receivable.objects.filter(customer_id=customer_id, number=number).exists():
                report.add_error(line, self.header_of["number"], _(
                    "Already in kehu: this customer has a receivable numbered “%(number)s” "
                    "(was the file imported before?).") % {"number": number})
                return None
        issued_on = values["issued_on"]
        due_on = values.get("due_on")
        if due_on is None:
            if customer_id not in self.terms:
                self.terms[customer_id] = Customer.objects.filter(pk=customer_id).values_list(
                    "payment_terms_days", flat=True).first()
            days = self.terms[customer_id]
            due_on = issued_on + dt.timedelta(days=DEFAULT_TERMS_DAYS if days is None else days)
        elif due_on < issued_on:
            report.add_error(line, self.header_of["due_on"],
                             _("The due date cannot be before the invoice date."))
            return None
        if values["amount"] <= 0:
            report.add_error(line, self.header_of["amount"], _("Must be more than zero."))
            return None
        return {"customer_id": customer_id, "number": number, "issued_on": issued_on,
                "due_on": due_on, "amount": values["amount"], "notes": values.get("notes", "")}

    def write(self, batch: ImportBatch, rows: list[dict]) -> tuple[int, int]:
        objs = Receivable.objects.bulk_create(
            [Receivable(created_by_id=self.user.pk, updated_by_id=self.user.pk, **values)
             for values in rows])
        self.record_created(batch, objs)
        return len(objs), 0


class PaymentImporter(_CreditImporter):
    kind = ImportKind.PAYMENTS
    model = Payment

    def cleaner(self, name: str):
        if name == "receivable":
            return text
        return super().cleaner(name)

    def prepare(self) -> None:
        self.load_customer_refs(CHANGE)
        self.open_left: dict[int, Decimal] = {}

    def check(self, line: int, values: dict, report: ImportReport) -> dict | None:
        customer_id = self.customer_id(line, values, report)
        if customer_id is None:
            return None
        number = values["receivable"]
        column = self.header_of["receivable"]
        found = Receivable.objects.filter(customer_id=customer_id, number=number).values(
            "pk", open=F("amount") - F("paid")).first()
        if found is None:
            report.add_error(line, column, _("This customer has no receivable numbered "
                                             "“%(number)s”.") % {"number": number})
            return None
        amount = values["amount"]
        if amount <= 0:
            report.add_error(line, self.header_of["amount"], _("Must be more than zero."))
            return None
        left = self.open_left.setdefault(found["pk"], found["open"])
        if amount > left:
            report.add_error(line, self.header_of["amount"], _(
                "More than is open on receivable “%(number)s” (%(open)s, counting the rows "
                "above).") % {"number": number, "open": f"{left:.2f}"})
            return None
        self.open_left[found["pk"]] = left - amount
        return {"receivable_id": found["pk"], "paid_on": values["paid_on"], "amount": amount,
                "method": values.get("method", PaymentMethod.TRANSFER),
                "reference": values.get("reference", "")}

    def write(self, batch: ImportBatch, rows: list[dict]) -> tuple[int, int]:
        objs = Payment.objects.bulk_create(
            [Payment(recorded_by_id=self.user.pk, **values) for values in rows])
        self.record_created(batch, objs)
        resettle_receivables(self.user, {values["receivable_id"] for values in rows})
        return len(objs), 0
