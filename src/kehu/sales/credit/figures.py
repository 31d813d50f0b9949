"""The figures of credit control, computed from receivables and payments; no user, no scope:
kehu.sales.credit.selectors reads what a user may see and hands it here.

The figures, defined once here:
- open: what is still owed on a receivable (amount − paid); the customer's open receivables
  are the sum over all its receivables.
- overdue: the open amount of receivables whose due date has passed (due before today).
- ageing: the open amounts by days past due — current (not yet due), 1–30, 31–60, 61–90,
  over 90.
- exposure: open receivables plus the amount of a new order or opportunity. Open
  opportunities are NOT added: they are uncertain, and counting the whole pipeline would flag
  every active customer; the check of one opportunity adds that opportunity's amount.
- punctuality over the last 12 months: of the receivables due in the 365 days up to today,
  the share paid in full by the due date, and the average days late of those that were not
  (paid late: days from due date to the settling payment; still open: days until today).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, QuerySet, Sum

from kehu.sales.credit.models import Receivable

ZERO = Decimal("0.00")
# Ageing buckets: (code, first day past due, last day past due or None).
BUCKETS: tuple[tuple[str, int | None, int | None], ...] = (
    ("current", None, 0), ("1-30", 1, 30), ("31-60", 31, 60), ("61-90", 61, 90),
    ("90+", 91, None),
)
BUCKET_CODES = tuple(code for code, _first, _last in BUCKETS)
PUNCTUALITY_DAYS = 365


def in_bucket(queryset: QuerySet[Receivable], bucket: str, today: dt.date) -> QuerySet:
    """Open receivables of `queryset` in one ageing bucket on `today`."""
    for code, first, last in BUCKETS:
        if code == bucket:
            qs = queryset.filter(paid__lt=F("amount"))
            if first is not None:
                qs = qs.filter(due_on__lte=today - dt.timedelta(days=first))
            if last is not None:
                qs = qs.filter(due_on__gte=today - dt.timedelta(days=last))
            return qs
    raise ValueError(f"unknown ageing bucket {bucket!r}")


def bucket_of(days_past_due: int) -> str:
    for code, first, last in BUCKETS:
        if (first is None or days_past_due >= first) and (last is None or days_past_due <= last):
            return code
    raise AssertionError(days_past_due)


def open_total(customer) -> Decimal:
    total = Receivable.objects.filter(customer=customer, paid__lt=F("amount")).aggregate(
        s=Sum(F("amount") - F("paid")))["s"]
    return total or ZERO


def open_totals(customer_ids) -> dict[int, Decimal]:
    """Open receivables of many customers in one query (a board of opportunities)."""
    rows = (Receivable.objects.filter(customer_id__in=list(customer_ids), paid__lt=F("amount"))
            .order_by().values("customer_id").annotate(s=Sum(F("amount") - F("paid"))))
    return {r["customer_id"]: r["s"] or ZERO for r in rows}


@dataclass(frozen=True)
class CreditCheck:
    """Whether a new amount (an order, an opportunity) would take the customer over the
    credit limit. Without a limit nothing is over."""

    credit_limit: Decimal | None
    open_receivables: Decimal
    extra_amount: Decimal

    @property
    def exposure(self) -> Decimal:
        return self.open_receivables + self.extra_amount

    @property
    def over_limit(self) -> bool:
        return self.credit_limit is not None and self.exposure > self.credit_limit

    @property
    def over_by(self) -> Decimal:
        return max(ZERO, self.exposure - self.credit_limit) if self.credit_limit is not None \
            else ZERO

    @property
    def headroom(self) -> Decimal | None:
        return None if self.credit_limit is None else self.credit_limit - self.exposure


def credit_check(customer, extra_amount) -> CreditCheck:
    """The exposure (open receivables + `extra_amount`) against the customer's credit limit.
    Not a read a user sees by itself: whoever shows its figures checks may_see_credit (the
    flag it leads to is written for everyone, shown only to the sensitive tier)."""
    extra = Decimal(str(extra_amount or 0))
    return CreditCheck(customer.credit_limit, open_total(customer), max(extra, ZERO))


@dataclass(frozen=True)
class Punctuality:
    due: int  # receivables due in the period
    on_time: int  # of them, paid in full by the due date
    late: int
    average_days_late: Decimal | None  # over the late ones

    @property
    def share_on_time(self) -> Decimal | None:
        if not self.due:
            return None
        return (Decimal(self.on_time) * 100 / self.due).quantize(Decimal("1"))


def punctuality_of(rows: list[Receivable], today: dt.date) -> Punctuality:
    """Punctuality over the receivables due in the PUNCTUALITY_DAYS up to `today`."""
    start = today - dt.timedelta(days=PUNCTUALITY_DAYS)
    due = [r for r in rows if start < r.due_on < today or (r.due_on == today and r.paid_on)]
    on_time, days_late = 0, []
    for r in due:
        if r.paid_on is not None and r.paid_on <= r.due_on:
            on_time += 1
        else:
            settled = r.paid_on if r.paid_on is not None else today
            days_late.append((settled - r.due_on).days)
    average = (Decimal(sum(days_late)) / len(days_late)).quantize(Decimal("0.1")) \
        if days_late else None
    return Punctuality(len(due), on_time, len(days_late), average)


def overdue_total(customer, today: dt.date) -> Decimal:
    total = Receivable.objects.filter(customer=customer, paid__lt=F("amount"),
                                      due_on__lt=today).aggregate(
        s=Sum(F("amount") - F("paid")))["s"]
    return total or ZERO
