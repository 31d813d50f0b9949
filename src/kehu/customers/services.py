"""Every write to a customer file: validate, write in one transaction, record in history
and in the audit log. Views, the API, the CLI and the demo loader all call these."""

from __future__ import annotations

import copy
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
from kehu.core import policy
from kehu.core.errors import NotPermitted, ServiceError
from kehu.core.permissions import CHANGE, DELETE, VIEW, can, loan_behind_view
from kehu.core.versions import check_version
from kehu.customers import invariants, signals
from kehu.customers import selectors as customer_selectors
from kehu.customers.models import (
    CONTACT_FIELDS,
    CUSTOMER_FIELDS,
    SENSITIVE_CONTACT_FIELDS,
    SENSITIVE_CUSTOMER_FIELDS,
    Contact,
    Customer,
    LifecycleState,
    Product,
    StateLock,
    Transaction,
    TransactionKind,
    TransactionLine,
    TransitionSource,
)


def _check_sensitive(user: User, data: Mapping[str, Any], sensitive: Iterable[str]) -> None:
    if user.sees_sensitive:
        return
    for field in sensitive:
        if field in data:
            raise NotPermitted(_("You may not see or change this field."), field=field)


def _check_fields(data: Mapping[str, Any], allowed: Iterable[str]) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ServiceError(_("Unknown field."), field=sorted(unknown)[0])


def _clean(obj, exclude: Iterable[str] = ()) -> None:
    # As Django's forms do: surrounding blanks are never data, and a name of spaces is none.
    for field in obj._meta.concrete_fields:
        if isinstance(field, models.CharField | models.TextField):
            value = getattr(obj, field.attname)
            if isinstance(value, str) and value != value.strip():
                value = value.strip()
                setattr(obj, field.attname, None if value == "" and field.null else value)
    obj.full_clean(exclude=list(exclude), validate_unique=True)


def check_external_id(user: User, customer: Customer) -> None:
    """An external id is unique among the customers the user may see. Customers outside
    their scope are not consulted, so that the answer never tells which ids they hold."""
    if not customer.external_id:
        return
    taken = customer_selectors.customers(user, VIEW).filter(
        external_id=customer.external_id).exclude(pk=customer.pk).first()
    if taken is not None:
        raise ValidationError({"external_id": _(
            "Customer “%(name)s” already has external id “%(id)s”.")
            % {"name": taken.name, "id": customer.external_id}})


def _display(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, User):
        return value.username
    return value


def _locked(model, pk: int):
    return model.objects.select_for_update().get(pk=pk)


# Customers ----------------------------------------------------------------------------------

@transaction.atomic
def create_customer(user: User, data: Mapping[str, Any], *, owner: User | None = None,
                    state: str = LifecycleState.POTENTIAL, ip: str | None = None,
                    via: str = "web") -> Customer:
    if not policy.may_create_customers(user):
        raise NotPermitted(_("Your role may look at customers but not create them."))
    _check_sensitive(user, data, SENSITIVE_CUSTOMER_FIELDS)
    _check_fields(data, CUSTOMER_FIELDS)
    owner = owner or user
    if not owner.is_active:
        raise ServiceError(_("The owner must be an active user."), field="owner")
    if not policy.may_assign_owner(user, owner):
        raise NotPermitted(_("You may only assign customers to yourself or your team."),
                           field="owner")
    if state not in LifecycleState.values:
        raise ServiceError(_("Unknown lifecycle state."), field="state")
    customer = Customer(owner=owner, team_id=owner.team_id, lifecycle_state=state,
                        created_by=user, updated_by=user, **data)
    if customer.external_id == "":
        customer.external_id = None
    _clean(customer)
    check_external_id(user, customer)
    [customer] = invariants.insert([customer], by=user, reason=_("Created"))
    record(user, "customer.create", obj=customer, ip=ip, via=via)
    return customer


