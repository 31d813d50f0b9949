"""Importing contact persons of customers the user may change."""

from __future__ import annotations

from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from kehu.core.permissions import CHANGE
from kehu.customers.models import SENSITIVE_CONTACT_FIELDS, Contact
from kehu.dataio.imports.cleaning import text
from kehu.dataio.imports.importers.base import Importer
from kehu.dataio.imports.report import ImportReport
from kehu.dataio.models import ImportBatch, ImportKind


class ContactImporter(Importer):
    kind = ImportKind.CONTACTS
    model = Contact

    def cleaner(self, name: str):
        if name == "customer":
            return text
        return super().cleaner(name)

    def file_problems(self) -> list[str]:
        return self.sensitive_problems(SENSITIVE_CONTACT_FIELDS)

    def prepare(self) -> None:
        self.load_customer_refs(CHANGE)

    def check(self, line: int, values: dict, report: ImportReport) -> dict | None:
        customer_id = self.customer_id(line, values, report)
        if customer_id is None:
            return None
        if self.duplicate((customer_id, values["name"].casefold()), line,
                          self.header_of["name"], report):
            return None
        values["customer_id"] = customer_id
        return values

    def write(self, batch: ImportBatch, rows: list[dict]) -> tuple[int, int]:
        objs = bulk_create_with_history([Contact(**values) for values in rows], Contact,
                                        batch_size=1000, default_user=self.user,
                                        default_change_reason=_("Imported"))
        self.record_created(batch, objs)
        return len(objs), 0

