"""Every write to a customer file: validate, write in one transaction, record in history
and in the audit log. Views, the API, the CLI and the demo loader all call these."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.audit.services import record
from kehu.core.errors import NotPermitted, ServiceError, StaleVersion
from kehu.core.permissions import CHANGE, DELETE, VIEW, can, has_action
from kehu.customers.models import (
    SENSITIVE_CONTACT_FIELDS,
    SENSITIVE_CUSTOMER_FIELDS,
    Contact,
    Customer,
    LifecycleState,
    LifecycleTransition,
    OwnerAssignment,
    Product,
    Transaction,
    TransactionKind,
    TransactionLine,
    TransitionSource,
)
from kehu.customers.search import search_text

# Fields a user edits on the card; management fields (owner, state, version...) have their
# own services so that each change is recorded with its meaning.
CUSTOMER_FIELDS = tuple(
    f.name for f in Customer._meta.concrete_fields
    if f.editable and f.name not in {
        "id", "owner", "team", "lifecycle_state", "version", "created_at", "updated_at",
        "created_by", "updated_by", "search_text",
    }
)
CONTACT_FIELDS = ("name", "title", "phone", "email", "decision_role", "is_primary", "notes",
                  "personal_interests", "birthday")


def _refresh_search_text(customer: Customer) -> None:
    customer.search_text = search_text(
        name=customer.name, phones=(customer.phone, customer.mobile), email=customer.email,
        external_id=customer.external_id,
    )


def _check_sensitive(user: User, data: Mapping[str, Any], sensitive: Iterable[str]) -> None:
    if user.sees_sensitive:
        return
    for field in sensitive:
        if field in data:
            raise NotPermitted(_("You may not see or change this field."), field=field)


def _clean(obj, exclude: Iterable[str] = ()) -> None:
    # As Django's forms do: surrounding blanks are never data, and a name of spaces is none.
    for field in obj._meta.concrete_fields:
        if isinstance(field, models.CharField | models.TextField):
            value = getattr(obj, field.attname)
            if isinstance(value, str) and value != value.strip():
                value = value.strip()
                setattr(obj, field.attname, None if value == "" and field.null else value)
    obj.full_clean(exclude=list(exclude), validate_unique=True)


def _display(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


@transaction.atomic
def may_create_customers(user: User) -> bool:
    """Those who may change customers may create them (admins, managers, sales)."""
    return has_action(user, CHANGE)


def create_customer(user: User, data: Mapping[str, Any], *, owner: User | None = None,
                    state: str = LifecycleState.POTENTIAL, ip: str | None = None,
                    via: str = "web") -> Customer:
    if not may_create_customers(user):
        raise NotPermitted(_("Your role may look at customers but not create them."))
    _check_sensitive(user, data, SENSITIVE_CUSTOMER_FIELDS)
    unknown = set(data) - set(CUSTOMER_FIELDS)
    if unknown:
        raise ServiceError(_("Unknown field."), field=sorted(unknown)[0])
    owner = owner or user
    if not owner.is_active:
        raise ServiceError(_("The owner must be an active user."), field="owner")
    if not (user.is_kehu_admin or owner == user or
            (user.role == "manager" and owner.team_id == user.team_id)):
        raise NotPermitted(_("You may only assign customers to yourself or your team."),
                           field="owner")
    customer = Customer(owner=owner, team_id=owner.team_id, lifecycle_state=state,
                        created_by=user, updated_by=user, **data)
    if customer.external_id == "":
        customer.external_id = None
    _refresh_search_text(customer)
    _clean(customer)
    customer._change_reason = _("Created")
    customer._history_user = user
    customer.save()
    now = timezone.now()
    OwnerAssignment.objects.create(customer=customer, owner=owner, started_at=now,
                                   assigned_by=user, reason=_("Created"))
    LifecycleTransition.objects.create(customer=customer, from_state="", to_state=state, at=now,
                                       by=user, reason=_("Created"),
                                       source=TransitionSource.MANUAL)
    record(user, "customer.create", obj=customer, ip=ip, via=via)
    return customer


def _locked(model, pk: int):
    return model.objects.select_for_update().get(pk=pk)


def _check_version(obj, expected_version: int | None, what: str) -> None:
    if expected_version is None or int(expected_version) == obj.version:
        return
    changed_by = None
    last = obj.history.order_by("-history_date").select_related("history_user").first()
    if last is not None and last.history_user is not None:
        changed_by = str(last.history_user)
    raise StaleVersion(
        _("This %(what)s was changed by %(user)s since you opened it. Reload to see their "
          "changes, then make yours again.") % {"what": what, "user": changed_by or _("someone")},
        current_version=obj.version, changed_by=changed_by,
    )


@transaction.atomic
def update_customer(user: User, customer: Customer, data: Mapping[str, Any], *,
                    expected_version: int | None, ip: str | None = None,
                    via: str = "web") -> Customer:
    if not can(user, CHANGE, customer):
        raise NotPermitted(_("You may not change this customer."))
    _check_sensitive(user, data, SENSITIVE_CUSTOMER_FIELDS)
    unknown = set(data) - set(CUSTOMER_FIELDS)
    if unknown:
        raise ServiceError(_("Unknown field."), field=sorted(unknown)[0])
    current = _locked(Customer, customer.pk)
    _check_version(current, expected_version, _("customer"))
    changes = {}
    for field, value in data.items():
        if field == "external_id" and value == "":
            value = None
        old = getattr(current, field)
        if old != value:
            changes[field] = (old, value)
            setattr(current, field, value)
    if not changes:
        return current
    _refresh_search_text(current)
    _clean(current)
    current.version += 1
    current.updated_by = user
    current._change_reason = _("Edited")
    current._history_user = user
    current.save()
    record(user, "customer.update", obj=current, ip=ip, via=via, detail={
        "fields": sorted(changes),
        "changes": {f: [_display(o), _display(n)] for f, (o, n) in changes.items()
                    if f not in SENSITIVE_CUSTOMER_FIELDS},
    })
    return current


@transaction.atomic
def change_owner(user: User, customer: Customer, new_owner: User, *, reason: str = "",
                 expected_version: int | None = None, ip: str | None = None,
                 via: str = "web") -> Customer:
    if not can(user, CHANGE, customer):
        raise NotPermitted(_("You may not change this customer."))
    if not new_owner.is_active:
        raise ServiceError(_("The owner must be an active user."), field="owner")
    same_team = new_owner.team_id == user.team_id
    if not user.is_kehu_admin and not (user.role == "manager" and same_team):
        raise NotPermitted(_("Only a manager of the new owner's team or an admin may reassign "
                             "customers."), field="owner")
    current = _locked(Customer, customer.pk)
    _check_version(current, expected_version, _("customer"))
    if current.owner_id == new_owner.pk:
        return current
    now = timezone.now()
    OwnerAssignment.objects.filter(customer=current, ended_at__isnull=True).update(ended_at=now)
    OwnerAssignment.objects.create(customer=current, owner=new_owner, started_at=now,
                                   assigned_by=user, reason=reason)
    old_owner = current.owner
    current.owner = new_owner
    current.team_id = new_owner.team_id
    current.version += 1
    current.updated_by = user
    current._change_reason = reason or _("Owner changed")
    current._history_user = user
    current.save()
    record(user, "customer.owner", obj=current, ip=ip, via=via, detail={
        "from": old_owner.username, "to": new_owner.username, "reason": reason})
    return current


@transaction.atomic
def set_lifecycle_state(user: User | None, customer: Customer, state: str, *, reason: str = "",
                        source: str = TransitionSource.MANUAL, at: datetime | None = None,
                        ip: str | None = None, via: str = "web") -> Customer:
    if state not in LifecycleState.values:
        raise ServiceError(_("Unknown lifecycle state."), field="state")
    if user is not None and not can(user, CHANGE, customer):
        raise NotPermitted(_("You may not change this customer."))
    current = _locked(Customer, customer.pk)
    if current.lifecycle_state == state:
        return current
    LifecycleTransition.objects.create(customer=current, from_state=current.lifecycle_state,
                                       to_state=state, at=at or timezone.now(), by=user,
                                       reason=reason, source=source)
    old = current.lifecycle_state
    current.lifecycle_state = state
    current.version += 1
    current.updated_by = user
    current._change_reason = reason or _("Lifecycle state changed")
    current._history_user = user
    current.save()
    record(user, "customer.lifecycle", obj=current, ip=ip, via=via,
           detail={"from": old, "to": state, "reason": reason})
    return current


@transaction.atomic
def delete_customer(user: User, customer: Customer, *, ip: str | None = None,
                    via: str = "web") -> None:
    if not can(user, DELETE, customer):
        raise NotPermitted(_("You may not delete this customer."))
    if customer.transactions.exists():
        raise ServiceError(_("This customer has transactions and cannot be deleted; set its "
                             "state to churned or non-customer instead."))
    record(user, "customer.delete", obj=customer, ip=ip, via=via, detail={"name": customer.name})
    customer._change_reason = _("Deleted")
    customer._history_user = user
    customer.delete()


def record_customer_view(user: User, customer: Customer, *, ip: str | None = None,
                         via: str = "web", part: str = "card") -> None:
    """Reading a customer file is recorded (利用和借阅 is controlled and recorded)."""
    if not can(user, VIEW, customer):
        raise NotPermitted(_("You may not see this customer."))
    record(user, "customer.view", obj=customer, ip=ip, via=via, detail={"part": part})


@transaction.atomic
def confirm_customer_data(user: User, customer: Customer, *, ip: str | None = None,
                          via: str = "web") -> Customer:
    """The owner (or whoever may change the card) confirms that its key facts are still true:
    the card is no longer stale, and an open refresh task for it is done. The card's version
    is left alone, so that nobody's open edit form becomes stale because of it."""
    if not can(user, CHANGE, customer):
        raise NotPermitted(_("You may not change this customer."))
    from kehu.sales.models import Activity, ActivityKind

    current = _locked(Customer, customer.pk)
    now = timezone.now()
    current.confirmed_at, current.confirmed_by = now, user
    current._change_reason = _("Data confirmed")
    current._history_user = user
    current.save(update_fields=["confirmed_at", "confirmed_by"])
    closed = Activity.objects.filter(customer=current, kind=ActivityKind.TASK,
                                     origin=STALE_DATA_ORIGIN, done_at__isnull=True
                                     ).update(done_at=now, done_by=user)
    record(user, "customer.confirm", obj=current, ip=ip, via=via,
           detail={"tasks_closed": closed})
    return current


