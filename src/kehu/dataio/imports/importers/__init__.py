"""The importers, one module per kind of file; IMPORTERS finds the one for a kind."""

from __future__ import annotations

from kehu.dataio.imports.importers.activities import ActivityImporter
from kehu.dataio.imports.importers.base import Importer
from kehu.dataio.imports.importers.contacts import ContactImporter
from kehu.dataio.imports.importers.customers import CustomerImporter
from kehu.dataio.imports.importers.leads import LeadImporter
from kehu.dataio.imports.importers.products import ProductImporter
from kehu.dataio.imports.importers.receivables import PaymentImporter, ReceivableImporter
from kehu.dataio.imports.importers.transactions import TransactionImporter

IMPORTERS: dict[str, type[Importer]] = {
    cls.kind: cls for cls in (CustomerImporter, ContactImporter, TransactionImporter,
                              ProductImporter, ActivityImporter, ReceivableImporter,
                              PaymentImporter, LeadImporter)
}