@transaction.atomic
def update_customer(user: User, customer: Customer, data: Mapping[str, Any], *,
                    expected_version: int | None, ip: str | None = None,
                    via: str = "web") -> Customer:
    if not can(user, CHANGE, customer):
        raise NotPermitted(_("You may not change this customer."))
    _check_sensitive(user, data, SENSITIVE_CUSTOMER_FIELDS)
    _check_fields(data, CUSTOMER_FIELDS)
    current = _locked(Customer, customer.pk)
    check_version(current, expected_version, _("customer"))
    # The edited values are cleaned and validated on a copy; invariants.apply then compares
    # them with the saved ones.
    candidate = copy.copy(current)
    for field, value in data.items():
        setattr(candidate, field, None if field == "external_id" and value == "" else value)
    _clean(candidate)
    check_external_id(user, candidate)
    cleaned = {field: getattr(candidate, field) for field in data}
    [changes] = invariants.apply([(current, cleaned)], by=user, reason=_("Edited"))
    if changes:
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
    if not policy.may_reassign_customers(user) or not policy.may_assign_owner(user, new_owner):
        raise NotPermitted(_("Only a manager of the new owner's team or an admin may reassign "
                             "customers."), field="owner")
    current = _locked(Customer, customer.pk)
    check_version(current, expected_version, _("customer"))
    old_owner = current.owner
    [changes] = invariants.apply([(current, {"owner": new_owner})], by=user,
                                 reason=reason or _("Owner changed"))
    if changes:
        record(user, "customer.owner", obj=current, ip=ip, via=via, detail={
            "from": old_owner.username, "to": new_owner.username, "reason": reason})
    return current


@transaction.atomic
def set_lifecycle_state(user: User | None, customer: Customer, state: str, *, reason: str = "",
                        source: str = TransitionSource.MANUAL, lock_reason: str = "",
                        lock_until: date | None = None, ip: str | None = None,
                        via: str = "web") -> Customer:
    """Set the customer's lifecycle state by hand. With `lock_reason` the state is also
    locked (until `lock_until`, or until unlocked): the value refresh keeps it."""
    if state not in LifecycleState.values:
        raise ServiceError(_("Unknown lifecycle state."), field="state")
    if user is not None and not can(user, CHANGE, customer):
        raise NotPermitted(_("You may not change this customer."))
    lock_reason = (lock_reason or "").strip()
    if lock_until is not None and not lock_reason:
        raise ServiceError(_("Say why the state is locked: a lock needs a reason."),
                           field="lock_reason")
    if lock_until is not None and lock_until < timezone.localdate():
        raise ServiceError(_("A lock ends today or later, not on %(day)s.")
                           % {"day": lock_until.isoformat()}, field="lock_until")
    current = _locked(Customer, customer.pk)
    old = current.lifecycle_state
    [changes] = invariants.apply([(current, {"lifecycle_state": state})], by=user,
                                 reason=reason or _("Lifecycle state changed"), source=source)
    if changes:
        record(user, "customer.lifecycle", obj=current, ip=ip, via=via,
               detail={"from": old, "to": state, "reason": reason})
    if lock_reason:
        _lock_state(user, current, lock_reason, lock_until, ip=ip, via=via)
    return current


def _lock_state(user: User | None, customer: Customer, reason: str, until: date | None, *,
                ip: str | None, via: str) -> StateLock:
    now = timezone.now()
    # A new lock replaces the open one: the old one ends now, and stays on record.
    StateLock.objects.filter(customer=customer, unlocked_at__isnull=True).update(
        unlocked_at=now, unlocked_by=user)
    lock = StateLock.objects.create(customer=customer, reason=reason[:300], until=until,
                                    locked_at=now, locked_by=user)
    record(user, "customer.state_lock", obj=customer, ip=ip, via=via,
           detail={"state": customer.lifecycle_state, "reason": lock.reason,
                   "until": until.isoformat() if until else None})
    return lock


@transaction.atomic
def unlock_lifecycle_state(user: User, customer: Customer, *, ip: str | None = None,
                           via: str = "web") -> StateLock:
    """End the lock on the customer's lifecycle state: the next value refresh derives the
    state from behaviour again."""
    if not can(user, CHANGE, customer):
        raise NotPermitted(_("You may not change this customer."))
    lock = (StateLock.objects.select_for_update()
            .filter(customer=customer, unlocked_at__isnull=True).first())
    if lock is None:
        raise ServiceError(_("This customer's lifecycle state is not locked."))
    lock.unlocked_at, lock.unlocked_by = timezone.now(), user
    lock.save(update_fields=["unlocked_at", "unlocked_by"])
    record(user, "customer.state_unlock", obj=customer, ip=ip, via=via,
           detail={"state": customer.lifecycle_state, "reason": lock.reason,
                   "locked_by": lock.locked_by_id})
    return lock