# What an automatically created refresh task is marked with (sales.Activity.origin).
STALE_DATA_ORIGIN = "stale_data"


# Contacts ---------------------------------------------------------------------------------

@transaction.atomic
def create_contact(user: User, customer: Customer, data: Mapping[str, Any], *,
                   ip: str | None = None, via: str = "web") -> Contact:
    if not can(user, CHANGE, customer):
        raise NotPermitted(_("You may not change this customer."))
    _check_sensitive(user, data, SENSITIVE_CONTACT_FIELDS)
    unknown = set(data) - set(CONTACT_FIELDS)
    if unknown:
        raise ServiceError(_("Unknown field."), field=sorted(unknown)[0])
    contact = Contact(customer=customer, **data)
    _clean(contact, exclude=["customer"])
    contact._change_reason = _("Created")
    contact._history_user = user
    contact.save()
    record(user, "contact.create", obj=contact, ip=ip, via=via)
    return contact


@transaction.atomic
def update_contact(user: User, contact: Contact, data: Mapping[str, Any], *,
                   expected_version: int | None, ip: str | None = None,
                   via: str = "web") -> Contact:
    if not can(user, CHANGE, contact.customer):
        raise NotPermitted(_("You may not change this customer."))
    _check_sensitive(user, data, SENSITIVE_CONTACT_FIELDS)
    unknown = set(data) - set(CONTACT_FIELDS)
    if unknown:
        raise ServiceError(_("Unknown field."), field=sorted(unknown)[0])
    current = _locked(Contact, contact.pk)
    _check_version(current, expected_version, _("contact"))
    changed = [f for f, v in data.items() if getattr(current, f) != v]
    if not changed:
        return current
    for field in changed:
        setattr(current, field, data[field])
    _clean(current, exclude=["customer"])
    current.version += 1
    current._change_reason = _("Edited")
    current._history_user = user
    current.save()
    record(user, "contact.update", obj=current, ip=ip, via=via, detail={"fields": changed})
    return current


