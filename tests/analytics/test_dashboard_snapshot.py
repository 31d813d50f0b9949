"""The value dashboard's stored figures: each refresh stores them per scope (the firm, each
team, each sales user's own), they are the figures the page would compute on the spot for
that scope, the next refresh replaces them, and nobody reads another team's."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kehu.analytics import dashboard, selectors
from kehu.analytics.models import DashboardSnapshot, LoyaltyStatement
from kehu.analytics.refresh import refresh_values
from kehu.customers.models import Customer, Transaction
from kehu.customers.services import change_owner

TODAY = timezone.localdate()


@pytest.fixture
def book(users, customers):
    """Eighteen customers of sales1, sales1b (team East) and sales2 (team North) who buy,
    some of whom said whether they would buy again; then a refresh."""
    owners = [users["sales1"], users["sales1b"], users["sales2"]]
    made = Customer.objects.bulk_create([
        Customer(name=f"Book {i}", owner=owners[i % 3], team_id=owners[i % 3].team_id)
        for i in range(15)])
    rows = []
    for i, customer in enumerate([*made, *customers.values()]):
        for k in range(1 + i % 4):
            amount = Decimal(40 + 37 * ((i * 7 + k) % 11))
            rows.append(Transaction(customer=customer, amount=amount,
                                    cost=amount * Decimal("0.55") if i % 5 else amount * 2,
                                    date=TODAY - dt.timedelta(days=30 + 90 * k + 11 * i)))
    Transaction.objects.bulk_create(rows)
    for i, customer in enumerate(made[:9]):
        LoyaltyStatement.objects.create(customer=customer, stated_on=TODAY,
                                        buy_again=(3 + 3 * i) % 11, recommend=(2 + 5 * i) % 11)
    return refresh_values(users["admin"], as_of=TODAY)


def _plain(figures: selectors.DashboardFigures) -> dict:
    out = {f.name: getattr(figures, f.name) for f in dataclasses.fields(figures)
           if f.name not in {"migration", "stored", "intention_ids"}}
    m = figures.migration
    out["migration"] = None if m is None else {
        "matrix": m.chain.matrix.tolist(), "start": m.start.tolist(),
        "forecast": m.forecast.tolist(), "equity": m.equity.tolist(),
        "churn": m.churn_by_segment}
    return out


def _same(a, b, path="") -> None:
    """Equal, numbers within rounding (SQLite adds up decimals as floats)."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            _same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, float | int) and not isinstance(a, bool):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-6), path
    else:
        assert a == b, path


def _sorted_by(figures: dict) -> dict:
    # Ties in equity come back in no particular order.
    figures["by"] = {field: sorted(rows, key=lambda r: (-r["equity"], str(r["key"])))
                     for field, rows in figures["by"].items()}
    return figures


NAMES = ("admin", "analyst1", "manager1", "manager2", "sales1", "sales1b", "sales2",
         "marketing1")


@pytest.fixture
def small_matrix(monkeypatch):
    # A sample of six: the value matrix's top three and every stride-th customer after them.
    monkeypatch.setattr(dashboard, "SCATTER_POINTS", 6)
    monkeypatch.setattr(selectors, "SCATTER_POINTS", 6)


def test_stored_figures_are_the_live_ones_for_every_scope(users, book, small_matrix):
    stored_scopes = dashboard.store(book)
    assert set(DashboardSnapshot.objects.values_list("scope", "scope_id")) == {
        ("firm", 0), ("team", users["manager1"].team_id), ("team", users["manager2"].team_id),
        ("owner", users["sales1"].pk), ("owner", users["sales1b"].pk),
        ("owner", users["sales2"].pk)} and stored_scopes == 6
    stored = {name: selectors.dashboard_figures(users[name], book) for name in NAMES}
    assert all(f.stored for f in stored.values())
    DashboardSnapshot.objects.all().delete()
    for name in NAMES:
        live = selectors.dashboard_figures(users[name], book)
        assert not live.stored
        _same(_sorted_by(_plain(stored[name])), _sorted_by(_plain(live)), name)
    firm = stored["admin"]
    assert sum(firm.intention.values()) == 9 and len(firm.matrix) == 6
    assert sum(r["customers"] for r in firm.segments) == 18


