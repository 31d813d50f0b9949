"""What a reader of the customer card sees of its value, in English and Chinese: lifetime CLV
and its next 12 months side by side, cost to serve and relationship investment apart, and
one current value with its window."""

from __future__ import annotations

import html

import pytest
from django.test import Client
from django.urls import reverse

from kehu.analytics.models import CustomerValue
from kehu.analytics.refresh import refresh_values
from tests.analytics.test_refresh import AS_OF, firm  # noqa: F401

LABELS = {
    "en": ["Current value (last 12 months)", "Realised value", "Relationship investment",
           "CLV", "CLV, next 12 months", "2021-01-01 to 2021-12-31"],
    "zh-hans": ["当前价值（近 12 个月）", "既成价值", "关系投资", "CLV（客户终身价值）",
                "未来 12 个月的 CLV", "2021-01-01 至 2021-12-31"],
}


def _figure(number) -> str:
    return f"{number:,.0f}"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_card_shows_lifetime_and_next_year_clv_and_both_costs(firm, users,  # noqa: F811
                                                                  language):
    refresh_values(users["admin"], as_of=AS_OF)
    a = CustomerValue.objects.get(customer=firm["a"])
    client = Client()
    client.force_login(users["sales1"])
    client.cookies["django_language"] = language
    url = reverse("customers:card", args=[firm["a"].pk])
    strip = html.unescape(client.get(url).content.decode())
    tab = html.unescape(client.get(url, {"tab": "value"}).content.decode())
    for label in LABELS[language][:5]:
        assert label in strip, label
    assert LABELS[language][5] in strip  # the window of the current value, in its title
    # Both CLV figures, side by side, and different: ten years against one.
    assert 0 < a.clv_12m < a.clv
    assert 'id="value-clv"' in strip and 'id="value-clv-12m"' in strip
    assert _figure(a.clv) in strip and _figure(a.clv_12m) in strip
    # Cost to serve (two calls) is deducted; the visit is shown as an investment.
    assert "10.00" in tab and "80.00" in tab and "42.00" in tab
    investment = tab.split('id="explain-investment"')[1].split("</dd>")[0]
    assert "80.00" in investment
    realised = tab.split('id="explain-realised"')[1].split("</dd>")[0]
    assert "10.00" in realised and "42.00" in realised and "80.00" not in realised
    clv = tab.split('id="explain-clv"')[1].split("</dd>")[0]
    assert f"{a.clv:,.2f}" in clv and f"{a.margin * 100:.1f}%" in clv
    if language == "zh-hans":
        assert "What these figures mean" not in tab and "Realised value" not in strip


def test_the_api_gives_lifetime_and_next_year_clv_and_both_costs(firm, users, api):  # noqa: F811
    refresh_values(users["admin"], as_of=AS_OF)
    a = CustomerValue.objects.get(customer=firm["a"])
    body = api("sales1").get(f"/value/customers/{firm['a'].pk}").json()
    assert body["clv"] == float(a.clv) and body["clv_12m"] == float(a.clv_12m)
    assert 0 < body["clv_12m"] < body["clv"] and body["horizon_months"] == 120
    assert body["potential_value"] == body["clv"]
    assert (body["cost_to_serve"], body["relationship_investment"],
            body["net_contribution"]) == (10.0, 80.0, 42.0)
    assert body["net_contribution_12m"] == 42.0 and body["margin"] == pytest.approx(a.margin)
