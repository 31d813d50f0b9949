"""A small supermarket, built by hand, whose offer lists are known in advance.

Today is `today`. Li Na (the customer under test, owned by sales1 in team East):
  - milk every 7 days, six times, the last 5 days ago: due again in 2 days;
  - bread every 14 days, three times, the last 70 days ago: given up, not offered;
  - tea every 30 days, four times, the last 3 days ago: due after the two-week horizon;
  - coffee on two days: no rhythm yet;
  - a mug bought and returned.
Four other customers bought coffee and filters (three of them also the mug and a grinder
that is no longer sold); four bought only tea. So among coffee buyers 4 of 5 bought filters:
filters are suggested to Li Na "because of coffee", 80 %, and nothing else is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone


@dataclass
class Shop:
    today: dt.date
    li: object
    products: dict
    others: list


def _product(code: str, name: str, price: str, active: bool = True):
    from kehu.customers.models import Product

    return Product.objects.create(code=code, name=name, unit_price=Decimal(price),
                                  unit_cost=Decimal(price) / 2, active=active)


def buy(admin, customer, day: dt.date, *products, kind: str = "order"):
    from kehu.customers.services import create_transaction

    return create_transaction(admin, customer, date=day, kind=kind,
                              lines=[{"product": p, "quantity": 1} for p in products])


def set_loyalty(customer, loyalty: float | None, segment: str = "") -> None:
    from kehu.analytics.models import CustomerValue, ValueRefresh

    refresh = ValueRefresh.objects.first() or ValueRefresh.objects.create(
        as_of=timezone.localdate(), status="done")
    CustomerValue.objects.update_or_create(customer=customer, defaults={
        "refresh": refresh, "loyalty_index": loyalty, "segment": segment})


def ensure_coupon_tiers() -> None:
    """The coupon tiers a new firm starts with (a data migration writes them; a test whose
    data is committed ends with a flush that removes them for the tests after it)."""
    from kehu.marketing.offers.models import DEFAULT_TIERS, CouponTier

    if CouponTier.objects.exists():
        return
    CouponTier.objects.bulk_create([
        CouponTier(name_en=en, name_zh=zh, min_loyalty=loyalty, segments=segments,
                   discount_percent=pct, min_order=Decimal(min_order), valid_days=days)
        for en, zh, loyalty, segments, pct, min_order, days in DEFAULT_TIERS])


@pytest.fixture
def shop(users, customers) -> Shop:
    from kehu.customers.services import create_customer

    ensure_coupon_tiers()
    admin = users["admin"]
    today = timezone.localdate()
    p = {
        "milk": _product("MILK", "Fresh milk 1 L", "3.50"),
        "bread": _product("BREAD", "Wholemeal bread", "2.00"),
        "tea": _product("TEA", "Green tea", "12.00"),
        "coffee": _product("COFFEE", "Coffee beans 500 g", "30.00"),
        "filters": _product("FILTERS", "Coffee filters", "5.00"),
        "mug": _product("MUG", "Coffee mug", "8.00"),
        "grinder": _product("GRINDER", "Hand grinder", "45.00", active=False),
    }
    li = create_customer(admin, {"name": "李娜 Li Na", "email": "li.na@example.com",
                                 "kind": "person"}, owner=users["sales1"])
    for weeks_ago in range(6):
        buy(admin, li, today - dt.timedelta(days=5 + 7 * weeks_ago), p["milk"])
    for n in range(3):
        buy(admin, li, today - dt.timedelta(days=70 + 14 * n), p["bread"])
    for n in range(4):
        buy(admin, li, today - dt.timedelta(days=3 + 30 * n), p["tea"])
    buy(admin, li, today - dt.timedelta(days=20), p["coffee"])
    buy(admin, li, today - dt.timedelta(days=50), p["coffee"], p["mug"])
    buy(admin, li, today - dt.timedelta(days=49), p["mug"], kind="return")
    others = []
    for n in range(8):
        other = create_customer(admin, {"name": f"Shopper {n}"}, owner=users["sales1"])
        day = today - dt.timedelta(days=10 + n)
        if n < 4:
            extra = [p["mug"], p["grinder"]] if n < 3 else []
            buy(admin, other, day, p["coffee"], p["filters"], *extra)
        else:
            buy(admin, other, day, p["tea"])
        others.append(other)
    set_loyalty(li, 82.0, "invest")
    return Shop(today, li, p, others)
