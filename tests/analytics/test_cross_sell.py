"""Cross-sell and up-sell candidates on a purchase history built by hand, where what to
offer whom is plain to see: customers who buy A also buy B (cheaper) or D (dearer)."""

from __future__ import annotations

import datetime as dt
import html
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from kehu.analytics import affinity
from kehu.analytics.models import ProductAffinity
from kehu.analytics.refresh import refresh_values
from kehu.analytics.selectors import offers_for
from kehu.customers.models import (
    Customer,
    LifecycleState,
    Product,
    Transaction,
    TransactionKind,
    TransactionLine,
)

AS_OF = dt.date(2024, 6, 30)
DAY = dt.date(2024, 3, 1)


@pytest.fixture
def shop(users):
    def product(code, name, price, active=True):
        return Product.objects.create(code=code, name=name, unit_price=Decimal(price),
                                      unit_cost=Decimal("1"), active=active)

    p = {"A": product("A-1", "Alpha", "10.00"), "B": product("B-2", "Beta", "8.00"),
         "C": product("C-3", "Gamma", "9.00"), "D": product("D-4", "Delta deluxe", "30.00"),
         "X": product("X-9", "Withdrawn", "12.00", active=False),
         "E": product("E-5", "Epsilon", "11.00"), "S": product("S-6", "Solo", "20.00")}
    made = {}

    def customer(name, bought=(), returned=(), owner="sales1"):
        c = Customer.objects.create(name=name, owner=users[owner],
                                    team_id=users[owner].team_id,
                                    lifecycle_state=LifecycleState.FIRST_PURCHASE)
        for kind, codes in ((TransactionKind.ORDER, bought), (TransactionKind.RETURN, returned)):
            if not codes:
                continue
            sign = 1 if kind == TransactionKind.ORDER else -1
            t = Transaction.objects.create(customer=c, date=DAY, kind=kind,
                                           amount=Decimal(10 * sign * len(codes)))
            TransactionLine.objects.bulk_create([
                TransactionLine(transaction=t, product=p[code], quantity=Decimal(sign),
                                unit_price=p[code].unit_price) for code in codes])
        made[name] = c
        return c

    for i in range(4):
        customer(f"AB {i}", "AB")
    for i in range(3):
        customer(f"AD {i}", "AD")
        customer(f"AX {i}", "AX")
        # Returned, never kept: a return is not a purchase, so C and E make no rule.
        customer(f"CE {i}", "C", returned="E")
    for i in range(4):
        customer(f"C {i}", "C")
    customer("Solo buyer", "CS")  # S is bought by one customer only
    customer("Target", "A")
    customer("Has B", "AB")
    customer("Returned B", "A", returned="B")
    customer("Nothing")
    customer("North", "A", owner="sales2")
    return {"products": p, "customers": made}


def _codes(offers):
    return [o.product.code for o in offers]


def test_a_customer_with_a_only_is_offered_b_with_the_reason_and_d_as_up_sell(shop, users):
    affinity.rebuild(AS_OF)
    offers = offers_for(users["sales1"], shop["customers"]["Target"])
    # Buyers of A: 4 AB + 3 AD + 3 AX + Target + Has B + Returned B + North = 14; five of
    # them bought B (AB ×4, Has B): 36%.
    assert _codes(offers.cross_sell) == ["B-2"]
    b = offers.cross_sell[0]
    assert b.because.code == "A-1" and b.co_buyers == 5 and b.percent == 36
    # D costs 30 against A's 10, and three of A's buyers took it.
    assert _codes(offers.up_sell) == ["D-4"]
    d = offers.up_sell[0]
    assert d.because.code == "A-1" and d.co_buyers == 3 and d.percent == 21
    assert offers.as_of == AS_OF


def test_nothing_bought_returned_inactive_or_rare_is_offered(shop, users):
    affinity.rebuild(AS_OF)
    c = shop["customers"]
    for name in ("Target", "Has B", "Returned B", "AB 0", "AX 1"):
        offers = offers_for(users["sales1"], c[name])
        codes = _codes(offers.cross_sell) + _codes(offers.up_sell)
        assert "X-9" not in codes, name  # inactive, although three of A's buyers took it
        assert "A-1" not in codes, name
    assert "B-2" not in _codes(offers_for(users["sales1"], c["Has B"]).cross_sell)
    # Bought B and returned it: not offered B again.
    returned = offers_for(users["sales1"], c["Returned B"])
    assert _codes(returned.cross_sell) == [] and _codes(returned.up_sell) == ["D-4"]
    # C's buyers only returned E, and S has one buyer: no rule, no candidates.
    for name in ("C 0", "CE 0", "Solo buyer", "Nothing"):
        offers = offers_for(users["sales1"], c[name])
        assert offers.cross_sell == [] and offers.up_sell == [], name
    pairs = set(ProductAffinity.objects.values_list("product__code", "related__code"))
    assert not {pair for pair in pairs if {"E-5", "S-6", "C-3"} & set(pair)}
    # Withdrawn again: once active, X is offered to A's buyers who lack it.
    Product.objects.filter(code="X-9").update(active=True)
    assert "X-9" in _codes(offers_for(users["sales1"], c["Target"]).cross_sell) + \
        _codes(offers_for(users["sales1"], c["Target"]).up_sell)


