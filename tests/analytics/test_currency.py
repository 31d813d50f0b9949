"""Money in the firm's currency: one setting (default CNY, ¥) that the card, the customer
list, the value dashboard and its CSV downloads all follow, in English and in Chinese, while
the API keeps plain numbers and names the currency once."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kehu.analytics import services
from kehu.analytics.models import CustomerValue
from kehu.analytics.refresh import refresh_values
from kehu.audit.models import AuditEvent
from kehu.core.errors import NotPermitted, ServiceError
from kehu.core.money import CURRENCIES, format_money
from kehu.customers.models import Transaction
from kehu.sales.models import Activity

TODAY = timezone.localdate()


def _client(users, name, language="en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.cookies["django_language"] = language
    client.force_login(users[name])
    return client


@pytest.fixture
def scored(users, customers):
    for key, amount in (("east", "1500.00"), ("east_b", "300.00"), ("north", "20.00")):
        customer = customers[key]
        for days in (200, 100):
            Transaction.objects.create(customer=customer, date=TODAY - dt.timedelta(days=days),
                                       amount=Decimal(amount), cost=Decimal(amount) / 2)
        Activity.objects.create(customer=customer, kind="meeting", subject="会议",
                                occurred_at=timezone.now() - dt.timedelta(days=30))
    refresh_values(users["admin"], as_of=TODAY)
    # Three customers are too few to fit the purchase models: give one a CLV as a larger
    # firm's refresh would.
    CustomerValue.objects.filter(customer=customers["east"]).update(
        clv=Decimal("12345.60"), clv_12m=Decimal("2345.60"))
    return customers


def _pages(users, customers, language) -> dict[str, str]:
    client = _client(users, "admin", language)
    card = reverse("customers:card", args=[customers["east"].pk])
    return {
        "card": client.get(card).content.decode(),
        "value tab": client.get(card + "?tab=value").content.decode(),
        "transactions": client.get(card + "?tab=transactions").content.decode(),
        "list": client.get(reverse("customers:list")).content.decode(),
        "dashboard": client.get(reverse("analytics:dashboard")).content.decode(),
    }


def test_amounts_are_written_with_the_symbol_grouped_and_a_true_minus_sign():
    cny, usd, jpy = CURRENCIES["CNY"], CURRENCIES["USD"], CURRENCIES["JPY"]
    assert format_money(Decimal("1234.5"), currency=cny) == "¥1,234.50"
    assert format_money(-1234.4, 0, currency=cny) == "\u2212¥1,234"
    assert format_money(Decimal("1234567.891"), currency=usd) == "$1,234,567.89"
    assert format_money(1234.5, currency=jpy) == "¥1,235"  # the yen has no minor unit
    assert format_money(None, currency=cny) == ""


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_card_list_and_dashboard_follow_the_firm_currency(users, scored, language):
    # By default the firm counts in yuan.
    pages = _pages(users, scored, language)
    for name, page in pages.items():
        assert "¥" in page, name
    assert "¥1,500.00" in pages["transactions"]  # one purchase of the east customer
    assert "¥3,000.00" in pages["transactions"]  # their revenue in all
    assert "¥12,346" in pages["list"] and "¥12,346" in pages["card"]
    # The tables' money columns name the currency: "CLV (CNY)", "CLV（客户终身价值）（CNY）".
    assert re.search("[(（]CNY[)）]", pages["dashboard"])

    admin = _client(users, "admin", language)
    response = admin.post(reverse("analytics:settings"), {"part": "currency", "currency": "USD"})
    assert response.status_code == 302
    pages = _pages(users, scored, language)
    for name, page in pages.items():
        assert "$" in page and "¥" not in page, name
    assert "$1,500.00" in pages["transactions"] and "$12,346" in pages["list"]
    assert re.search("[(（]USD[)）]", pages["dashboard"]) and "CNY" not in pages["dashboard"]
    # The unprofitable north customer's current value is negative: a minus, then the symbol.
    assert re.search("\u2212\\$[0-9]", pages["dashboard"])
    event = AuditEvent.objects.filter(action="firm.currency").latest("pk")
    assert event.detail == {"from": "CNY", "to": "USD"}


def test_csv_headings_name_the_currency_and_the_api_states_it(users, scored, api, tokens):
    services.set_currency(users["admin"], "EUR")
    response = _client(users, "admin").get(reverse("analytics:table_csv", args=["at_risk"]))
    heading = response.content.decode("utf-8-sig").splitlines()[0]
    assert "CLV (EUR)" in heading
    east = scored["east"].pk
    body = api("admin").get(f"/value/customers/{east}").json()
    assert body["currency"] == "EUR" and body["clv"] == 12345.6
    assert api("admin").get("/value/refresh").json()["currency"] == "EUR"


def test_only_an_admin_changes_the_currency_and_only_to_a_known_one(users, scored):
    with pytest.raises(NotPermitted):
        services.set_currency(users["manager1"], "USD")
    with pytest.raises(ServiceError):
        services.set_currency(users["admin"], "XYZ")
    manager = _client(users, "manager1")
    assert manager.post(reverse("analytics:settings"),
                        {"part": "currency", "currency": "USD"}).status_code == 403
    page = _client(users, "admin").post(reverse("analytics:settings"),
                                        {"part": "currency", "currency": "XYZ"})
    assert page.status_code == 200 and "¥" in _pages(users, scored, "en")["card"]
