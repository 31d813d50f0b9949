"""Personal data rights (PIPL Art. 44–47, GDPR Art. 15–17): everything kehu holds about a
person as one JSON document, and erasure of it — by privacy officers only (PRIVACY action).

Both walk the relations that point at a customer or contact rather than a fixed list, so that
records of apps added later (tickets, consents...) are exported with the rest; for erasure
every such model must say in ERASE which of its fields identify a person (a test fails for a
model that does not), because blanking text generically could destroy business data.

Erasure anonymises instead of deleting: the customer row stays, with its name replaced and
every identifying field blanked, so that its transactions keep counting in value statistics
(amounts, costs, dates) without being linked to the person. The same is done to the change
history tables, search keys, duplicate keys and pairs, the "previous values" that import
batches keep for undo, and the details of the audit log entries about the person (the entry
that something happened — who, when, what action — stays; the database lets the details of an
audit entry be replaced by the redaction marker and nothing else).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.apps import apps
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.audit.models import AuditEvent
from kehu.audit.services import record
from kehu.core.errors import NotPermitted, ServiceError
from kehu.core.permissions import PRIVACY, restrict
from kehu.customers import invariants
from kehu.customers.models import CONTACT_FIELDS, CUSTOMER_FIELDS, Contact, Customer
from kehu.dataio.models import (
    ContactKey,
    ContactPair,
    CustomerKey,
    CustomerPair,
    ImportedUpdate,
)
from kehu.dataio.quality.merge import reverse_relations

# The redaction marker: the only value the database lets replace an audit entry's details.
REDACTED = {"redacted": True}

# Fields of the card that stay after erasure: the kind of customer and the coarse facts that
# value statistics group by; none of them identifies a person.
CUSTOMER_KEEP = {
    "kind", "nature", "industry", "size", "service_group", "province", "city",
    "organisation_form", "trading_since", "registered_capital", "credit_rating",
    "credit_limit", "payment_terms_days",
}
CONTACT_KEEP = {"decision_role", "is_primary"}

# For each model that points at a customer or contact: the fields that may identify a person.
# Derived data is deleted instead (its rows are rebuilt from the anonymised records).
ERASE: dict[str, tuple[str, ...]] = {
    "customers.contact": (),  # handled whole by erase_contact
    "customers.transaction": ("number", "notes"),
    "customers.transactionline": ("description",),
    "customers.lifecycletransition": ("reason",),
    "customers.ownerassignment": ("reason",),
    "customers.statelock": ("reason",),
    "sales.activity": ("subject", "body"),
    # Invoices stay for the figures; what was written about them may name a person.
    "sales.receivable": ("number", "notes"),
    "sales.creditincident": ("description", "evidence"),
    "sales.creditflag": ("reference",),
    "sales.payment": ("reference",),
    # The lead the customer was converted from (or that the customer referred), its other
    # contact persons and why its MAN judgements were made.
    "sales.lead": ("name", "contact_name", "contact_title", "phone", "email", "website",
                   "source_detail", "notes", "money_note", "authority_note", "need_note"),
    "sales.leadcontact": ("name", "title", "phone", "email"),
    "sales.manjudgement": ("note",),
    # An opportunity's amounts and stages stay (the forecast's figures); what people wrote
    # about it may name the person.
    "sales.opportunity": ("title", "description", "lost_note"),
    "sales.stagechange": (),
    "sales.opportunity_products": (),
    "sales.opportunity_competitors": (),
    "tasks.task": ("title", "detail", "reason", "note"),
    # A ticket's kind, priority, times and time spent stay (service figures); what the
    # customer and the agents wrote may name the person, and so may the sender's address.
    "service.ticket": ("subject", "description", "resolution", "email_message_id"),
    "service.ticketentry": ("body", "sender", "email_message_id"),
    "service.statuschange": ("note",),
    # A link between an article and a ticket: ids and a date, nothing about a person.
    "service.articleticket": (),
    # Which employee was reminded of a task, and when: nothing of the customer's.
    "tasks.taskreminder": (),
    # Figures only: they stay, as the transactions do, for value statistics.
    "analytics.customervalue": (),
    "analytics.customervaluesnapshot": (),
    "analytics.referral": ("note",),
    "analytics.loyaltystatement": ("note",),
    # What the borrower typed may be the person's name or phone; reasons and notes may
    # name them too. Who borrowed, who decided and when stay, as the audit log's do.
    "loans.loan": ("asked_for", "reason", "note"),
    # Why a manager put the customer in another service group may name the person.
    "service.servicegroupchoice": ("reason",),
    # A ticket's service-level clocks: figures and times only.
    "service.ticketclock": (),
    # A key-account plan's texts may name the customer's people; its levels, dates and
    # owners stay.
    "sales.accountplan": ("situation", "challenges", "strategy", "decision_factors",
                          "objectives"),
    "sales.plancompetitor": ("who_they_are", "positioning", "relationship_levers",
                             "strengths", "weaknesses", "organisation"),
    "sales.planstep": ("title",),
    # Consent stays (an objection must outlive the person's data: nothing is sent again);
    # its notes and what was e-mailed may name the person.
    "marketing.consent": ("note",),
    "marketing.consentchange": ("note",),
    "marketing.marketingsend": ("address", "subject", "error"),
    # A referral code is made by kehu and names nobody; a reward's note may.
    "marketing.referralcode": (),
    "marketing.referralreward": ("note",),
    # Satisfaction surveys: the scores stay for the figures; the address the link went to
    # and what the customer wrote go.
    "service.surveyinvitation": ("emailed_to",),
    "service.surveyresponse": ("comment",),
    "service.surveyanswer": ("text",),
    # Which target lists held the customer and which campaigns reached them (kehu.marketing):
    # no text of the person's; the campaign's figures stay.
    "marketing.targetlistmember": (),
    "marketing.campaigncontact": (),
    # An offer list and its coupon hold products, prices and a code made by kehu: no person.
    "marketing.offerlist": (),
    "marketing.coupon": (),
    "marketing.offeritem": (),
    "marketing.offersend": ("recipient", "note"),
}
# Fields that may not be blank: they say "(erased)" instead.
ERASED_MARK = {"sales.activity": "subject", "tasks.task": "title", "sales.planstep": "title",
               "sales.creditincident": "description", "sales.lead": "name",
               "sales.leadcontact": "name", "sales.opportunity": "title",
               "service.ticket": "subject",
               "marketing.marketingsend": "subject"}
# Records whose earlier versions (their history rows) hold the same texts: the path from a
# history row to its customer.
HISTORY_TO_CUSTOMER = {"sales.accountplan": "customer_id",
                       "sales.plancompetitor": "plan__customer_id",
                       "sales.planstep": "plan__customer_id"}
DERIVED = {"dataio.customerkey", "dataio.customerpair", "dataio.contactkey",
           "dataio.contactpair"}


def _may(user: User, customer_id: int) -> bool:
    return restrict(Customer.objects.filter(pk=customer_id), user, PRIVACY).exists()


def _check(user: User, customer_id: int) -> None:
    if not _may(user, customer_id):
        raise NotPermitted(_("Only privacy officers may export or erase personal data."))


# Export -------------------------------------------------------------------------------------

class _Rows:
    """Model instances as JSON-ready dicts, users by user name."""

    def __init__(self) -> None:
        self.usernames: dict[int, str] = {}

    def user(self, pk: int | None) -> str | None:
        if pk is None:
            return None
        if pk not in self.usernames:
            self.usernames[pk] = User.objects.filter(pk=pk).values_list(
                "username", flat=True).first() or str(pk)
        return self.usernames[pk]

    def row(self, obj: models.Model) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in obj._meta.concrete_fields:
            value = getattr(obj, f.attname)
            if f.is_relation and f.related_model is User:
                out[f.name] = self.user(value)
            else:
                out[f.name] = _json(value)
        return out


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


def _related(rows: _Rows, model: type[models.Model], objs: list[models.Model],
             out: dict[str, list], seen: set[tuple[str, Any]], depth: int) -> None:
    """The records pointing at `objs`, and at those, `depth` levels down, by model label."""
    if depth == 0 or not objs:
        return
    for rel in reverse_relations(model):
        label = rel.related_model._meta.label_lower
        if label in DERIVED:
            continue
        found = list(rel.related_model._base_manager.filter(
            **{f"{rel.field.name}__in": objs}).order_by("pk"))
        fresh = [o for o in found if (label, o.pk) not in seen]
        for o in fresh:
            seen.add((label, o.pk))
            out.setdefault(label, []).append(rows.row(o))
        _related(rows, rel.related_model, fresh, out, seen, depth - 1)


def _audit(q: Q) -> list[dict[str, Any]]:
    return [{"at": e.at.isoformat(), "user": e.username, "action": e.action,
             "object_type": e.object_type, "object_id": e.object_id, "detail": e.detail,
             "ip": e.ip, "via": e.via}
            for e in AuditEvent.objects.filter(q).order_by("at", "id")]


def export_customer(user: User, customer: Customer, *, ip: str | None = None,
                    via: str = "web") -> dict[str, Any]:
    """Everything kehu holds about one customer, sensitive tier included."""
    _check(user, customer.pk)
    rows = _Rows()
    related: dict[str, list] = {}
    _related(rows, Customer, [customer], related, set(), depth=2)
    contact_ids = [c["id"] for c in related.get("customers.contact", [])]
    document = {
        "format": "kehu data-subject export 1",
        "generated_at": timezone.now().isoformat(),
        "generated_by": user.username,
        "subject": {"type": "customer", "id": customer.pk},
        "customer": rows.row(customer),
        "related": related,
        "history": {
            "customer": [rows.row(h) for h in customer.history.order_by("history_date")],
            "contacts": [rows.row(h) for h in Contact.history.filter(
                customer_id=customer.pk).order_by("history_date")],
        },
        "audit": _audit(Q(customer_id=customer.pk) | Q(
            object_type="customers.contact", object_id__in=[str(i) for i in contact_ids])),
    }
    record(user, "privacy.export", obj=customer, ip=ip, via=via,
           detail={"records": sum(len(v) for v in related.values())})
    return document


def export_contact(user: User, contact: Contact, *, ip: str | None = None,
                   via: str = "web") -> dict[str, Any]:
    """Everything kehu holds about one contact person."""
    _check(user, contact.customer_id)
    rows = _Rows()
    related: dict[str, list] = {}
    _related(rows, Contact, [contact], related, set(), depth=2)
    document = {
        "format": "kehu data-subject export 1",
        "generated_at": timezone.now().isoformat(),
        "generated_by": user.username,
        "subject": {"type": "contact", "id": contact.pk},
        "contact": rows.row(contact),
        "customer": {"id": contact.customer_id, "name": contact.customer.name},
        "related": related,
        "history": {"contact": [rows.row(h) for h in contact.history.order_by("history_date")]},
        "audit": _audit(Q(object_type="customers.contact", object_id=str(contact.pk))),
    }
    record(user, "privacy.export_contact", obj=contact, ip=ip, via=via,
           detail={"contact": contact.pk})
    return document


# Erasure ------------------------------------------------------------------------------------

def _blank(model: type[models.Model], name: str) -> Any:
    field = model._meta.get_field(name)
    return None if field.null else ""


def _erased_customer_values(customer_id: int) -> dict[str, Any]:
    values = {n: _blank(Customer, n) for n in CUSTOMER_FIELDS if n not in CUSTOMER_KEEP}
    values["name"] = _("Erased customer %(id)d") % {"id": customer_id}
    values["external_id"] = None
    return values


def _erased_contact_values(contact_id: int) -> dict[str, Any]:
    values = {n: _blank(Contact, n) for n in CONTACT_FIELDS if n not in CONTACT_KEEP}
    values["name"] = _("Erased contact %(id)d") % {"id": contact_id}
    return values


def _erase_related(model: type[models.Model], objs: list[models.Model], counts: dict[str, int],
                   depth: int = 2) -> None:
    if depth == 0 or not objs:
        return
    for rel in reverse_relations(model):
        label = rel.related_model._meta.label_lower
        rows = rel.related_model._base_manager.filter(**{f"{rel.field.name}__in": objs})
        if label in DERIVED:
            counts[label] = counts.get(label, 0) + rows.delete()[0]
            continue
        if label == "customers.contact":
            continue  # erased one by one, with their history
        if label not in ERASE:
            raise ServiceError(_("kehu does not know which fields of %(what)s identify a "
                                 "person; nothing was erased.")
                               % {"what": rel.related_model._meta.verbose_name_plural})
        fields = ERASE[label]
        if fields:
            values = {n: _blank(rel.related_model, n) for n in fields}
            if label in ERASED_MARK:
                values[ERASED_MARK[label]] = _("(erased)")
            counts[label] = counts.get(label, 0) + rows.update(**values)
        _erase_related(rel.related_model, list(rows), counts, depth - 1)


def _redact_audit(q: Q) -> int:
    return AuditEvent.objects.filter(q).exclude(detail=REDACTED).update(detail=REDACTED)


def _erase_contact_rows(user: User, contact: Contact, counts: dict[str, int]) -> None:
    values = _erased_contact_values(contact.pk)
    for name, value in values.items():
        setattr(contact, name, value)
    contact.version += 1
    contact._change_reason = _("Personal data erased")
    contact._history_user = user
    contact.save()
    history = {n: v for n, v in values.items()}
    counts["history.contact"] = counts.get("history.contact", 0) + contact.history.update(
        **history, history_change_reason="")
    ContactKey.objects.filter(contact=contact).delete()
    ContactPair.objects.filter(Q(a=contact) | Q(b=contact)).delete()
    ImportedUpdate.objects.filter(model="customers.contact", object_id=contact.pk).delete()
    counts["audit"] = counts.get("audit", 0) + _redact_audit(
        Q(object_type="customers.contact", object_id=str(contact.pk)))


@transaction.atomic
def erase_customer(user: User, customer: Customer, *, reference: str = "",
                   ip: str | None = None, via: str = "web") -> dict[str, int]:
    """Anonymise the customer and everything about it; keep the transactions' figures.
    `reference` names the request (a ticket number), never the person."""
    _check(user, customer.pk)
    current = Customer.objects.select_for_update().get(pk=customer.pk)
    counts: dict[str, int] = {}
    contacts = list(Contact.objects.filter(customer=current).select_for_update())
    for contact in contacts:
        _erase_contact_rows(user, contact, counts)
        counts["customers.contact"] = counts.get("customers.contact", 0) + 1
    # Contacts deleted earlier live on in the history table only.
    counts["history.contact"] = counts.get("history.contact", 0) + Contact.history.filter(
        customer_id=current.pk).exclude(id__in=[c.pk for c in contacts]).update(
        **(_erased_contact_values(0) | {"name": _("(erased)")}), history_change_reason="")
    _erase_related(Customer, [current], counts)
    for label, path in HISTORY_TO_CUSTOMER.items():
        model = apps.get_model(label)
        values = {n: _blank(model, n) for n in ERASE[label]}
        if label in ERASED_MARK:
            values[ERASED_MARK[label]] = _("(erased)")
        counts[f"history.{label}"] = model.history.filter(**{path: current.pk}).update(
            **values, history_change_reason="")
    values = _erased_customer_values(current.pk)
    invariants.apply([(current, {**values, "confirmed_at": None, "confirmed_by": None})],
                     by=user, reason=_("Personal data erased"), even_if_unchanged=True)
    counts["history.customer"] = current.history.update(**values, history_change_reason="")
    CustomerKey.objects.filter(customer=current).delete()
    CustomerPair.objects.filter(Q(a=current) | Q(b=current)).delete()
    ImportedUpdate.objects.filter(model="customers.customer", object_id=current.pk).delete()
    counts["audit"] = counts.get("audit", 0) + _redact_audit(Q(customer_id=current.pk))
    record(user, "privacy.erase", obj=current, ip=ip, via=via,
           detail={"reference": reference[:100], "counts": counts})
    return counts


@transaction.atomic
def erase_contact(user: User, contact: Contact, *, reference: str = "",
                  ip: str | None = None, via: str = "web") -> dict[str, int]:
    """Anonymise one contact person, their history and the activities about them."""
    _check(user, contact.customer_id)
    current = Contact.objects.select_for_update().get(pk=contact.pk)
    counts: dict[str, int] = {}
    _erase_contact_rows(user, current, counts)
    _erase_related(Contact, [current], counts)
    record(user, "privacy.erase_contact", obj=current, ip=ip, via=via,
           detail={"reference": reference[:100], "contact": current.pk, "counts": counts})
    return counts
