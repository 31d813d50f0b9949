"""What goes on each customer's offer list: read from the database, computed by kehu.value
(the rhythm per product in kehu.value.rhythm, the item-to-item co-purchase table in
kehu.value.cross_sell), written by kehu.marketing.offers.services.

Who gets a list: the customers whose net purchases (orders and invoices less returns) in the
last `spend_weeks` weeks reach the spend threshold, who have no list younger than
`every_weeks` weeks. What is on it:
  1. the products they are due to buy again by their own rhythm within the next
     `every_weeks` weeks (soonest due first), and
  2. the products customers who bought the same products also bought, that they have never
     bought nor returned (the product-to-product table of the latest value refresh,
     analytics.ProductAffinity; built from the order lines when no refresh has made one),
each at its current price; products no longer sold are left out.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from django.db.models import Sum

from kehu.analytics.affinity import compute as compute_affinity
from kehu.analytics.models import CustomerValue, ProductAffinity
from kehu.customers.models import Product, Transaction, TransactionKind, TransactionLine
from kehu.marketing.offers.models import CouponTier, OfferList, OfferSettings
from kehu.value.cross_sell import Affinity, cross_sell
from kehu.value.rhythm import due_again

CHUNK = 1000


@dataclass(frozen=True)
class PlannedItem:
    kind: str  # ItemKind
    product: Product
    price: Decimal
    last_bought: dt.date | None = None
    rhythm_days: int | None = None
    purchase_days: int | None = None
    due_on: dt.date | None = None
    because: Product | None = None
    share: float | None = None
    co_buyers: int | None = None


@dataclass
class Plan:
    """One customer's list as it would be built."""

    customer_id: int
    spend: Decimal
    items: list[PlannedItem] = field(default_factory=list)
    tier: CouponTier | None = None
    loyalty_index: float | None = None
    segment: str = ""


def spend_since(customer_ids: Iterable[int] | None, since: dt.date, as_of: dt.date
                ) -> dict[int, Decimal]:
    """Net purchases per customer from `since` to `as_of` (returns are negative)."""
    qs = Transaction.objects.filter(date__gt=since, date__lte=as_of)
    if customer_ids is not None:
        qs = qs.filter(customer_id__in=list(customer_ids))
    return {row["customer_id"]: row["total"] or Decimal("0")
            for row in qs.values("customer_id").annotate(total=Sum("amount"))
            .order_by("customer_id")}


def eligible(customers_qs, settings: OfferSettings, as_of: dt.date) -> dict[int, Decimal]:
    """The customers of `customers_qs` due a new list on `as_of`, with their spend."""
    since = as_of - dt.timedelta(weeks=settings.spend_weeks)
    recent = as_of - dt.timedelta(weeks=settings.every_weeks)
    spend = (Transaction.objects.filter(customer__in=customers_qs.values("pk"),
                                        date__gt=since, date__lte=as_of)
             .values("customer_id").annotate(total=Sum("amount"))
             .filter(total__gte=settings.spend_threshold).order_by("customer_id"))
    found = {row["customer_id"]: row["total"] for row in spend}
    if not found:
        return {}
    has_list = set(OfferList.objects.filter(customer_id__in=list(found), as_of__gt=recent)
                   .values_list("customer_id", flat=True))
    return {pk: total for pk, total in found.items() if pk not in has_list}


def _affinity(as_of: dt.date) -> Affinity:
    rows = list(ProductAffinity.objects.values_list(
        "product_id", "related_id", "co_buyers", "buyers", "similarity", "confidence", "lift"))
    if not rows:
        return compute_affinity(as_of)
    cols = list(zip(*rows, strict=True))
    return Affinity(*(np.asarray(c, dtype=np.int64) for c in cols[:4]),
                    *(np.asarray(c, dtype=float) for c in cols[4:7]), n_buyers=0)


def tier_for(tiers: list[CouponTier], loyalty: float | None, segment: str
             ) -> CouponTier | None:
    """The first tier (highest loyalty first) whose loyalty index and segments the customer
    meets; none without a loyalty index."""
    if loyalty is None:
        return None
    for tier in tiers:
        if loyalty >= tier.min_loyalty and (not tier.segment_list or
                                            segment in tier.segment_list):
            return tier
    return None


def plan(spend: dict[int, Decimal], settings: OfferSettings, as_of: dt.date) -> list[Plan]:
    """The lists of the customers in `spend`, in customer order."""
    if not spend:
        return []
    table = _affinity(as_of)
    products = {p.pk: p for p in Product.objects.all()}
    active = [pk for pk, p in products.items() if p.active]
    tiers = list(CouponTier.objects.filter(active=True))
    horizon = settings.every_weeks * 7
    plans = []
    ids = sorted(spend)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        rows = list(TransactionLine.objects.filter(
            transaction__customer_id__in=chunk, product__isnull=False,
            transaction__date__lte=as_of).values_list(
            "transaction__customer_id", "product_id", "transaction__date",
            "transaction__kind", "quantity"))
        bought: dict[int, set[int]] = defaultdict(set)
        touched: dict[int, set[int]] = defaultdict(set)
        c, p, d = [], [], []
        for customer_id, product_id, day, kind, quantity in rows:
            touched[customer_id].add(product_id)
            if kind != TransactionKind.RETURN and quantity > 0:
                bought[customer_id].add(product_id)
                c.append(customer_id)
                p.append(product_id)
                d.append(day.toordinal())
        due = due_again(c, p, d, as_of=as_of.toordinal(), horizon=horizon,
                        min_days=settings.min_purchase_days)
        due_by: dict[int, list[int]] = defaultdict(list)
        for i, customer_id in enumerate(due.customer.tolist()):
            due_by[customer_id].append(i)
        values = {v.customer_id: v for v in CustomerValue.objects.filter(
            customer_id__in=chunk).only("customer_id", "loyalty_index", "segment")}
        for customer_id in chunk:
            value = values.get(customer_id)
            loyalty = value.loyalty_index if value else None
            segment = value.segment if value else ""
            out = Plan(customer_id, spend[customer_id], loyalty_index=loyalty,
                       segment=segment, tier=tier_for(tiers, loyalty, segment))
            for i in due_by.get(customer_id, []):
                if len(out.items) >= settings.due_items:
                    break
                product = products[int(due.product[i])]
                if not product.active:
                    continue
                out.items.append(PlannedItem(
                    "due", product, product.unit_price,
                    last_bought=dt.date.fromordinal(int(due.last[i])),
                    rhythm_days=int(round(float(due.rhythm[i]))),
                    purchase_days=int(due.days[i]),
                    due_on=dt.date.fromordinal(int(due.due[i]))))
            if settings.suggested_items and bought.get(customer_id):
                for candidate in cross_sell(bought[customer_id], table,
                                            exclude=touched[customer_id], eligible=active,
                                            limit=settings.suggested_items):
                    product = products[candidate.product]
                    out.items.append(PlannedItem(
                        "suggested", product, product.unit_price,
                        because=products.get(candidate.because), share=candidate.share,
                        co_buyers=candidate.co_buyers))
            plans.append(out)
    return plans

