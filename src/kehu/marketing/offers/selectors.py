"""Reads of one-to-one offers: every one takes the user first and is scoped with
`restrict`, so that a list, a coupon or a send of a customer out of reach is simply absent.

`redemptions` is what campaign results count: the coupons redeemed by given customers
within a window (the campaigns part has scoped those customers already)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Prefetch, QuerySet, Sum

from kehu.core import jobs
from kehu.core.models import Job
from kehu.core.permissions import VIEW, restrict
from kehu.marketing.offers.mailing import JOB as MAILING_JOB
from kehu.marketing.offers.models import Coupon, OfferItem, OfferList, OfferSend


def offer_lists(user, action: str = VIEW) -> QuerySet[OfferList]:
    return restrict(OfferList.objects.select_related("customer", "built_by"), user, action)


def offer_lists_with_items(user) -> QuerySet[OfferList]:
    """Lists with their items, coupon and sends fetched in a fixed number of queries."""
    return offer_lists(user).select_related("coupon", "coupon__tier",
                                            "coupon__redeemed_transaction") \
        .prefetch_related(
            Prefetch("items", queryset=OfferItem.objects.select_related("product", "because")),
            Prefetch("sends", queryset=OfferSend.objects.select_related("by")))


def get_offer_list(user, pk: int) -> OfferList:
    """One list within the user's scope (OfferList.DoesNotExist otherwise)."""
    return offer_lists_with_items(user).get(pk=pk)


def coupons(user, action: str = VIEW) -> QuerySet[Coupon]:
    return restrict(Coupon.objects.select_related("customer", "tier", "redeemed_transaction"),
                    user, action)


@dataclass
class CustomerOffers:
    """The card's Offers tab: the latest list, the earlier ones, the customer's coupons."""

    latest: OfferList | None
    earlier: list[OfferList] = field(default_factory=list)
    coupons: list[Coupon] = field(default_factory=list)


def customer_offers(user, customer, earlier: int = 5) -> CustomerOffers:
    lists = list(offer_lists_with_items(user).filter(customer=customer)[:earlier + 1])
    return CustomerOffers(latest=lists[0] if lists else None, earlier=lists[1:],
                          coupons=list(coupons(user).filter(customer=customer)[:20]))


@dataclass(frozen=True)
class OfferListFilters:
    as_of: dt.date | None = None
    coupon: str = ""  # "", "with", "redeemed"


def filter_offer_lists(user, qs: QuerySet[OfferList], filters: OfferListFilters
                       ) -> QuerySet[OfferList]:
    if filters.as_of is not None:
        qs = qs.filter(as_of=filters.as_of)
    if filters.coupon == "with":
        qs = qs.filter(coupon__isnull=False)
    elif filters.coupon == "redeemed":
        qs = qs.filter(coupon__redeemed_transaction__isnull=False)
    return qs


def offer_list_rows(user, filters: OfferListFilters) -> QuerySet[OfferList]:
    """The offer lists page: lists in scope with their number of items, newest first."""
    return filter_offer_lists(user, offer_lists(user), filters).select_related(
        "coupon", "coupon__tier").annotate(item_count=Count("items")).order_by("-as_of", "-id")


@dataclass(frozen=True)
class OfferTotals:
    lists: int
    coupons: int
    redeemed: int
    discount: Decimal
    redeemed_revenue: Decimal


def offer_totals(user, since: dt.date) -> OfferTotals:
    """How the lists since `since` did, over the user's scope."""
    lists = offer_lists(user).filter(as_of__gte=since).count()
    issued = coupons(user).filter(valid_from__gte=since)
    redeemed = issued.filter(redeemed_transaction__isnull=False).aggregate(
        n=Count("id"), discount=Sum("discount_amount"),
        revenue=Sum("redeemed_transaction__amount"))
    return OfferTotals(lists, issued.count(), redeemed["n"] or 0,
                       redeemed["discount"] or Decimal("0"),
                       redeemed["revenue"] or Decimal("0"))


@dataclass(frozen=True)
class Redemption:
    customer_id: int
    transaction_id: int
    redeemed_on: dt.date
    code: str
    amount: Decimal  # the transaction's amount
    discount: Decimal


def redemptions(user, customer_ids: Iterable[int], start: dt.date, end: dt.date
                ) -> list[Redemption]:
    """The coupons these customers redeemed from `start` to `end` (inclusive), among the
    customers the user may see: what a campaign's results count as coupon responses."""
    rows = coupons(user).filter(customer_id__in=list(customer_ids),
                                redeemed_on__gte=start, redeemed_on__lte=end).values_list(
        "customer_id", "redeemed_transaction_id", "redeemed_on", "code",
        "redeemed_transaction__amount", "discount_amount").order_by("redeemed_on", "id")
    return [Redemption(*row) for row in rows]


def latest_mailing(user) -> Job | None:
    """The user's latest e-mailing of offer lists (its progress, then its counts)."""
    job = Job.objects.filter(kind=MAILING_JOB, user=user).order_by("-pk").first()
    return jobs.overlay(job) if job else None


def redemption_counts(user, customer_ids: Iterable[int], start: dt.date, end: dt.date
                      ) -> dict[int, tuple[int, Decimal]]:
    """Per customer, the coupons redeemed from `start` to `end` (inclusive) and the discount
    they gave: counts and sums, never codes, for a campaign's results, which add up all its
    contacts for everyone who may read the campaign (the caller checks that)."""
    ids = list(customer_ids)
    out: dict[int, tuple[int, Decimal]] = {}
    for i in range(0, len(ids), 5000):
        for customer_id, n, discount in (
                Coupon.objects.filter(customer_id__in=ids[i:i + 5000],
                                      redeemed_on__gte=start, redeemed_on__lte=end)
                .values("customer_id").order_by().annotate(
                    n=Count("pk"), discount=Sum("discount_amount"))
                .values_list("customer_id", "n", "discount")):
            out[customer_id] = (n, discount or Decimal(0))
    return out
