"""Reads of credit control: every one takes the user first, is scoped with `restrict`, and
answers nothing at all to a user who may not see the sensitive tier (policy.may_see_credit).
The figures themselves are defined in kehu.sales.credit.figures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import policy
from kehu.core.errors import NotPermitted
from kehu.core.permissions import VIEW, restrict
from kehu.sales.credit.figures import (  # noqa: F401 — credit_check is read from here too
    BUCKET_CODES,
    ZERO,
    CreditCheck,
    Punctuality,
    bucket_of,
    credit_check,
    punctuality_of,
)
from kehu.sales.credit.models import CreditFlag, CreditIncident, Payment, Receivable


def _none(model) -> QuerySet:
    return model.objects.none()


def receivables(user, action: str = VIEW) -> QuerySet[Receivable]:
    if not policy.may_see_credit(user):
        return _none(Receivable)
    return restrict(Receivable.objects.select_related("customer", "customer__owner",
                                                      "transaction"), user, action)


def payments(user, action: str = VIEW) -> QuerySet[Payment]:
    if not policy.may_see_credit(user):
        return _none(Payment)
    return restrict(Payment.objects.select_related("recorded_by"), user, action)


def credit_incidents(user, action: str = VIEW) -> QuerySet[CreditIncident]:
    if not policy.may_see_credit(user):
        return _none(CreditIncident)
    return restrict(CreditIncident.objects.select_related("recorded_by"), user, action)


def credit_flags(user, action: str = VIEW) -> QuerySet[CreditFlag]:
    if not policy.may_see_credit(user):
        return _none(CreditFlag)
    return restrict(CreditFlag.objects.select_related("transaction", "created_by"), user,
                    action)


def open_receivables(user) -> QuerySet[Receivable]:
    return receivables(user).filter(paid__lt=F("amount"))


@dataclass
class CreditSummary:
    customer: object
    credit_limit: Decimal | None
    payment_terms_days: int | None
    open_total: Decimal
    overdue_total: Decimal
    ageing: list[tuple[str, Decimal, int]]  # (bucket, open amount, how many)
    punctuality: Punctuality
    receivables: list[Receivable] = field(default_factory=list)
    incidents: list[CreditIncident] = field(default_factory=list)
    flags: list[CreditFlag] = field(default_factory=list)

    @property
    def check(self) -> CreditCheck:
        return CreditCheck(self.credit_limit, self.open_total, ZERO)


def credit_summary(user, customer, today: dt.date | None = None) -> CreditSummary | None:
    """Everything the card's credit tab shows, or None for a user who may not see it."""
    if not policy.may_see_credit(user):
        return None
    today = today or timezone.localdate()
    rows = list(receivables(user).filter(customer=customer).prefetch_related("payments")
                .order_by("-due_on", "-id"))
    sums = {code: [ZERO, 0] for code in BUCKET_CODES}
    for r in rows:
        if r.open_amount > 0:
            bucket = bucket_of((today - r.due_on).days)
            sums[bucket][0] += r.open_amount
            sums[bucket][1] += 1
    open_total = sum((s for s, _n in sums.values()), ZERO)
    overdue_total = open_total - sums["current"][0]
    return CreditSummary(
        customer=customer, credit_limit=customer.credit_limit,
        payment_terms_days=customer.payment_terms_days, open_total=open_total,
        overdue_total=overdue_total,
        ageing=[(code, sums[code][0], sums[code][1]) for code in BUCKET_CODES],
        punctuality=punctuality_of(rows, today), receivables=rows,
        incidents=list(credit_incidents(user).filter(customer=customer)),
        flags=list(credit_flags(user).filter(customer=customer)[:20]))




def get_receivable(user, pk: int, action: str = VIEW) -> Receivable:
    """One receivable within the user's scope (Receivable.DoesNotExist otherwise, so that
    ids out of reach answer like missing ones); NotPermitted for a user in whose scope it is
    but who may not see the sensitive tier."""
    found = restrict(Receivable.objects.select_related("customer", "transaction"), user,
                     action).get(pk=pk)
    if not policy.may_see_credit(user):
        raise NotPermitted(_("Receivables are in the sensitive tier, which you may not see."))
    return found


def require_credit(user) -> None:
    """Refuse a user who may not see the sensitive tier (an API list, a report)."""
    if not policy.may_see_credit(user):
        raise NotPermitted(_("Receivables are in the sensitive tier, which you may not see."))