@transaction.atomic
def delete_contact(user: User, contact: Contact, *, ip: str | None = None,
                   via: str = "web") -> None:
    if not can(user, CHANGE, contact.customer):
        raise NotPermitted(_("You may not change this customer."))
    record(user, "contact.delete", obj=contact, ip=ip, via=via, detail={"name": contact.name})
    contact._change_reason = _("Deleted")
    contact._history_user = user
    contact.delete()


# Transactions -----------------------------------------------------------------------------

def _decimal(value: Any, field: str) -> Decimal:
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: _("Enter a number.")}) from None
    if not result.is_finite():
        raise ValidationError({field: _("Enter a number.")})
    return result


@transaction.atomic
def create_transaction(user: User, customer: Customer, *, date: date, amount: Any = None,
                       cost: Any = 0, kind: str = TransactionKind.ORDER, number: str = "",
                       notes: str = "", lines: Iterable[Mapping[str, Any]] = (),
                       ip: str | None = None, via: str = "web") -> Transaction:
    """Record an order, invoice or return. With line items, amount and cost are their sums;
    a return is stored with negative amounts whatever sign it was entered with."""
    if not can(user, CHANGE, customer):
        raise NotPermitted(_("You may not change this customer."))
    if kind not in TransactionKind.values:
        raise ValidationError({"kind": _("Unknown transaction kind.")})
    line_objs = []
    for i, line in enumerate(lines, start=1):
        product = line.get("product")
        if isinstance(product, int | str) and product != "":
            product = Product.objects.filter(pk=product).first()
            if product is None:
                raise ValidationError({"lines": _("Line %(n)d: unknown product.") % {"n": i}})
        quantity = _decimal(line.get("quantity", 1), "lines")
        unit_price = _decimal(line.get("unit_price", product.unit_price if product else 0),
                              "lines")
        unit_cost = _decimal(line.get("unit_cost", product.unit_cost if product else 0), "lines")
        if kind == TransactionKind.RETURN and quantity > 0:
            quantity = -quantity
        line_objs.append(TransactionLine(product=product or None,
                                         description=line.get("description", "") or "",
                                         quantity=quantity, unit_price=unit_price,
                                         unit_cost=unit_cost))
    if line_objs:
        amount_d = sum((ln.amount for ln in line_objs), Decimal("0"))
        cost_d = sum((ln.cost for ln in line_objs), Decimal("0"))
    else:
        if amount is None or amount == "":
            raise ValidationError({"amount": _("Enter an amount or at least one line item.")})
        amount_d = _decimal(amount, "amount")
        cost_d = _decimal(cost or 0, "cost")
        if kind == TransactionKind.RETURN:
            amount_d, cost_d = -abs(amount_d), -abs(cost_d)
    if number and Transaction.objects.exclude(number="").filter(
            customer=customer, kind=kind, number=number).exists():
        raise ValidationError({"number": _(
            "This customer already has a transaction of this kind numbered “%(number)s”.")
            % {"number": number}})
    txn = Transaction(customer=customer, date=date, kind=kind, amount=amount_d, cost=cost_d,
                      number=number, notes=notes, created_by=user)
    _clean(txn, exclude=["customer", "created_by"])
    txn.save()
    for ln in line_objs:
        ln.transaction = txn
        _clean(ln, exclude=["transaction"])
    TransactionLine.objects.bulk_create(line_objs)
    record(user, "transaction.create", obj=txn, ip=ip, via=via,
           detail={"amount": str(amount_d), "kind": kind})
    return txn


@transaction.atomic
def delete_transaction(user: User, txn: Transaction, *, ip: str | None = None,
                       via: str = "web") -> None:
    if not can(user, CHANGE, txn.customer):
        raise NotPermitted(_("You may not change this customer."))
    record(user, "transaction.delete", obj=txn, ip=ip, via=via,
           detail={"amount": str(txn.amount), "date": txn.date.isoformat()})
    txn.delete()

