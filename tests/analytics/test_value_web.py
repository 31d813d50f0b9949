"""The value pages as each role meets them: the dashboard and its CSV tables scoped to the
team, settings for admins, the refresh for analysts, referrals and the value panel on the
card, and the customer list filtered by value."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kehu.analytics.models import CustomerValue, Referral, ValueRefresh, ValueSettings
from kehu.analytics.refresh import refresh_values
from kehu.audit.models import AuditEvent
from kehu.core import jobs
from kehu.core.worker import run_pending
from kehu.customers.models import Customer, Transaction
from kehu.sales.models import Activity

TODAY = timezone.localdate()


def _client(users, name) -> Client:
    client = Client()
    client.force_login(users[name])
    return client


@pytest.fixture
def scored(users, customers):
    """Each of the three customers buys and costs a meeting (cost to serve); the north one
    makes a loss."""
    for key, amount in (("east", "500.00"), ("east_b", "300.00"), ("north", "20.00")):
        customer = customers[key]
        for days in (200, 100):
            Transaction.objects.create(customer=customer, date=TODAY - dt.timedelta(days=days),
                                       amount=Decimal(amount), cost=Decimal(amount) / 2)
        Activity.objects.create(customer=customer, kind="meeting", subject="会议",
                                occurred_at=timezone.now() - dt.timedelta(days=30))
    refresh_values(users["admin"], as_of=TODAY)
    return customers


def test_the_dashboard_is_for_sales_managers_analysts_marketing_and_admins(users, scored):
    for name, status in (("admin", 200), ("manager1", 200), ("analyst1", 200),
                         ("marketing1", 200), ("sales1", 200), ("service1", 403)):
        assert _client(users, name).get(reverse("analytics:dashboard")).status_code == status
    page = _client(users, "manager1").get(reverse("analytics:dashboard")).content.decode()
    assert "Customer equity by month" in page and "Whale curve" in page
    assert reverse("analytics:models") in page
    # A salesperson's dashboard adds up their own book; how the models were fitted and
    # chosen (sums over the whole firm) is not for them.
    sales = _client(users, "sales1")
    page = sales.get(reverse("analytics:dashboard")).content.decode()
    assert "Customer equity by month" in page and reverse("analytics:models") not in page
    for name in ("analytics:models", "analytics:settings"):
        assert sales.get(reverse(name)).status_code == 403, name
    assert sales.get(reverse("analytics:table_csv", args=["models"])).status_code == 403


def test_a_managers_tables_hold_only_their_teams_customers(users, scored):
    client = _client(users, "manager1")
    north = scored["north"].name
    for table in ("unprofitable", "matrix", "at_risk", "equity_owner", "segments", "whale",
                  "equity", "equity_team", "equity_segment", "quadrants"):
        response = client.get(reverse("analytics:table_csv", args=[table]))
        assert response.status_code == 200, table
        body = response.content.decode("utf-8-sig")
        assert north not in body and "sales2" not in body, table
    # The north customer loses money (20 of gross profit, a meeting of 120): only its own
    # team's manager sees it in the unprofitable tail.
    rows = list(csv.reader(io.StringIO(_client(users, "manager2").get(
        reverse("analytics:table_csv", args=["unprofitable"])).content.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == [north]
    event = AuditEvent.objects.filter(action="value.export").latest("at")
    assert event.username == "manager2" and event.detail == {
        "table": "unprofitable", "rows": 1, "refresh": ValueRefresh.objects.get().pk,
        "customers": [scored["north"].pk]}  # the export names the customers it holds


def test_an_unknown_table_is_not_found_and_a_salesman_gets_only_their_own(users, scored):
    assert _client(users, "admin").get(
        reverse("analytics:table_csv", args=["nope"])).status_code == 404
    assert _client(users, "service1").get(
        reverse("analytics:table_csv", args=["equity"])).status_code == 403
    body = _client(users, "sales1").get(
        reverse("analytics:table_csv", args=["equity_owner"])).content.decode("utf-8-sig")
    assert "sales1" in body and "sales2" not in body and "sales1b" not in body


def test_analysts_see_the_fitted_models_and_their_date(users):
    from kehu.value.datasets import simulate_transactions

    # Enough customers over two years for BG/NBD to pin its parameters down.
    log = simulate_transactions(200, seed=2, start=(TODAY - dt.timedelta(days=730)).isoformat(),
                                as_of=TODAY.isoformat())
    firm = Customer.objects.bulk_create([
        Customer(name=f"C{i}", owner=users["sales1"], team_id=users["sales1"].team_id)
        for i in range(200)])
    Transaction.objects.bulk_create([
        Transaction(customer=firm[int(c) - 1], date=d.astype(object), amount=Decimal(f"{a:.2f}"))
        for c, d, a in zip(log.customer_id, log.date, log.amount, strict=True)])
    run = refresh_values(users["admin"], as_of=TODAY)
    page = _client(users, "analyst1").get(reverse("analytics:settings")).content.decode()
    assert "BG/NBD" in page and "Gamma-Gamma" in page
    alpha = run.fit["purchases"]["params"]["alpha"]
    assert f"alpha = {alpha:.4f}" in page


def test_only_admins_change_settings_and_bad_values_are_refused(users):
    url = reverse("analytics:settings")
    assert _client(users, "analyst1").get(url).status_code == 200
    form = {"model": "bgnbd", "horizon_months": 24, "monthly_discount": "0.02",
            "churn_p_alive": "0.25", "churn_inactive_days": 300, "loyal_min_index": 60,
            "loyal_min_purchase_days": 4, "loyal_min_tenure_days": 180,
            "high_current_share": "0.3", "high_potential_share": "0.3",
            "large_volume_share": "0.3", "quadrant_loyal_index": 50,
            "stale_after_days": 31}
    assert _client(users, "analyst1").post(url, form).status_code == 403
    admin = _client(users, "admin")
    bad = admin.post(url, {**form, "churn_p_alive": "1.5"})
    assert bad.status_code == 200 and "churn_p_alive" in bad.content.decode()
    assert ValueSettings.current().horizon_months == 120
    # CLV looks at least a year ahead: a shorter horizon is refused, and said why.
    short = admin.post(url, {**form, "horizon_months": 6})
    assert short.status_code == 200 and "greater than or equal to 12" in short.content.decode()
    assert ValueSettings.current().horizon_months == 120
    assert admin.post(url, form).status_code == 302
    assert ValueSettings.current().horizon_months == 24
    assert AuditEvent.objects.filter(action="value.settings", username="admin").exists()


def test_unit_costs_and_segment_actions_are_admin_only(users):
    cost = reverse("analytics:activity_cost", args=["visit"])
    _client(users, "manager1").post(cost, {"unit_cost": "1"})
    from kehu.analytics.models import ActivityCost, SegmentAction

    visit = ActivityCost.objects.get(kind="visit")
    # On-site visits start as relationship investment (seed 004), calls as cost to serve.
    assert visit.unit_cost == Decimal("80") and visit.investment
    assert not ActivityCost.objects.get(kind="call").investment
    page = _client(users, "admin").get(reverse("analytics:settings")).content.decode()
    assert 'id="investment-visit" checked' in page and 'id="investment-call">' in page
    _client(users, "admin").post(cost, {"unit_cost": "95.50", "investment": "1"})
    visit.refresh_from_db()
    assert visit.unit_cost == Decimal("95.50") and visit.investment
    _client(users, "admin").post(cost, {"unit_cost": "-3"})
    visit.refresh_from_db()
    assert visit.unit_cost == Decimal("95.50") and visit.investment
    # Unticked, the kind becomes a cost to serve again; the audit says so.
    _client(users, "admin").post(cost, {"unit_cost": "95.50"})
    visit.refresh_from_db()
    assert not visit.investment
    assert AuditEvent.objects.filter(action="value.activity_cost").latest("at").detail == {
        "kind": "visit", "from": "95.50", "to": "95.50", "investment": False}
    action = reverse("analytics:segment_action", args=["maintain"])
    _client(users, "admin").post(action, {"create_task": "on", "subject": "季度回访",
                                          "due_in_days": 7})
    row = SegmentAction.objects.get(segment="maintain")
    assert (row.create_task, row.task_subject, row.due_in_days) == (True, "季度回访", 7)


@pytest.mark.usefixtures("committed_db")
def test_an_analyst_refreshes_in_the_background_and_a_salesman_may_not(users, customers):
    Transaction.objects.create(customer=customers["east"], date=TODAY, amount=Decimal("10"))
    _client(users, "sales1").post(reverse("analytics:refresh"))
    assert not jobs.Job.objects.filter(kind="value.refresh").exists()
    response = _client(users, "analyst1").post(reverse("analytics:refresh"))
    assert response.status_code == 302
    assert run_pending() == 1
    job = jobs.get(jobs.Job.objects.get(kind="value.refresh").pk)
    assert job.status == "done", job.error
    assert job.result["customers"] == 3
    assert CustomerValue.objects.count() == 3


def test_the_card_shows_the_value_panel_and_records_a_referral(users, scored):
    client = _client(users, "manager1")
    card = client.get(reverse("customers:card", args=[scored["east"].pk])).content.decode()
    assert "Realised value" in card and "P(alive)" in card
    value_tab = client.get(reverse("customers:card", args=[scored["east_b"].pk]),
                           {"tab": "value"}).content.decode()
    assert "What these figures mean" in value_tab
    options = client.get(reverse("analytics:referrer_options", args=[scored["east_b"].pk]),
                         {"referrer": "shanghai"}).content.decode()
    assert scored["east"].name in options
    # The north customer is out of the manager's reach: not offered, and refused by id.
    assert scored["north"].name not in client.get(
        reverse("analytics:referrer_options", args=[scored["east_b"].pk]),
        {"referrer": "beijing"}).content.decode()
    url = reverse("analytics:referral", args=[scored["east_b"].pk])
    client.post(url, {"referrer": "x", "referrer_id": scored["north"].pk,
                      "referred_on": "2026-01-05"})
    assert not Referral.objects.exists()
    client.post(url, {"referrer": "shanghai", "referrer_id": scored["east"].pk,
                      "referred_on": "2026-01-05", "note": "展会上介绍"})
    referral = Referral.objects.get()
    assert (referral.referrer, referral.referred) == (scored["east"], scored["east_b"])
    refresh_values(users["admin"], as_of=TODAY)
    east, east_b = (CustomerValue.objects.get(customer=scored[k]) for k in ("east", "east_b"))
    assert east.influence_value == east_b.net_contribution + (east_b.potential_value or 0)
    # A salesman may not record a referral on a card they cannot change.
    _client(users, "sales2").post(reverse("analytics:referral", args=[scored["east"].pk]),
                                  {"referrer": "x", "referrer_id": scored["north"].pk,
                                   "referred_on": "2026-01-05"})
    assert Referral.objects.count() == 1


def test_the_customer_list_filters_by_value(users, scored):
    client = _client(users, "admin")
    losing = CustomerValue.objects.get(customer=scored["north"])
    page = client.get(reverse("customers:list"), {"segment": losing.segment}).content.decode()
    assert scored["north"].name in page
    others = [k for k in ("east", "east_b")
              if CustomerValue.objects.get(customer=scored[k]).segment != losing.segment]
    for key in others:
        assert scored[key].name not in page
    # Three customers are too few to fit the models: nobody has a CLV, so a CLV range
    # leaves everyone out rather than letting the unscored through.
    assert not CustomerValue.objects.exclude(clv=None).exists()
    page = client.get(reverse("customers:list"), {"clv_min": "0"}).content.decode()
    assert "No customers match." in page
    bad = client.get(reverse("customers:list"), {"p_alive_min": "abc", "clv_max": "x"})
    assert bad.status_code == 200  # invalid filters are ignored, not a 500