@transaction.atomic
def delete_customer(user: User, customer: Customer, *, ip: str | None = None,
                    via: str = "web") -> None:
    if not can(user, DELETE, customer):
        raise NotPermitted(_("You may not delete this customer."))
    # Locked before anything that hangs off it is deleted: a value refresh writing scores
    # holds a key-share lock on every customer, so the deletion waits for it and then takes
    # the fresh scores along (kehu.analytics.data.present_customers).
    current = _locked(Customer, customer.pk)
    if current.transactions.exists():
        raise ServiceError(_("This customer has transactions and cannot be deleted; set its "
                             "state to churned or non-customer instead."))
    record(user, "customer.delete", obj=current, ip=ip, via=via, detail={"name": current.name})
    try:
        with transaction.atomic():
            invariants.remove([current], by=user, reason=_("Deleted"))
    except models.ProtectedError:
        # Records other apps keep for good (receivables) hold the customer.
        raise ServiceError(_("This customer has receivables and cannot be deleted; set its "
                             "state to churned or non-customer instead.")) from None


@transaction.atomic
def record_customer_view(user: User, customer: Customer, *, ip: str | None = None,
                         via: str = "web", part: str = "card",
                         detail: dict[str, Any] | None = None) -> None:
    """Reading a customer file is recorded (利用和借阅 is controlled and recorded): which
    part was read, and in `detail` which record of it, or which other customers the part
    named (a referral's); a read that only a loan allows names the loan."""
    if not can(user, VIEW, customer):
        raise NotPermitted(_("You may not see this customer."))
    detail = {"part": part, **(detail or {})}
    loan = loan_behind_view(user, customer)
    if loan is not None:
        detail["loan"] = loan.pk
    record(user, "customer.view", obj=customer, ip=ip, via=via, detail=detail)


@transaction.atomic
def confirm_customer_data(user: User, customer: Customer, *, ip: str | None = None,
                          via: str = "web") -> Customer:
    """The owner (or whoever may change the card) confirms that its key facts are still true:
    the card is no longer stale, and an open refresh task for it is done. The card's version
    is left alone, so that nobody's open edit form becomes stale because of it."""
    if not can(user, CHANGE, customer):
        raise NotPermitted(_("You may not change this customer."))
    current = _locked(Customer, customer.pk)
    now = timezone.now()
    current.confirmed_at, current.confirmed_by = now, user
    invariants.touch(current, by=user, reason=_("Data confirmed"),
                     fields=["confirmed_at", "confirmed_by"], at=now)
    closed = sum(count or 0 for _receiver, count in
                 signals.data_confirmed.send(sender=Customer, customer=current, user=user))
    record(user, "customer.confirm", obj=current, ip=ip, via=via,
           detail={"tasks_closed": closed})
    return current


# Contacts ---------------------------------------------------------------------------------

@transaction.atomic
def create_contact(user: User, customer: Customer, data: Mapping[str, Any], *,
                   ip: str | None = None, via: str = "web") -> Contact:
    if not can(user, CHANGE, customer):
        raise NotPermitted(_("You may not change this customer."))
    _check_sensitive(user, data, SENSITIVE_CONTACT_FIELDS)
    _check_fields(data, CONTACT_FIELDS)
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
    _check_fields(data, CONTACT_FIELDS)
    current = _locked(Contact, contact.pk)
    check_version(current, expected_version, _("contact"))
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
    signals.transaction_recorded.send(sender=Transaction, transaction=txn, user=user)
    return txn


@transaction.atomic
def delete_transaction(user: User, txn: Transaction, *, ip: str | None = None,
                       via: str = "web") -> None:
    if not can(user, CHANGE, txn.customer):
        raise NotPermitted(_("You may not change this customer."))
    record(user, "transaction.delete", obj=txn, ip=ip, via=via,
           detail={"amount": str(txn.amount), "date": txn.date.isoformat()})
    txn.delete()

