"""Writes of credit control: receivables, payments, credit incidents, credit-limit flags and
the overdue task. Each service checks that the user sees the sensitive tier and may change
the customer, writes in one transaction, and is audited without the figures (the audit log
says what was done to which customer; the amounts stay in the sensitive tier)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Min, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.accounts.models import User
from kehu.audit.services import record
from kehu.core import policy
from kehu.core.errors import NotPermitted, StaleVersion
from kehu.core.permissions import CHANGE, can
from kehu.customers.models import Customer, Transaction, TransactionKind
from kehu.sales.credit.figures import credit_check, overdue_total
from kehu.sales.credit.models import (
    CreditFlag,
    CreditIncident,
    FlagSubject,
    IncidentKind,
    Payment,
    PaymentMethod,
    Receivable,
)
from kehu.tasks.models import Task, TaskStatus, register_rule
from kehu.tasks.services import NewTask, close_rule_tasks, open_tasks

OVERDUE_ORIGIN = "credit:overdue"
DEFAULT_TERMS_DAYS = 30
RECEIVABLE_FIELDS = ("number", "issued_on", "due_on", "amount", "notes")

register_rule(OVERDUE_ORIGIN, gettext_lazy("Collect overdue payments"),
              gettext_lazy("Invoices of this customer are past their due date. Ask for "
                           "payment, and record it when it arrives: the task closes itself "
                           "once nothing is overdue."))


def _check(user: User, customer: Customer) -> None:
    if not policy.may_record_credit(user) or not can(user, CHANGE, customer):
        raise NotPermitted(_("You may not record credit data of this customer."))


def _money(value: Any, field: str) -> Decimal:
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: _("Enter a number.")}) from None
    if not result.is_finite():
        raise ValidationError({field: _("Enter a number.")})
    if result <= 0:
        raise ValidationError({field: _("Must be more than zero.")})
    if result != result.quantize(Decimal("0.01")):
        raise ValidationError({field: _("At most two decimal places.")})
    if result >= Decimal("1e12"):
        raise ValidationError({field: _("This amount is too large.")})
    return result


def _clean(obj, exclude: Iterable[str] = ()) -> None:
    obj.full_clean(exclude=list(exclude), validate_constraints=False)


def _locked(receivable: Receivable) -> Receivable:
    return Receivable.objects.select_for_update().select_related("customer").get(
        pk=receivable.pk)


def _check_dates(issued_on: dt.date, due_on: dt.date) -> None:
    if due_on < issued_on:
        raise ValidationError({"due_on": _("The due date cannot be before the invoice date.")})


def _transaction_of(customer: Customer, transaction_id: int | None) -> Transaction | None:
    if transaction_id is None:
        return None
    txn = Transaction.objects.filter(pk=transaction_id, customer=customer).first()
    if txn is None:
        raise ValidationError({"transaction": _("No such transaction of this customer.")})
    return txn


def _sync_overdue_task(customer: Customer, user: User | None, today: dt.date) -> None:
    if overdue_total(customer, today) == 0:
        close_rule_tasks(customer.pk, OVERDUE_ORIGIN, by=user,
                         note=_("Nothing is overdue any more."))


@transaction.atomic
def create_receivable(user: User, customer: Customer, *, issued_on: dt.date, amount: Any,
                      due_on: dt.date | None = None, number: str = "", notes: str = "",
                      transaction_id: int | None = None, ip: str | None = None,
                      via: str = "web") -> Receivable:
    """Record an invoice the customer owes. Without a due date, the customer's payment terms
    (or 30 days) from the invoice date."""
    _check(user, customer)
    if due_on is None:
        days = customer.payment_terms_days if customer.payment_terms_days is not None \
            else DEFAULT_TERMS_DAYS
        due_on = issued_on + dt.timedelta(days=days)
    _check_dates(issued_on, due_on)
    number = (number or "").strip()
    if number and Receivable.objects.filter(customer=customer, number=number).exists():
        raise ValidationError({"number": _(
            "This customer already has a receivable numbered “%(number)s”.")
            % {"number": number}})
    receivable = Receivable(customer=customer, number=number, issued_on=issued_on,
                            due_on=due_on, amount=_money(amount, "amount"), notes=notes or "",
                            transaction=_transaction_of(customer, transaction_id),
                            created_by=user, updated_by=user)
    _clean(receivable, exclude=["customer", "transaction", "created_by", "updated_by"])
    receivable.save()
    record(user, "receivable.create", obj=receivable, ip=ip, via=via,
           detail={"receivable": receivable.pk, "number": number})
    return receivable


@transaction.atomic
def update_receivable(user: User, receivable: Receivable, data: Mapping[str, Any], *,
                      version: int | None = None, ip: str | None = None,
                      via: str = "web") -> Receivable:
    """Correct an invoice's number, dates, amount or notes. A stale version is refused; the
    amount cannot fall below what has been paid."""
    current = _locked(receivable)
    _check(user, current.customer)
    unknown = set(data) - set(RECEIVABLE_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("This field cannot be changed.")})
    if version is not None and int(version) != current.version:
        who = str(current.updated_by) if current.updated_by else _("someone")
        raise StaleVersion(
            _("This receivable was changed by %(user)s since you opened it. Reload to see "
              "their changes, then make yours again.") % {"user": who},
            current_version=current.version, changed_by=who)
    changed = []
    for name, value in data.items():
        if name == "amount":
            value = _money(value, "amount")
        if name in ("number", "notes"):
            value = (value or "").strip()
        if getattr(current, name) != value:
            setattr(current, name, value)
            changed.append(name)
    _check_dates(current.issued_on, current.due_on)
    if current.amount < current.paid:
        raise ValidationError({"amount": _(
            "The amount cannot be less than what has been paid against it.")})
    if "number" in changed and current.number and Receivable.objects.filter(
            customer=current.customer, number=current.number).exclude(pk=current.pk).exists():
        raise ValidationError({"number": _(
            "This customer already has a receivable numbered “%(number)s”.")
            % {"number": current.number}})
    if not changed:
        return current
    _settle(current)
    current.version += 1
    current.updated_by = user
    _clean(current, exclude=["customer", "transaction", "created_by", "updated_by"])
    current.save()
    _sync_overdue_task(current.customer, user, timezone.localdate())
    record(user, "receivable.update", obj=current, ip=ip, via=via,
           detail={"receivable": current.pk, "fields": sorted(changed)})
    return current


def _settle(receivable: Receivable) -> None:
    """Set paid and paid_on from the payments: paid in full on the day of the latest."""
    totals = receivable.payments.aggregate(paid=Sum("amount"))
    receivable.paid = totals["paid"] or Decimal("0")
    if receivable.paid >= receivable.amount:
        receivable.paid_on = receivable.payments.order_by("-paid_on").values_list(
            "paid_on", flat=True).first()
    else:
        receivable.paid_on = None


@transaction.atomic
def record_payment(user: User, receivable: Receivable, *, paid_on: dt.date, amount: Any,
                   method: str = PaymentMethod.TRANSFER, reference: str = "",
                   ip: str | None = None, via: str = "web") -> Payment:
    """Record money received against a receivable; partial payments are allowed, more than
    is open is refused. Settling the last overdue invoice closes the owner's task."""
    current = _locked(receivable)
    _check(user, current.customer)
    if method not in PaymentMethod.values:
        raise ValidationError({"method": _("Unknown payment method.")})
    if paid_on > timezone.localdate():
        raise ValidationError({"paid_on": _("Must not be later than today.")})
    amount_d = _money(amount, "amount")
    if amount_d > current.open_amount:
        raise ValidationError({"amount": _(
            "More than is open on this receivable (%(open)s).") % {"open": current.open_amount}})
    payment = Payment(receivable=current, paid_on=paid_on, amount=amount_d, method=method,
                      reference=(reference or "").strip(), recorded_by=user)
    _clean(payment, exclude=["receivable", "recorded_by"])
    payment.save()
    _settle(current)
    current.version += 1
    current.updated_by = user
    current.save(update_fields=["paid", "paid_on", "version", "updated_by", "updated_at"])
    receivable.paid, receivable.paid_on, receivable.version = (current.paid, current.paid_on,
                                                               current.version)
    _sync_overdue_task(current.customer, user, timezone.localdate())
    record(user, "receivable.payment", obj=current, ip=ip, via=via,
           detail={"receivable": current.pk, "payment": payment.pk})
    return payment