def test_no_products_at_all_gives_an_empty_table_and_no_offers(users):
    c = Customer.objects.create(name="Plain", owner=users["sales1"])
    Transaction.objects.create(customer=c, date=DAY, amount=Decimal("5"))
    assert affinity.rebuild(AS_OF) == 0
    offers = offers_for(users["sales1"], c)
    assert offers.cross_sell == [] and offers.up_sell == [] and offers.as_of is None


def test_the_value_refresh_rebuilds_the_table_from_purchases_up_to_its_day(shop, users):
    affinity.rebuild(AS_OF)
    assert not ProductAffinity.objects.filter(product__code="C-3", related__code="S-6").exists()
    # Two more customers buy C with S (three with the solo buyer): a rule from the next
    # refresh on; one more after the refresh's day does not count.
    p = shop["products"]
    for i, day in enumerate([DAY, DAY, AS_OF + dt.timedelta(days=1)]):
        c = Customer.objects.create(name=f"CS {i}", owner=users["sales1"])
        t = Transaction.objects.create(customer=c, date=day, amount=Decimal("29"))
        TransactionLine.objects.bulk_create([
            TransactionLine(transaction=t, product=p[k], quantity=Decimal(1),
                            unit_price=p[k].unit_price) for k in "CS"])
    run = refresh_values(users["admin"], as_of=AS_OF)
    assert run.status == "done"
    rule = ProductAffinity.objects.get(product__code="C-3", related__code="S-6")
    assert (rule.co_buyers, rule.buyers, rule.as_of) == (3, 10, AS_OF)
    assert ProductAffinity.objects.filter(product__code="A-1", related__code="B-2",
                                          co_buyers=5).exists()
    offers = offers_for(users["sales1"], shop["customers"]["C 0"])
    assert _codes(offers.up_sell) == ["S-6"] and offers.as_of == AS_OF


def test_a_reader_who_may_not_see_the_customer_gets_nothing(shop, users):
    affinity.rebuild(AS_OF)
    north = shop["customers"]["North"]
    assert offers_for(users["sales1"], north) is None
    assert _codes(offers_for(users["sales2"], north).cross_sell) == ["B-2"]


TEXTS = {
    "en": ["What to offer next", "Cross-sell", "Up-sell",
           "Bought by 36% of the customers who bought A-1 Alpha (5 customers).",
           "A dearer choice than A-1 Alpha (¥10.00): bought by 21% of its buyers (3 customers).",
           "From the purchases up to 2024-06-30"],
    "zh-hans": ["下一步可推荐的产品", "交叉销售", "向上销售",
                "购买 A-1 Alpha 的客户中有 36% 也买了它（5 位客户）。",
                "比 A-1 Alpha（¥10.00）更高档的选择：它的买家中有 21% 也买了它（3 位客户）。",
                "依据截至 2024-06-30 的购买"],
}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_card_lists_the_candidates_with_code_name_price_and_reason(shop, users, language):
    affinity.rebuild(AS_OF)
    client = Client()
    client.force_login(users["sales1"])
    client.cookies["django_language"] = language
    target = shop["customers"]["Target"]
    page = html.unescape(client.get(reverse("customers:card", args=[target.pk]),
                                    {"tab": "value"}).content.decode())
    section = page.split('id="offers"')[1].split("</section>")[0]
    for text in TEXTS[language]:
        assert text in section, text
    cross = section.split('id="cross-sell"')[1].split("</table>")[0]
    assert "B-2" in cross and "Beta" in cross and "¥8.00" in cross
    up = section.split('id="up-sell"')[1].split("</table>")[0]
    assert "D-4" in up and "Delta deluxe" in up and "¥30.00" in up
    # Products, never the customers who bought them.
    assert "AB 0" not in section and "AD 0" not in section
    assert "Withdrawn" not in section
    if language == "zh-hans":
        assert "What to offer next" not in section


def test_the_card_of_a_customer_without_purchases_says_why_there_is_nothing(shop, users):
    affinity.rebuild(AS_OF)
    client = Client()
    client.force_login(users["sales1"])
    page = client.get(reverse("customers:card", args=[shop["customers"]["Nothing"].pk]),
                      {"tab": "value"}).content.decode()
    section = page.split('id="offers"')[1].split("</section>")[0]
    assert "No candidates" in section and 'id="cross-sell"' not in section


def test_the_api_gives_the_same_candidates_scoped_and_audited(shop, users, api):
    from kehu.audit.models import AuditEvent

    affinity.rebuild(AS_OF)
    target, north = shop["customers"]["Target"], shop["customers"]["North"]
    body = api("sales1").get(f"/value/customers/{target.pk}/offers").json()
    assert body["customer"] == target.pk and body["as_of"] == AS_OF.isoformat()
    assert body["currency"] == "CNY"
    (b,) = body["cross_sell"]
    assert (b["code"], b["name"], b["price"], b["because_code"], b["co_buyers"]) == (
        "B-2", "Beta", 8.0, "A-1", 5)
    assert b["share"] == pytest.approx(5 / 14)
    assert b["reason"] == "Bought by 36% of the customers who bought A-1 Alpha (5 customers)."
    assert [u["code"] for u in body["up_sell"]] == ["D-4"]
    seen = AuditEvent.objects.filter(action="customer.view", object_id=str(target.pk),
                                     via="api")
    assert [e.detail["part"] for e in seen] == ["offers"]
    # Out of the reader's reach: 404, and nothing read.
    assert api("sales1").get(f"/value/customers/{north.pk}/offers").status_code == 404
    assert api("sales2").get(f"/value/customers/{north.pk}/offers").json()["cross_sell"]
