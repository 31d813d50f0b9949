"""Importing leads (线索): each row a lead in the owner's scope, with its source, the
referring customer for a referral, and the MAN judgements made so far. Rows are written
through the leads service, so that every lead gets its combination, its action, its score
and its task as one made on the page would."""

from __future__ import annotations

from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.core import policy
from kehu.core.permissions import VIEW
from kehu.dataio.imports.cleaning import cleaner_for, text
from kehu.dataio.imports.importers.base import Importer
from kehu.dataio.imports.report import ImportReport
from kehu.dataio.models import ImportBatch, ImportKind
from kehu.sales.leads import services
from kehu.sales.leads.models import Lead
from kehu.sales.leads.scoring import loyal_profile

FACTORS = ("money", "authority", "need")


class LeadImporter(Importer):
    kind = ImportKind.LEADS
    model = Lead

    def cleaner(self, name: str):
        if name in ("owner", "referrer"):
            return text
        if name == "source":
            return cleaner_for(Lead._meta.get_field("source"), "lead_source")
        return super().cleaner(name)

    def file_problems(self) -> list[str]:
        if not policy.may_assign_owner(self.user, self.default_owner):
            return [_("You may not give leads to %(user)s.")
                    % {"user": self.default_owner.username}]
        return []

    def prepare(self) -> None:
        self.load_customer_refs(VIEW)
        self.owners: dict[str, User] = {}
        self.allowed_owner_ids = set(policy.assignable_owners(self.user).values_list(
            "pk", flat=True))
        for u in User.objects.filter(is_active=True):
            self.owners.setdefault(u.username.lower(), u)
            if u.get_full_name():
                self.owners.setdefault(u.get_full_name().lower(), u)
        self.profile = loyal_profile()

    def check(self, line: int, values: dict, report: ImportReport) -> dict | None:
        ok = True
        owner = self.default_owner
        if "owner" in values:
            owner = self.owners.get(values.pop("owner").lower())
            if owner is None or owner.pk not in self.allowed_owner_ids:
                report.add_error(line, self.header_of["owner"], _(
                    "Unknown owner, or one you may not give leads to."))
                ok = False
        referrer_id = None
        if "referrer" in values:
            ref = values.pop("referrer")
            referrer_id = self.customer_by_ref.get(ref)
            if referrer_id is None:
                report.add_error(line, self.header_of["referrer"], _(
                    "Unknown customer “%(ref)s” (or one you may not see), or more than one "
                    "with this name: use the customer's external id.") % {"ref": ref})
                ok = False
        if values.get("source") == "referral" and referrer_id is None and ok:
            report.add_error(line, self.header_of.get("referrer", self.header_of["source"]),
                             _("A referral names the customer who referred the lead."))
            ok = False
        if referrer_id is not None and values.get("source") != "referral":
            report.add_error(line, self.header_of["referrer"],
                             _("Only a referral names a referring customer."))
            ok = False
        if not ok:
            return None
        judgements = {f: (values.pop(f, None), values.pop(f"{f}_note", "") or "")
                      for f in FACTORS}
        return {"data": values, "owner": owner, "referrer_id": referrer_id,
                "judgements": judgements}

    def updates(self, row) -> bool:
        return False

    def write(self, batch: ImportBatch, rows: list[dict]) -> tuple[int, int]:
        from kehu.customers.models import Customer

        referrers = Customer.objects.in_bulk([r["referrer_id"] for r in rows
                                              if r["referrer_id"]])
        leads = [services.create_lead(self.user, row["data"], owner=row["owner"],
                                      referrer=referrers.get(row["referrer_id"]),
                                      judgements=row["judgements"], profile=self.profile,
                                      record_event=False)
                 for row in rows]
        self.record_created(batch, leads)
        return len(leads), 0