@transaction.atomic
def record_credit_incident(user: User, customer: Customer, *, kind: str,
                           occurred_on: dt.date, description: str, evidence: str = "",
                           ip: str | None = None, via: str = "web") -> CreditIncident:
    """A credit incident (late payment, dumping below price, 窜货 …) with its evidence: a
    reference to where the proof is kept."""
    _check(user, customer)
    if kind not in IncidentKind.values:
        raise ValidationError({"kind": _("Unknown kind of incident.")})
    if occurred_on > timezone.localdate():
        raise ValidationError({"occurred_on": _("Must not be later than today.")})
    incident = CreditIncident(customer=customer, kind=kind, occurred_on=occurred_on,
                              description=(description or "").strip(),
                              evidence=(evidence or "").strip(), recorded_by=user)
    _clean(incident, exclude=["customer", "recorded_by"])
    incident.save()
    record(user, "credit_incident.create", obj=incident, ip=ip, via=via,
           detail={"incident": incident.pk, "kind": kind})
    return incident


# Credit-limit flags ------------------------------------------------------------------------

FLAGGED_KINDS = {TransactionKind.ORDER: FlagSubject.ORDER,
                 TransactionKind.INVOICE: FlagSubject.INVOICE}


@transaction.atomic
def flag_transaction(user: User | None, txn: Transaction) -> CreditFlag | None:
    """Flag a new order or invoice that takes the customer's exposure over the credit limit.
    It warns and does not block: the order was taken (kehu records what happened, often
    after the ERP did); the flag puts the figures in front of whoever decides on credit."""
    subject = FLAGGED_KINDS.get(txn.kind)
    if subject is None or txn.amount <= 0:
        return None
    check = credit_check(txn.customer, txn.amount)
    if not check.over_limit:
        return None
    flag = CreditFlag.objects.create(
        customer=txn.customer, subject=subject, transaction=txn, reference=txn.number,
        amount=txn.amount, open_receivables=check.open_receivables,
        credit_limit=check.credit_limit, created_by=user)
    record(user, "credit.flag", obj=flag, via="system", detail={"flag": flag.pk})
    return flag


