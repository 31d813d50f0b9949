"""One-to-one offers: a hand-built purchase history gets exactly the expected list, the
spend threshold and the rhythm of lists decide who gets one, coupons follow loyalty and are
redeemed once against a transaction, and every step is scoped and audited."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from kehu.audit.models import AuditEvent
from kehu.core.errors import NotPermitted
from kehu.marketing.offers import selectors, services
from kehu.marketing.offers.models import Coupon, CouponTier, OfferList, OfferSettings
from kehu.marketing.offers.texts import csv_rows, email_body, item_reason
from tests.marketing.conftest import buy, set_loyalty

pytestmark = pytest.mark.django_db


def _items(offer_list) -> list[tuple]:
    return [(i.kind, i.product.code, i.price, i.due_on, i.rhythm_days, i.purchase_days,
             i.because.code if i.because else None, i.percent, i.co_buyers)
            for i in offer_list.items.order_by("position")]


def test_a_hand_built_history_gets_exactly_the_expected_offers(shop, users):
    result = services.build_offer_lists(users["marketing1"], as_of=shop.today)
    assert (result.lists, result.coupons) == (1, 1)  # only Li Na spends enough
    offer_list = OfferList.objects.get()
    assert offer_list.customer == shop.li
    assert offer_list.spend == Decimal("119.00")
    milk_due = shop.today - dt.timedelta(days=5) + dt.timedelta(days=7)
    assert _items(offer_list) == [
        ("due", "MILK", Decimal("3.50"), milk_due, 7, 6, None, None, None),
        ("suggested", "FILTERS", Decimal("5.00"), None, None, None, "COFFEE", 80, 4),
    ]
    assert offer_list.valid_until == shop.today + dt.timedelta(weeks=2)
    coupon = offer_list.coupon
    assert (coupon.tier_name, coupon.discount_percent, coupon.customer) == ("Gold", 15, shop.li)
    assert coupon.valid_until == shop.today + dt.timedelta(days=28)
    assert coupon.code.startswith("KH-") and len(coupon.code) == 12


def test_the_list_speaks_in_the_readers_language(shop, users):
    from django.utils import translation

    offer_list = services.build_offer_list(users["marketing1"], shop.li, as_of=shop.today)
    milk, filters = offer_list.items.order_by("position")
    assert "usually every 7 days" in item_reason(milk)
    assert "80% of the customers who bought Coffee beans 500 g" in item_reason(filters)
    with translation.override("zh-hans"):
        assert "每 7 天" in item_reason(milk)
        assert "优惠券" in email_body(offer_list)
    body = email_body(offer_list)
    assert "Fresh milk 1 L (MILK)" in body and offer_list.coupon.code in body
    rows = csv_rows(offer_list)
    assert [r[6] for r in rows] == ["MILK", "FILTERS", offer_list.coupon.code]


def test_current_prices_and_active_products_only(shop, users):
    shop.products["milk"].unit_price = Decimal("3.80")
    shop.products["milk"].save()
    shop.products["filters"].active = False
    shop.products["filters"].save()
    offer_list = services.build_offer_list(users["marketing1"], shop.li, as_of=shop.today)
    assert _items(offer_list) == [
        ("due", "MILK", Decimal("3.80"), shop.today + dt.timedelta(days=2), 7, 6, None, None,
         None)]


def test_the_refreshs_product_table_gives_the_same_suggestions(shop, users):
    from kehu.analytics.affinity import rebuild

    assert rebuild(shop.today) > 0
    offer_list = services.build_offer_list(users["marketing1"], shop.li, as_of=shop.today)
    assert [i.product.code for i in offer_list.items.order_by("position")] == ["MILK",
                                                                              "FILTERS"]


def test_who_gets_a_list_and_how_often(shop, users):
    settings = OfferSettings.current()
    settings.spend_threshold = Decimal("80.00")
    settings.save()
    marketing = users["marketing1"]
    first = services.build_offer_lists(marketing, as_of=shop.today)
    # Li Na and the three shoppers who bought the grinder spent 80 or more; of them, the
    # shoppers have nothing due and nothing to be suggested, but a coupon if loyal enough.
    set_loyalty(shop.others[0], 55.0, "develop")
    assert first.lists == 1
    again = services.build_offer_lists(marketing, as_of=shop.today + dt.timedelta(days=7))
    assert again.lists == 1  # Shopper 0 now has a silver coupon; Li Na's list is a week old
    silver = Coupon.objects.get(customer=shop.others[0])
    assert (silver.tier_name, silver.discount_percent) == ("Silver", 10)
    assert not silver.offer_list.items.exists()
    later = services.build_offer_lists(marketing, as_of=shop.today + dt.timedelta(days=14))
    assert later.lists == 1  # Li Na again after two weeks; Shopper 0's list is a week old
    assert OfferList.objects.filter(customer=shop.li).count() == 2


def test_coupons_follow_loyalty_and_segment(shop, users):
    tiers = list(CouponTier.objects.all())
    from kehu.marketing.offers.engine import tier_for

    assert tier_for(tiers, 90, "invest").name_en == "Gold"
    assert tier_for(tiers, 90, "develop").name_en == "Silver"  # gold needs high current value
    assert tier_for(tiers, 50, "") .name_en == "Silver"
    assert tier_for(tiers, 30, "minimise").name_en == "Bronze"
    assert tier_for(tiers, 29.9, "invest") is None
    assert tier_for(tiers, None, "invest") is None
    set_loyalty(shop.li, None)
    offer_list = services.build_offer_list(users["marketing1"], shop.li, as_of=shop.today)
    assert not Coupon.objects.filter(offer_list=offer_list).exists()


def test_a_coupon_is_redeemed_once_on_a_matching_order(shop, users):
    offer_list = services.build_offer_list(users["marketing1"], shop.li, as_of=shop.today)
    code = offer_list.coupon.code
    admin = users["admin"]
    order = buy(admin, shop.li, shop.today, shop.products["coffee"], shop.products["milk"])
    sales = users["sales1"]
    with pytest.raises(ValidationError, match="No coupon"):
        services.redeem_coupon(sales, code, buy(admin, shop.others[0], shop.today,
                                                shop.products["milk"]))
    old = buy(admin, shop.li, shop.today - dt.timedelta(days=1), shop.products["milk"])
    with pytest.raises(ValidationError, match="is valid from"):
        services.redeem_coupon(sales, code, old)
    coupon = services.redeem_coupon(sales, code.lower(), order)
    assert (coupon.redeemed_transaction, coupon.redeemed_on) == (order, shop.today)
    assert coupon.discount_amount == Decimal("5.03")  # 15 % of 33.50
    with pytest.raises(ValidationError, match="already redeemed"):
        services.redeem_coupon(sales, code, order)
    assert AuditEvent.objects.filter(action="coupon.redeem", customer_id=shop.li.pk).exists()
    found = selectors.redemptions(users["manager1"], [shop.li.pk, shop.others[0].pk],
                                  shop.today - dt.timedelta(days=1), shop.today)
    assert [(r.customer_id, r.transaction_id, r.discount, r.amount) for r in found] == [
        (shop.li.pk, order.pk, Decimal("5.03"), Decimal("33.50"))]
    assert selectors.redemptions(users["manager2"], [shop.li.pk], shop.today,
                                 shop.today) == []


def test_offers_are_for_marketing_and_managers_within_their_scope(shop, users):
    with pytest.raises(NotPermitted):
        services.build_offer_list(users["sales1"], shop.li)
    with pytest.raises(NotPermitted):
        services.build_offer_list(users["manager2"], shop.li)
    assert services.build_offer_lists(users["manager2"], as_of=shop.today).lists == 0
    assert not OfferList.objects.exists()
    services.build_offer_list(users["manager1"], shop.li, as_of=shop.today)
    assert selectors.offer_lists(users["sales2"]).count() == 0
    assert selectors.offer_lists(users["sales1"]).count() == 1


def test_nothing_to_offer_is_said_plainly(shop, users):
    bare = shop.others[5]  # bought tea once
    with pytest.raises(ValidationError, match="Nothing to offer yet"):
        services.build_offer_list(users["marketing1"], bare)
