"""Importing customers: new cards with their owner and first state, or — with "update
existing" — updates of the cards matched by external id, phone or e-mail, through the
customers' own bookkeeping (history, version, owner and state records)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.core import policy
from kehu.core.permissions import CHANGE, VIEW, restrict
from kehu.customers import invariants
from kehu.customers.models import (
    SENSITIVE_CUSTOMER_FIELDS,
    Customer,
    LifecycleState,
    TransitionSource,
)
from kehu.dataio import normalise
from kehu.dataio.imports.cleaning import text
from kehu.dataio.imports.importers.base import Importer, undo_value
from kehu.dataio.imports.report import ImportReport
from kehu.dataio.models import ImportBatch, ImportedUpdate, ImportKind


class CustomerImporter(Importer):
    kind = ImportKind.CUSTOMERS
    model = Customer

    def cleaner(self, name: str):
        if name == "owner":
            return text
        return super().cleaner(name)

    def file_problems(self) -> list[str]:
        problems = self.sensitive_problems(SENSITIVE_CUSTOMER_FIELDS)
        if not policy.may_assign_owner(self.user, self.default_owner):
            problems.append(_("You may not assign customers to %(user)s.")
                            % {"user": self.default_owner.username})
        return problems

    def prepare(self) -> None:
        self.owners: dict[str, User] = {}
        self.allowed_owner_ids = set(policy.assignable_owners(self.user).values_list(
            "pk", flat=True))
        for u in User.objects.filter(is_active=True):
            self.owners.setdefault(u.username.lower(), u)
            if u.get_full_name():
                self.owners.setdefault(u.get_full_name().lower(), u)
        # External ids are unique among the customers the user may see (Customer.external_id):
        # one held outside their scope is not consulted, and the row makes a new customer.
        self.external_ids: dict[str, int] = dict(
            restrict(Customer.objects.exclude(external_id=None), self.user, VIEW)
            .values_list("external_id", "id"))
        self.changeable: set[int] = set()
        self.by_phone: dict[str, int] = {}
        self.by_email: dict[str, int] = {}
        if self.update_existing:
            qs = restrict(Customer.objects.all(), self.user, CHANGE)
            self.owner_of: dict[int, int] = {}
            for pk, owner_id, phone, mobile, email in qs.values_list(
                    "id", "owner_id", "phone", "mobile", "email"):
                self.changeable.add(pk)
                self.owner_of[pk] = owner_id
                for number in (normalise.phone(phone), normalise.phone(mobile)):
                    if len(number) >= 5:
                        self.by_phone.setdefault(number, pk)
                if email:
                    self.by_email.setdefault(normalise.email(email), pk)
        self.may_reassign = policy.may_reassign_customers(self.user)

    def check(self, line: int, values: dict, report: ImportReport) -> dict | None:
        ok = True
        if "owner" in values:
            owner = self.owners.get(values["owner"].lower())
            if owner is None:
                report.add_error(line, self.header_of["owner"],
                                 _("Unknown owner “%(name)s”.") % {"name": values["owner"]})
                ok = False
            elif owner.pk not in self.allowed_owner_ids:
                report.add_error(line, self.header_of["owner"],
                                 _("You may not assign customers to %(name)s.")
                                 % {"name": owner.username})
                ok = False
            values["owner"] = owner
        external_id = values.get("external_id") or None
        target = None
        if external_id:
            if self.duplicate(("ext", external_id), line, self.header_of["external_id"], report):
                return None
            existing = self.external_ids.get(external_id)
            if existing is not None:
                if not self.update_existing:
                    report.add_error(line, self.header_of["external_id"],
                                     _("A customer with external id “%(id)s” already exists; "
                                       "choose “update existing” to update it.")
                                     % {"id": external_id})
                    return None
                if existing not in self.changeable:
                    report.add_error(line, self.header_of["external_id"],
                                     _("External id “%(id)s” belongs to a customer you may not "
                                       "change.") % {"id": external_id})
                    return None
                target = existing
        if target is None and self.update_existing:
            for name in ("mobile", "phone"):
                number = normalise.phone(values.get(name, ""))
                if len(number) >= 5 and number in self.by_phone:
                    target = self.by_phone[number]
                    break
            if target is None and values.get("email"):
                target = self.by_email.get(values["email"])
        if target is not None:
            if self.duplicate(("id", target), line, "", report):
                return None
            owner = values.get("owner")
            if (owner is not None and not self.may_reassign
                    and owner.pk != self.owner_of.get(target)):
                # Naming the owner a customer already has is no reassignment.
                report.add_error(line, self.header_of["owner"],
                                 _("Only a manager or an admin may reassign existing customers."))
                ok = False
        if not ok:
            return None
        values["_target"] = target
        return values

    def write(self, batch: ImportBatch, rows: list[dict]) -> tuple[int, int]:
        new = [r for r in rows if r["_target"] is None]
        updates = [r for r in rows if r["_target"] is not None]
        if new:
            self._create(batch, new)
        if updates:
            self._update(batch, updates)
        return len(new), len(updates)

    def _create(self, batch: ImportBatch, rows: list[dict]) -> None:
        objs = []
        for values in rows:
            values = dict(values)
            values.pop("_target")
            owner = values.pop("owner", None) or self.default_owner
            state = values.pop("lifecycle_state", None) or LifecycleState.POTENTIAL
            objs.append(Customer(owner=owner, lifecycle_state=state, created_by=self.user,
                                 updated_by=self.user, **values))
        objs = invariants.insert(objs, by=self.user, reason=_batch_reason(batch),
                                 source=TransitionSource.IMPORT)
        self.record_created(batch, objs)

    def _update(self, batch: ImportBatch, rows: list[dict]) -> None:
        current = Customer.objects.select_for_update().in_bulk([r["_target"] for r in rows])
        edits = [(current[values["_target"]],
                  {name: value for name, value in values.items()
                   if not name.startswith("_") and not (name == "external_id" and not value)})
                 for values in rows]
        teams = {c.pk: c.team_id for c, _values in edits}
        diffs = invariants.apply(edits, by=self.user, reason=_batch_reason(batch),
                                 source=TransitionSource.IMPORT)
        logs = []
        for (c, _values), diff in zip(edits, diffs, strict=True):
            if not diff:
                continue
            # What undoing the batch puts back.
            previous = {name: undo_value(old) for name, (old, _new) in diff.items()
                        if name != "owner"}
            if "owner" in diff:
                previous["owner"], previous["team"] = diff["owner"][0].pk, teams[c.pk]
            logs.append(ImportedUpdate(batch=batch, model="customers.customer", object_id=c.pk,
                                       previous=previous, version=c.version))
        ImportedUpdate.objects.bulk_create(logs)


def _batch_reason(batch: ImportBatch) -> str:
    return _("Imported (batch %(id)d)") % {"id": batch.pk}

