"""Importing products: new ones, or — with "update existing" — updates of those matched by
code, remembering the values replaced so that undo can put them back."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.customers.models import Product
from kehu.dataio.imports.importers.base import Importer, undo_value
from kehu.dataio.imports.report import ImportReport
from kehu.dataio.models import ImportBatch, ImportedUpdate, ImportKind


class ProductImporter(Importer):
    kind = ImportKind.PRODUCTS
    model = Product

    def prepare(self) -> None:
        self.existing = dict(Product.objects.values_list("code", "id"))

    def check(self, line: int, values: dict, report: ImportReport) -> dict | None:
        code = values["code"]
        if self.duplicate(code, line, self.header_of["code"], report):
            return None
        values["_target"] = self.existing.get(code)
        if values["_target"] is not None and not self.update_existing:
            report.add_error(line, self.header_of["code"],
                             _("A product with code “%(code)s” already exists; choose “update "
                               "existing” to update it.") % {"code": code})
            return None
        return values

    def write(self, batch: ImportBatch, rows: list[dict]) -> tuple[int, int]:
        new = [Product(**{k: v for k, v in r.items() if k != "_target"})
               for r in rows if r["_target"] is None]
        objs = Product.objects.bulk_create(new)
        self.record_created(batch, objs)
        updates = [r for r in rows if r["_target"] is not None]
        current = Product.objects.select_for_update().in_bulk([r["_target"] for r in updates])
        changed, fields, logs = [], {"updated_at"}, []
        now = timezone.now()
        for values in updates:
            p = current[values["_target"]]
            previous = {}
            for name, value in values.items():
                if not name.startswith("_") and getattr(p, name) != value:
                    previous[name] = undo_value(getattr(p, name))
                    setattr(p, name, value)
                    fields.add(name)
            if previous:
                p.updated_at = now
                changed.append(p)
                logs.append(ImportedUpdate(batch=batch, model="customers.product",
                                           object_id=p.pk, previous=previous))
        if changed:
            Product.objects.bulk_update(changed, sorted(fields))
        ImportedUpdate.objects.bulk_create(logs)
        return len(objs), len(changed)

