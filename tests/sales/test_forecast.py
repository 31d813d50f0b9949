"""The sales forecast adds up by hand: the weighted pipeline by expected close month, owner
and team, what was won by close month, and the installed base's expected purchases and
revenue from the latest value refresh."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone

from kehu.sales.pipeline import forecast as fc
from kehu.sales.pipeline import services
from kehu.sales.pipeline.models import Opportunity, Stage
from kehu.sales.pipeline.selectors import OpportunityFilters

pytestmark = pytest.mark.django_db

JAN, FEB, MAR = dt.date(2027, 1, 1), dt.date(2027, 2, 1), dt.date(2027, 3, 1)


def stage(name):
    return Stage.objects.get(name_en=name)


def make(user, customer, stage_name, amount, close, lost_reason=""):
    return services.create_opportunity(user, customer, title=f"{stage_name} {amount}",
                                       stage=stage(stage_name), amount=Decimal(amount),
                                       expected_close=close, lost_reason=lost_reason)


@pytest.fixture
def book(users, customers):
    s1, s1b, s2 = users["sales1"], users["sales1b"], users["sales2"]
    make(s1, customers["east"], "Qualification", "10000", dt.date(2027, 1, 10))  # 1,000
    make(s1, customers["east"], "Proposal", "20000", dt.date(2027, 1, 31))  # 10,000
    make(s1b, customers["east_b"], "Negotiation", "40000", dt.date(2027, 2, 1))  # 30,000
    make(s2, customers["north"], "Needs analysis", "8000", dt.date(2027, 2, 14))  # 2,000
    make(s2, customers["north"], "Proposal", "99999", dt.date(2027, 4, 1))  # outside
    won = make(s1, customers["east"], "Won", "15000", dt.date(2027, 2, 20))
    Opportunity.objects.filter(pk=won.pk).update(closed_on=dt.date(2027, 2, 20))
    make(s1b, customers["east_b"], "Lost", "50000", dt.date(2027, 1, 5), lost_reason="price")


def test_the_weighted_pipeline_and_won_add_up_by_hand(book, users):
    result = fc.forecast(users["admin"], OpportunityFilters(), [JAN, FEB, MAR])
    jan, feb, mar = result.months
    # January: 10,000 × 10 % + 20,000 × 50 %; February: 40,000 × 75 % + 8,000 × 25 %.
    assert (jan.open_count, jan.pipeline, jan.weighted) == (2, Decimal("30000"),
                                                            Decimal("11000.00"))
    assert (feb.open_count, feb.pipeline, feb.weighted) == (2, Decimal("48000"),
                                                            Decimal("32000.00"))
    assert (mar.open_count, mar.weighted) == (0, Decimal(0))
    # Won by its close month; lost counts nowhere.
    assert (jan.won, feb.won, feb.won_count) == (Decimal(0), Decimal("15000"), 1)
    assert result.totals.weighted == Decimal("43000.00")
    owners = {r.name: (r.weighted, r.won) for r in result.owners}
    assert owners == {"sales1": (Decimal("11000.00"), Decimal("15000")),
                      "sales1b": (Decimal("30000.00"), Decimal(0)),
                      "sales2": (Decimal("2000.00"), Decimal(0))}
    teams = {r.name: r.weighted for r in result.teams}
    assert teams == {"East 华东": Decimal("41000.00"), "North 华北": Decimal("2000.00")}


def test_each_sees_the_forecast_of_their_own_scope(book, users):
    def total(name, **filters):
        return fc.forecast(users[name], OpportunityFilters(**filters),
                           [JAN, FEB, MAR]).totals.weighted

    assert total("sales1") == Decimal("11000.00")
    assert total("manager1") == Decimal("41000.00")
    assert total("manager2") == Decimal("2000.00")
    assert total("admin", owner=users["sales1b"].pk) == Decimal("30000.00")
    assert total("admin", team=users["sales2"].team_id) == Decimal("2000.00")


def test_the_forecast_page_shows_the_table_and_the_chart_data(client, book, users):
    client.force_login(users["manager1"])
    response = client.get(reverse("sales:forecast"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="forecast-chart-data"' in body and 'id="forecast-months"' in body
    client.force_login(users["analyst1"])
    assert client.get(reverse("sales:forecast")).status_code == 403


def test_the_installed_base_is_expected_purchases_times_expected_spend(users, customers):
    """Two customers with purchases and a refresh with known parameters: each month's
    expected purchases are the model's E[N(T, T+end)] − E[N(T, T+start)] summed over the
    customers, and the revenue those × Gamma-Gamma's p(v + x m)/(p x + q − 1)."""
    from kehu.analytics.installed_base import expected_by_month
    from kehu.analytics.models import CustomerValue, ValueRefresh
    from kehu.customers.models import Customer
    from kehu.customers.services import create_transaction
    from kehu.value import BetaGeoModel

    admin = users["admin"]
    east, north = customers["east"], customers["north"]
    # east: orders on 2026-01-01 (100), 2026-03-01 (200), 2026-05-01 (400): x = 2, m = 300.
    for day, amount in ((dt.date(2026, 1, 1), "100"), (dt.date(2026, 3, 1), "200"),
                        (dt.date(2026, 5, 1), "400")):
        create_transaction(admin, east, date=day, amount=amount, cost="0")
    # north: one order on 2026-06-01: x = 0, spend is the population mean p v / (q − 1).
    create_transaction(admin, north, date=dt.date(2026, 6, 1), amount="50", cost="0")
    as_of = dt.date(2026, 12, 1)
    bg = {"model": "bgnbd", "params": {"r": 0.5, "alpha": 10.0, "a": 0.8, "b": 2.5},
          "loglik": 0, "n_customers": 2}
    gg = {"model": "gamma_gamma", "params": {"p": 6.0, "q": 4.0, "v": 15.0}, "loglik": 0,
          "n_customers": 2}
    run = ValueRefresh.objects.create(as_of=as_of, status="done", finished_at=timezone.now(),
                                      fit={"time_unit": "W", "purchases": bg,
                                           "gamma_gamma": gg})
    CustomerValue.objects.create(customer=east, refresh=run, purchase_days=3,
                                 first_purchase=dt.date(2026, 1, 1),
                                 last_purchase=dt.date(2026, 5, 1))
    CustomerValue.objects.create(customer=north, refresh=run, purchase_days=1,
                                 first_purchase=dt.date(2026, 6, 1),
                                 last_purchase=dt.date(2026, 6, 1))
    months = [dt.date(2026, 11, 1), dt.date(2026, 12, 1), dt.date(2027, 1, 1)]
    base = expected_by_month(admin, Customer.objects.all(), months)

    model = BetaGeoModel.from_dict(bg)
    x = np.array([2.0, 0.0])
    tx = np.array([120.0, 0.0]) / 7  # 2026-01-01 → 2026-05-01; north bought once
    t = np.array([334.0, 183.0]) / 7  # → 2026-12-01
    dec = model.expected_purchases(31 / 7, x, tx, t)  # December: 31 days after as_of
    jan = model.expected_purchases(62 / 7, x, tx, t) - dec
    spend = np.array([6 * (15 + 2 * 300) / (6 * 2 + 4 - 1), 6 * 15 / (4 - 1)])  # 246, 30
    assert spend.tolist() == pytest.approx([246.0, 30.0])
    assert base.as_of == as_of and base.customers == 2
    assert base.purchases[0] == 0.0  # November is before the refresh
    assert base.purchases[1] == pytest.approx(dec.sum())
    assert base.purchases[2] == pytest.approx(jan.sum())
    assert base.revenue[0] == Decimal("0.00")
    assert base.revenue[1] == Decimal(f"{float(np.dot(dec, spend)):.2f}")
    assert base.revenue[2] == Decimal(f"{float(np.dot(jan, spend)):.2f}")
    # A salesperson's installed base is their own customers only (east is sales1's).
    own = expected_by_month(users["sales1"], Customer.objects.filter(owner=users["sales1"]),
                            months)
    assert own.customers == 1
    assert own.revenue[1] == Decimal(f"{dec[0] * spend[0]:.2f}")
    # The forecast puts it beside the pipeline.
    result = fc.forecast(users["sales1"], OpportunityFilters(), months)
    assert result.months[1].base_revenue == own.revenue[1]
    assert result.months[1].outlook == own.revenue[1]
