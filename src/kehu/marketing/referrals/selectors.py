"""Reads of referrals, limited to the customers the user may see: the share of new
customers who came by referral, month by month, and the referrals with their rewards."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.db.models import Exists, Min, OuterRef, QuerySet
from django.utils import timezone

from kehu.analytics.models import Referral
from kehu.core.permissions import VIEW, restrict
from kehu.customers.models import Customer, Transaction, TransactionKind
from kehu.marketing.referrals.models import ReferralCode, ReferralReward


@dataclass
class MonthShare:
    month: dt.date
    new: int
    referred: int

    @property
    def share(self) -> float | None:
        return self.referred / self.new if self.new else None

    @property
    def percent(self) -> int:
        return round(100 * (self.share or 0))


@dataclass
class ReferralShare:
    months: list[MonthShare]
    new: int
    referred: int
    customer_ids: list[int]

    @property
    def share(self) -> float | None:
        return self.referred / self.new if self.new else None

    @property
    def percent(self) -> int:
        return round(100 * (self.share or 0))


def _month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _months_back(today: dt.date, n: int) -> list[dt.date]:
    months, m = [], _month(today)
    for _i in range(n):
        months.append(m)
        m = _month(m - dt.timedelta(days=1))
    return months[::-1]


def referral_share(user, *, months: int = 12, today: dt.date | None = None) -> ReferralShare:
    """New customers of the last `months` months (including this one) — a customer is new
    in the month of its first purchase — and how many of them came by referral, among the
    customers the user may see.

    Each customer's first purchase is the one the latest value refresh found (stored with its
    scores, kehu.analytics), and for customers who had bought nothing by then, the first
    purchase dated after it: a few indexed reads instead of grouping every purchase of every
    customer who bought in the window, which takes most of a minute at a million customers
    (the value dashboard shows this figure). Before the first refresh, the purchases are
    grouped."""
    from kehu.analytics.selectors import latest_refresh

    today = today or timezone.localdate()
    span = _months_back(today, months)
    run = latest_refresh()
    if run is None:
        firsts = _first_purchases_grouped(user, span[0], today)
    else:
        firsts = _first_purchases_after_refresh(user, span[0], today, run.as_of)
    new, referred, ids = Counter(), Counter(), []
    for pk, day, came_by_referral in firsts:
        new[_month(day)] += 1
        referred[_month(day)] += bool(came_by_referral)
        ids.append(pk)
    rows = [MonthShare(m, new[m], referred[m]) for m in span]
    return ReferralShare(rows, sum(new.values()), sum(referred.values()), ids)


BUYING = [TransactionKind.ORDER, TransactionKind.INVOICE]


def _came_by_referral(field: str = "customer") -> Exists:
    return Exists(Referral.objects.filter(referred=OuterRef(field)))


def _first_purchases_grouped(user, start: dt.date, today: dt.date):
    """(customer, first purchase, referred) of the customers whose first purchase is in
    [start, today], from the purchases themselves."""
    # Only customers who bought in the window can be new in it: their purchases alone are
    # grouped, not every purchase ever made.
    in_window = restrict(Transaction.objects.filter(kind__in=BUYING, date__gte=start,
                                                    date__lte=today), user, VIEW)
    return (Transaction.objects.filter(kind__in=BUYING,
                                       customer_id__in=in_window.values("customer_id"))
            .values("customer")
            .annotate(first=Min("date"))
            .filter(first__gte=start, first__lte=today)
            .annotate(referred=_came_by_referral())
            .values_list("customer", "first", "referred"))


def _first_purchases_after_refresh(user, start: dt.date, today: dt.date, as_of: dt.date):
    """As _first_purchases_grouped, with the first purchases up to `as_of` read from the
    value refresh of that day, and those after it from the purchases dated after it of the
    customers who had not bought by then."""
    from kehu.analytics.models import CustomerValue

    known = list(restrict(CustomerValue.objects.filter(
        first_purchase__gte=start, first_purchase__lte=min(today, as_of)), user, VIEW)
        .annotate(referred=_came_by_referral("customer"))
        .values_list("customer", "first_purchase", "referred"))
    if today <= as_of:
        return known
    had_bought = CustomerValue.objects.filter(customer=OuterRef("customer"),
                                              first_purchase__isnull=False)
    later = (restrict(Transaction.objects.filter(kind__in=BUYING, date__gt=as_of,
                                                 date__lte=today), user, VIEW)
             .filter(~Exists(had_bought))
             .values("customer")
             .annotate(first=Min("date"))
             .filter(first__gte=start)
             .annotate(referred=_came_by_referral())
             .values_list("customer", "first", "referred"))
    return known + list(later)


@dataclass
class ReferralLine:
    """A referral as the reader sees it: `other` is the customer on the other side (the
    referrer in a list of new customers, the new customer on a referrer's card), None when
    out of the reader's reach."""

    referral: Referral
    other: Customer | None
    reward: ReferralReward | None


def recent_referrals(user, limit: int = 50) -> list[ReferralLine]:
    """The latest referrals whose new customer the user may see; the referrer is named
    only when the user may see it too."""
    visible = restrict(Customer.objects.all(), user, VIEW)
    rows = list(Referral.objects.filter(referred__in=visible)
                .select_related("referred", "referrer").order_by("-referred_on", "-id")
                [:limit])
    seen = set(visible.filter(pk__in=[r.referrer_id for r in rows])
               .values_list("pk", flat=True))
    rewards = {r.referral_id: r for r in ReferralReward.objects.filter(
        referral__in=[r.pk for r in rows])}
    return [ReferralLine(r, r.referrer if r.referrer_id in seen else None, rewards.get(r.pk))
            for r in rows]


def rewards_of(user, customer: Customer) -> QuerySet[ReferralReward]:
    return restrict(ReferralReward.objects.select_related("referral", "referral__referred"),
                    user, VIEW).filter(customer=customer)


def code_of(user, customer: Customer) -> ReferralCode | None:
    return restrict(ReferralCode.objects.all(), user, VIEW).filter(
        customer=customer).order_by("created_at", "id").first()


def referrals_made_by(user, customer: Customer) -> list[ReferralLine]:
    """The customers this customer brought, with their rewards; one the user may not see
    is shown without its name."""
    rows = list(Referral.objects.filter(referrer=customer).select_related("referred")
                .order_by("-referred_on", "-id")[:100])
    seen = set(restrict(Customer.objects.filter(pk__in=[r.referred_id for r in rows]),
                        user, VIEW).values_list("pk", flat=True))
    rewards = {r.referral_id: r for r in ReferralReward.objects.filter(
        referral__in=[r.pk for r in rows])}
    return [ReferralLine(r, r.referred if r.referred_id in seen else None, rewards.get(r.pk))
            for r in rows]