@transaction.atomic
def flag_imported_transactions(user: User, id_range: tuple[int, int],
                               reference: str = "") -> int:
    """After an import of transactions (ids within `id_range`, written by `user`): one flag
    per customer whose imported orders and invoices together take its exposure over its
    credit limit. Only customers with a limit are looked at."""
    rows = (Transaction.objects.filter(
        pk__range=id_range, created_by=user, customer__credit_limit__isnull=False,
        amount__gt=0, kind__in=list(FLAGGED_KINDS))
        .values("customer").annotate(total=Sum("amount"), first=Min("pk")).order_by("customer"))
    made = 0
    for row in rows:
        customer = Customer.objects.get(pk=row["customer"])
        check = credit_check(customer, row["total"])
        if check.over_limit:
            flag = CreditFlag.objects.create(
                customer=customer, subject=FlagSubject.IMPORT, reference=reference[:200],
                # The customer's first transaction of the file: undoing the import removes
                # the flag with it.
                transaction_id=row["first"], amount=row["total"],
                open_receivables=check.open_receivables, credit_limit=check.credit_limit,
                created_by=user)
            record(user, "credit.flag", obj=flag, via="system", detail={"flag": flag.pk})
            made += 1
    return made


@transaction.atomic
def resettle_receivables(user: User | None, receivable_ids) -> int:
    """Set paid and paid-in-full dates of receivables from their payments again, after
    payments were imported or an import of payments was undone; close the overdue tasks of
    customers with nothing overdue any more."""
    today = timezone.localdate()
    customers = set()
    done = 0
    for receivable in Receivable.objects.select_for_update().select_related("customer").filter(
            pk__in=list(receivable_ids)).order_by("pk"):
        before = (receivable.paid, receivable.paid_on)
        _settle(receivable)
        if (receivable.paid, receivable.paid_on) != before:
            receivable.version += 1
            receivable.save(update_fields=["paid", "paid_on", "version", "updated_at"])
            done += 1
        customers.add(receivable.customer)
    for customer in customers:
        _sync_overdue_task(customer, user, today)
    return done


@transaction.atomic
def flag_opportunity(user: User | None, customer: Customer, amount: Any,
                     reference: str = "") -> CreditFlag | None:
    """For the pipeline: flag an opportunity whose amount would take the customer's exposure
    over the credit limit (shown to the sensitive tier on the card and the board)."""
    check = credit_check(customer, amount)
    if not check.over_limit:
        return None
    flag = CreditFlag.objects.create(
        customer=customer, subject=FlagSubject.OPPORTUNITY, reference=reference[:200],
        amount=check.extra_amount, open_receivables=check.open_receivables,
        credit_limit=check.credit_limit, created_by=user)
    record(user, "credit.flag", obj=flag, via="system", detail={"flag": flag.pk})
    return flag


# The daily overdue check ----------------------------------------------------------------------

@transaction.atomic
def open_overdue_tasks(today: dt.date) -> int:
    """Give the owner of every customer with an overdue receivable a task to collect it, and
    close the tasks of customers with nothing overdue any more. Returns how many opened. The
    task names the invoices and their due dates, not the amounts: the owner may not see the
    sensitive tier."""
    overdue = (Receivable.objects.filter(paid__lt=F("amount"), due_on__lt=today)
               .select_related("customer").order_by("customer_id", "due_on", "id"))
    by_customer: dict[int, list[Receivable]] = {}
    for r in overdue:
        by_customer.setdefault(r.customer_id, []).append(r)
    new = []
    for rows in by_customer.values():
        customer = rows[0].customer
        names = ", ".join(r.number or f"#{r.pk}" for r in rows[:10])
        more = len(rows) - 10
        reason = _("Overdue since %(date)s: %(invoices)s") % {
            "date": rows[0].due_on.isoformat(), "invoices": names}
        if more > 0:
            reason += " " + _("and %(n)d more") % {"n": more}
        new.append(NewTask(customer_id=customer.pk, assignee_id=customer.owner_id,
                           title=_("Collect overdue payments"), origin=OVERDUE_ORIGIN,
                           reason=reason, due_on=today))
    opened = open_tasks(new)
    stale = (Task.objects.filter(origin=OVERDUE_ORIGIN, status=TaskStatus.OPEN)
             .exclude(customer_id__in=list(by_customer)).values_list("customer_id", flat=True))
    for customer_id in list(stale):
        close_rule_tasks(customer_id, OVERDUE_ORIGIN, by=None,
                         note=_("Nothing is overdue any more."))
    return opened