def test_the_next_refresh_stores_its_own_figures(users, book):
    before = selectors.dashboard_figures(users["manager2"], book)
    north = Customer.objects.filter(owner=users["sales2"]).first()
    Transaction.objects.create(customer=north, date=TODAY - dt.timedelta(days=3),
                               amount=Decimal("90000.00"), cost=Decimal("100.00"))
    again = refresh_values(users["admin"], as_of=TODAY)
    assert set(DashboardSnapshot.objects.values_list("refresh", flat=True)) == {again.pk}
    after = selectors.dashboard_figures(users["manager2"], again)
    assert after.stored and after.whale["total"] > before.whale["total"] + 80000
    DashboardSnapshot.objects.all().delete()
    _same(_sorted_by(_plain(after)),
          _sorted_by(_plain(selectors.dashboard_figures(users["manager2"], again))))


def test_a_team_reads_only_its_own_figures_and_names(users, book):
    east, north = users["manager1"].team_id, users["manager2"].team_id
    figures = selectors.dashboard_figures(users["manager1"], book)
    assert figures.stored
    east_ids = set(Customer.objects.filter(team_id=east).values_list("pk", flat=True))
    assert {p["id"] for p in figures.matrix} <= east_ids
    assert {r["key"] for r in figures.by["owner"]} == {users["sales1"].pk, users["sales1b"].pk}
    assert [r["label"] for r in figures.by["team"]] == ["East 华东"]
    north_total = sum(r["customers"] for r in selectors.dashboard_figures(
        users["manager2"], book).segments)
    assert sum(r["customers"] for r in figures.segments) == 18 - north_total
    # A customer moved to the other team leaves the matrix of the old one at once, before
    # any refresh: the snapshot keeps ids, the names are read within the reader's scope.
    moved = Customer.objects.get(pk=figures.matrix[0]["id"])
    change_owner(users["admin"], moved, users["sales2"])
    assert moved.pk not in {p["id"] for p in selectors.dashboard_figures(
        users["manager1"], book).matrix}
    client = Client()
    client.force_login(users["manager1"])
    page = client.get(reverse("analytics:dashboard")).content.decode()
    assert moved.name not in page and "North 华北" not in page and "sales2" not in page
    assert DashboardSnapshot.objects.filter(scope="team", scope_id=north).exists()


def test_without_a_snapshot_the_page_computes_its_figures(users, book):
    DashboardSnapshot.objects.all().delete()
    client = Client()
    client.force_login(users["sales1"])
    response = client.get(reverse("analytics:dashboard"))
    assert response.status_code == 200
    assert response.context["tables"]["segments"]["rows"]
    # A salesperson of a team that shares its customers sees their own and the team's:
    # no stored scope is that, so their figures are computed on the spot.
    team = users["sales1"].team
    team.share_customers = True
    team.save()
    users["sales1"].refresh_from_db()
    assert dashboard.scope_of(users["sales1"]) is None
    figures = selectors.dashboard_figures(users["sales1"], book)
    assert not figures.stored and sum(r["customers"] for r in figures.segments) == int(
        np.sum([r["customers"] for r in selectors.dashboard_figures(
            users["manager1"], book).segments]))


def test_the_base_is_read_as_the_scores_say_empty_figures_included(users, book):
    """read_base (on PostgreSQL packed into text by the server) holds each scored customer's
    owner, team and figures as the rows hold them, in id order, an empty figure as what
    stands for missing."""
    from kehu.analytics.models import CustomerValue

    some = list(CustomerValue.objects.order_by("customer_id")[:2])
    CustomerValue.objects.filter(pk__in=[v.pk for v in some]).update(
        net_contribution_12m=Decimal("-12.34"), potential_value=None, value_rank=None, segment="",
        quadrant="", loyalty_attitude=None, loyalty_behaviour=None)
    base = dashboard.read_base()
    rows = list(CustomerValue.objects.order_by("customer_id").values_list(
        "customer_id", "customer__owner_id", "customer__team_id", "net_contribution_12m",
        "potential_value", "segment", "quadrant", "value_rank", "loyalty_attitude",
        "loyalty_behaviour"))
    assert len(rows) > 10 and base.id.tolist() == [r[0] for r in rows]
    assert base.owner.tolist() == [r[1] for r in rows]
    assert base.team.tolist() == [-1 if r[2] is None else r[2] for r in rows]

    def figures(i, missing):
        return [missing if r[i] is None else float(r[i]) for r in rows]

    np.testing.assert_array_equal(base.profit, figures(3, 0.0))
    np.testing.assert_array_equal(base.potential, figures(4, 0.0))
    assert base.segment.tolist() == [r[5] for r in rows]
    assert base.quadrant.tolist() == [r[6] for r in rows]
    assert base.segment[:2].tolist() == ["", ""]
    np.testing.assert_array_equal(base.rank, figures(7, np.inf))
    np.testing.assert_array_equal(base.attitude, figures(8, np.nan))
    np.testing.assert_array_equal(base.behaviour, figures(9, np.nan))
