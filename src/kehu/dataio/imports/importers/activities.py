"""Importing activities (calls, visits, notes...) of customers the user may add them to."""

from __future__ import annotations

from kehu.core.permissions import CONTRIBUTE
from kehu.dataio.imports.cleaning import cleaner_for, text
from kehu.dataio.imports.importers.base import Importer
from kehu.dataio.imports.report import ImportReport
from kehu.dataio.models import ImportBatch, ImportKind
from kehu.sales.models import Activity


class ActivityImporter(Importer):
    kind = ImportKind.ACTIVITIES
    model = Activity

    def cleaner(self, name: str):
        if name == "customer":
            return text
        if name == "kind":
            return cleaner_for(Activity._meta.get_field("kind"), "activity_kind")
        return super().cleaner(name)

    def prepare(self) -> None:
        self.load_customer_refs(CONTRIBUTE)

    def check(self, line: int, values: dict, report: ImportReport) -> dict | None:
        customer_id = self.customer_id(line, values, report)
        if customer_id is None:
            return None
        values["customer_id"] = customer_id
        values.setdefault("occurred_at", self.now)
        return values

    def write(self, batch: ImportBatch, rows: list[dict]) -> tuple[int, int]:
        objs = Activity.objects.bulk_create(
            [Activity(author_id=self.user.pk, **values) for values in rows])
        self.record_created(batch, objs)
        return len(objs), 0

