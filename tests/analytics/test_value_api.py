"""The value API: reports for the roles that read them, scoped like the pages; the refresh
started by analysts and polled as a job."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.analytics.refresh import refresh_values
from kehu.customers.models import Transaction

TODAY = timezone.localdate()


@pytest.fixture
def scored(users, customers):
    for key, days in (("east", (300, 90)), ("east_b", (200,)), ("north", (400, 30))):
        for d in days:
            Transaction.objects.create(customer=customers[key], date=TODAY - dt.timedelta(days=d),
                                       amount=Decimal("100.00"), cost=Decimal("40.00"))
    return refresh_values(users["admin"], as_of=TODAY)


def test_reports_are_for_the_roles_that_read_them(api, scored):
    for name, status in (("analyst1", 200), ("manager2", 200), ("marketing1", 200),
                         ("sales1", 403), ("service1", 403)):
        assert api(name).get("/value/refresh").status_code == status, name
    body = api("analyst1").get("/value/refresh").json()
    assert body["id"] == scored.pk and body["customers"] == 3 and body["stale"] is False


def test_equity_and_segments_cover_only_the_users_team(api, customers, scored):
    east = api("manager1").get("/value/equity").json()
    north = api("manager2").get("/value/equity").json()
    everyone = api("admin").get("/value/equity").json()
    total = [p["customers"] for p in everyone["trend"]][-1]
    assert [p["customers"] for p in east["trend"]][-1] == 2
    assert [p["customers"] for p in north["trend"]][-1] == 1 and total == 3
    assert {o["label"] for o in east["by_owner"]} == {"sales1", "sales1b"}
    segments = api("manager1").get("/value/segments").json()
    assert sum(s["customers"] for s in segments["segments"]) == 2


def test_a_customers_scores_are_read_like_the_customer(api, customers, scored):
    score = api("sales1").get(f"/value/customers/{customers['east'].pk}").json()
    assert score["purchase_days"] == 2 and score["revenue"] == 200.0
    assert score["gross_profit"] == 120.0
    assert score["p_alive"] is None  # three customers: too few to fit the models (warned)
    assert api("sales1").get(f"/value/customers/{customers['north'].pk}").status_code == 404


def test_a_visible_customer_not_yet_scored_says_so(api, customers, users, scored):
    from kehu.customers.services import create_customer

    fresh = create_customer(users["sales1"], {"name": "Brand New Ltd"})
    response = api("sales1").get(f"/value/customers/{fresh.pk}")
    assert response.status_code == 404
    assert "no value scores yet" in response.json()["detail"]


def test_the_migration_matrix_is_stochastic(api, scored):
    body = api("admin").get("/value/migration").json()
    assert body["states"] == ["first", "repeat", "loyal", "churned"]
    assert all(abs(sum(row) - 1) < 1e-9 for row in body["matrix"])
    assert len(body["forecast"]) == 13


@pytest.mark.usefixtures("committed_db")
def test_an_analyst_starts_a_refresh_and_polls_it(api, customers):
    Transaction.objects.create(customer=customers["east"], date=TODAY, amount=Decimal("10"))
    assert api("sales1").post("/value/refresh").status_code == 403
    started = api("analyst1").post("/value/refresh")
    assert started.status_code == 202
    from kehu.core import jobs
    from kehu.core.worker import run_pending

    assert api("analyst1").get(f"/value/jobs/{started.json()['id']}").json()["status"] == \
        "queued"
    assert run_pending() == 1
    job = jobs.get(started.json()["id"])
    assert job.status == "done", job.error
    assert api("analyst1").get(f"/value/jobs/{job.pk}").json()["status"] == "done"
    assert api("manager1").get(f"/value/jobs/{job.pk}").status_code == 404
