"""The value refresh on a small firm whose figures are worked out by hand, beside a simulated
base large enough for the models to fit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from django.utils import timezone

from kehu.analytics.models import CustomerValue, CustomerValueSnapshot, Referral, ValueRefresh
from kehu.analytics.refresh import refresh_values
from kehu.audit.models import AuditEvent
from kehu.customers.models import (
    Customer,
    LifecycleState,
    LifecycleTransition,
    Transaction,
    TransactionKind,
)
from kehu.sales.models import Activity, ActivityKind
from kehu.tasks.models import Task, TaskStatus
from kehu.value.datasets import simulate_transactions

AS_OF = dt.date(2021, 12, 31)


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10), tzinfo=timezone.get_current_timezone())


def _simulated(users, n: int = 150, spend: dict | None = None) -> list[Customer]:
    """n simulated customers of sales1 and sales2 with their purchases."""
    log = simulate_transactions(n, seed=3, start="2020-01-01", as_of=AS_OF.isoformat(),
                                spend=spend)
    owners = [users["sales1"], users["sales2"]]
    sims = Customer.objects.bulk_create([
        Customer(name=f"Sim {i}", owner=owners[i % 2], team_id=owners[i % 2].team_id,
                 lifecycle_state=LifecycleState.FIRST_PURCHASE) for i in range(n)])
    Transaction.objects.bulk_create([
        Transaction(customer=sims[int(c) - 1], date=d.astype(object), amount=Decimal(f"{a:.2f}"),
                    cost=Decimal(f"{a * 0.6:.2f}"))
        for c, d, a in zip(log.customer_id, log.date, log.amount, strict=True)])
    return sims


@pytest.fixture
def firm(users):
    """150 simulated customers of sales1 and sales2, and four made by hand."""
    sims = _simulated(users)

    def make(name, state=LifecycleState.POTENTIAL, owner="sales1"):
        return Customer.objects.create(name=name, owner=users[owner],
                                       team_id=users[owner].team_id, lifecycle_state=state)

    a, b = make("Referrer A"), make("Referred B")
    gone, prospect = make("Gone G"), make("Prospect P")
    refused = make("Refused N", state=LifecycleState.NON_CUSTOMER)
    for customer, day, amount, cost, kind in [
        (a, dt.date(2021, 3, 1), "100.00", "60.00", TransactionKind.ORDER),
        (a, dt.date(2021, 9, 1), "50.00", "30.00", TransactionKind.ORDER),
        (a, dt.date(2021, 9, 20), "-20.00", "-12.00", TransactionKind.RETURN),
        (b, dt.date(2021, 6, 1), "300.00", "200.00", TransactionKind.ORDER),
        (b, dt.date(2021, 11, 1), "300.00", "200.00", TransactionKind.ORDER),
        (gone, dt.date(2020, 2, 1), "80.00", "50.00", TransactionKind.ORDER),
        (refused, dt.date(2021, 12, 1), "10.00", "5.00", TransactionKind.ORDER),
    ]:
        Transaction.objects.create(customer=customer, date=day, amount=Decimal(amount),
                                   cost=Decimal(cost), kind=kind)
    for kind, n in [(ActivityKind.CALL, 2), (ActivityKind.VISIT, 1), (ActivityKind.NOTE, 1)]:
        for _ in range(n):
            Activity.objects.create(customer=a, kind=kind, subject=kind,
                                    occurred_at=_at(dt.date(2021, 10, 1)))
    # Work still to do is no cost yet, and a task is not an activity at all.
    Task.objects.create(customer=a, title="Call back", status=TaskStatus.DONE)
    Referral.objects.create(referrer=a, referred=b, referred_on=dt.date(2021, 5, 30))
    return {"a": a, "b": b, "gone": gone, "prospect": prospect, "refused": refused,
            "sims": sims}


def _value(customer) -> CustomerValue:
    return CustomerValue.objects.get(customer=customer)


def test_realised_value_is_sales_less_cost_of_goods_less_cost_to_serve(firm, users):
    run = refresh_values(users["admin"], as_of=AS_OF)
    assert run.status == "done" and run.customers == 155
    a = _value(firm["a"])
    # Orders 100 + 50, a return of 20; cost of goods 60 + 30 − 12.
    assert a.revenue == Decimal("130.00") and a.gross_profit == Decimal("52.00")
    # Two calls (5 each) and a note (0) are the cost to serve; the visit (80) is on-site
    # service, an investment in the relationship: shown, not deducted.
    assert a.cost_to_serve == Decimal("10.00")
    assert a.relationship_investment == Decimal("80.00")
    assert a.net_contribution == Decimal("42.00")
    assert a.purchase_days == 2  # the return is not a purchase
    # All of it within the last 12 months: current value is the same.
    assert (a.gross_profit_12m, a.cost_to_serve_12m, a.relationship_investment_12m,
            a.net_contribution_12m) == (Decimal("52.00"), Decimal("10.00"), Decimal("80.00"),
                                        Decimal("42.00"))


def test_a_visit_marked_as_investment_does_not_reduce_realised_value(firm, users):
    from kehu.analytics.models import ActivityCost
    from kehu.analytics.services import set_activity_cost

    refresh_values(users["admin"], as_of=AS_OF)
    before = _value(firm["a"])
    Activity.objects.create(customer=firm["a"], kind=ActivityKind.VISIT, subject="On site",
                            occurred_at=_at(dt.date(2021, 11, 1)))
    refresh_values(users["admin"], as_of=AS_OF)
    after = _value(firm["a"])
    assert after.net_contribution == before.net_contribution
    assert after.net_contribution_12m == before.net_contribution_12m
    assert after.relationship_investment == before.relationship_investment + 80
    # An administrator who counts visits as cost to serve again sees them deducted.
    set_activity_cost(users["admin"], "visit", "80", investment=False)
    assert not ActivityCost.objects.get(kind="visit").investment
    refresh_values(users["admin"], as_of=AS_OF)
    counted = _value(firm["a"])
    assert counted.relationship_investment == 0
    assert counted.net_contribution == before.net_contribution - 160


def test_influence_value_is_what_the_referred_customers_are_worth(firm, users):
    refresh_values(users["admin"], as_of=AS_OF)
    a, b = _value(firm["a"]), _value(firm["b"])
    assert b.net_contribution == Decimal("200.00")
    assert b.potential_value is not None and b.potential_value > 0
    assert a.influence_value == b.net_contribution + b.potential_value
    assert _value(firm["b"]).influence_value == 0


def test_potential_value_and_standing_come_from_the_fitted_models(firm, users):
    run = refresh_values(users["admin"], as_of=AS_OF)
    assert set(run.fit["purchases"]["params"]) == {"r", "alpha", "a", "b"}
    assert set(run.fit["gamma_gamma"]["params"]) == {"p", "q", "v"}
    values = CustomerValue.objects.exclude(customer=firm["prospect"])
    assert all(0 <= v.p_alive <= 1 and v.clv >= 0 for v in values)
    prospect = _value(firm["prospect"])
    assert prospect.p_alive is None and prospect.clv is None and prospect.segment == ""
    assert prospect.lookalike is not None  # prospects are compared with loyal customers
    # The best customer by value is ranked first; ranks are a permutation.
    ranks = sorted(CustomerValue.objects.values_list("value_rank", flat=True))
    assert ranks == list(range(1, 156))
    buyers = CustomerValue.objects.exclude(customer=firm["prospect"])
    assert {v.segment for v in buyers} <= {"invest", "develop", "maintain", "minimise"}
    assert all(v.segment for v in buyers) and all(v.rfm for v in buyers)


@pytest.mark.parametrize("model, stored", [("mbgnbd", "mbgnbd"), ("pareto-nbd", "pareto_nbd")])
def test_with_mbgnbd_or_pareto_nbd_a_one_time_buyer_who_stays_away_fades(firm, users, model,
                                                                         stored):
    from kehu.analytics.models import ValueSettings

    settings = ValueSettings.current()
    settings.model = model
    settings.save()
    run = refresh_values(users["admin"], as_of=AS_OF)
    assert run.fit["purchases"]["model"] == stored
    gone = _value(firm["gone"])  # bought once, in February 2020
    assert gone.purchase_days == 1 and 0 < gone.p_alive < 0.5


def test_with_bgnbd_a_one_time_buyer_fades_too_and_the_card_says_why(firm, users):
    from django.test import Client

    from kehu.analytics.models import ValueSettings

    settings = ValueSettings.current()
    settings.model = "bgnbd"  # pinned, whatever the holdout prefers
    settings.save()
    run = refresh_values(users["admin"], as_of=AS_OF)
    assert run.fit["purchases"]["model"] == "bgnbd"
    gone = _value(firm["gone"])  # bought once, in February 2020: BG/NBD alone says 1.0
    assert gone.purchase_days == 1 and 0 < gone.p_alive < 0.3
    client = Client()
    client.force_login(users["sales1"])
    body = client.get(f"/customers/{firm['gone'].pk}/?tab=value").content.decode()
    assert "their P(alive) comes from MBG/NBD" in body
    body = client.get(f"/customers/{firm['a'].pk}/?tab=value").content.decode()
    assert "their P(alive) comes from MBG/NBD" not in body


def test_lifecycle_is_derived_with_its_reason_but_a_non_customer_stays_one(firm, users):
    refresh_values(users["admin"], as_of=AS_OF)
    gone = Customer.objects.get(pk=firm["gone"].pk)
    assert gone.lifecycle_state == LifecycleState.CHURNED
    transition = LifecycleTransition.objects.filter(customer=gone).latest("at")
    assert transition.source == "derived" and transition.by is None
    gone_value = _value(gone)
    assert transition.reason == f"P(alive) fell to {gone_value.p_alive:.2f}, below 0.30"
    assert Customer.objects.get(pk=firm["b"].pk).lifecycle_state == LifecycleState.REPEAT_PURCHASE
    assert Customer.objects.get(pk=firm["refused"].pk).lifecycle_state == "non_customer"
    assert Customer.objects.get(pk=firm["prospect"].pk).lifecycle_state == "potential"


def test_moving_into_a_segment_makes_one_task_however_often_it_runs(firm, users):
    refresh_values(users["admin"], as_of=AS_OF)
    # The first refresh gives work at once (within the cap per owner).
    assert Task.objects.filter(origin__startswith="segment:").exists()
    weakest = CustomerValue.objects.filter(segment="minimise").order_by("value_rank").last()
    Transaction.objects.create(customer_id=weakest.customer_id, date=AS_OF,
                               amount=Decimal("90000.00"), cost=Decimal("10000.00"))
    for _ in range(3):
        refresh_values(users["admin"], as_of=AS_OF)
    moved = _value(weakest.customer)
    assert moved.segment != "minimise"
    tasks = Task.objects.filter(customer_id=weakest.customer_id, origin__startswith="segment:")
    assert tasks.count() == len({t.origin for t in tasks}) >= 1
    task = tasks.first()
    assert task.assignee == weakest.customer.owner and task.reason
    assert task.due_on > AS_OF and task.status == TaskStatus.OPEN


def test_each_refresh_keeps_a_snapshot_and_is_audited(firm, users):
    first = refresh_values(users["admin"], as_of=AS_OF - dt.timedelta(days=30))
    second = refresh_values(users["admin"], as_of=AS_OF)
    snaps = CustomerValueSnapshot.objects.filter(customer=firm["b"]).order_by("as_of")
    assert [s.refresh_id for s in snaps] == [first.pk, second.pk]
    assert AuditEvent.objects.filter(action="value.refresh").count() == 2
    assert ValueRefresh.objects.filter(status="done").count() == 2


def test_deleting_a_customer_or_a_refresh_takes_its_scores_and_snapshots(firm, users):
    # The scores have no foreign-key constraints in the database: Django's CASCADE and
    # PROTECT are what keep them whole.
    from django.db.models import ProtectedError

    from kehu.customers.services import delete_customer

    first = refresh_values(users["admin"], as_of=AS_OF)
    second = refresh_values(users["admin"], as_of=AS_OF + dt.timedelta(days=7))
    pk = firm["prospect"].pk  # no transactions: it may be deleted
    assert CustomerValue.objects.filter(customer_id=pk).exists()
    assert CustomerValueSnapshot.objects.filter(customer_id=pk).count() == 2
    delete_customer(users["admin"], Customer.objects.get(pk=pk))
    assert not CustomerValue.objects.filter(customer_id=pk).exists()
    assert not CustomerValueSnapshot.objects.filter(customer_id=pk).exists()
    # The latest scores are the second refresh's: it cannot go while they stand.
    with pytest.raises(ProtectedError):
        second.delete()
    first_pk = first.pk
    first.delete()
    assert not CustomerValueSnapshot.objects.filter(refresh_id=first_pk).exists()
    assert CustomerValueSnapshot.objects.filter(refresh=second).exists()


def test_the_migration_counts_give_a_stochastic_matrix(firm, users):
    from kehu.value.markov import MarkovChain

    run = refresh_values(users["admin"], as_of=AS_OF)
    moves = np.array(run.migration["moves"])
    assert moves.sum() > 0
    chain = MarkovChain.estimate(np.zeros((0, 2), dtype=int), run.migration["states"])
    matrix = np.where(moves.sum(axis=1, keepdims=True) > 0,
                      moves / np.maximum(moves.sum(axis=1, keepdims=True), 1), chain.matrix)
    assert np.allclose(matrix.sum(axis=1), 1)


def test_a_base_the_models_cannot_fit_still_gets_its_realised_value(users):
    customer = Customer.objects.create(name="Only one", owner=users["sales1"],
                                       team_id=users["sales1"].team_id)
    Transaction.objects.create(customer=customer, date=AS_OF, amount=Decimal("10.00"),
                               cost=Decimal("4.00"))
    run = refresh_values(users["admin"], as_of=AS_OF)
    assert run.status == "done"
    assert [w["code"] for w in run.warnings] == ["bgnbd_failed"]
    value = _value(customer)
    assert value.gross_profit == Decimal("6.00") and value.clv is None


def test_a_spend_model_that_cannot_be_fitted_keeps_p_alive_and_expected_purchases(users):
    # Spend with so heavy a tail of big spenders that Gamma-Gamma lands on q < 1, where
    # expected spend does not exist: the spend model is refused, the purchase model is not.
    _simulated(users, spend={"p": 4.0, "q": 0.6, "v": 10.0})
    run = refresh_values(users["admin"], as_of=AS_OF)
    assert run.status == "done"
    assert run.fit["purchases"] is not None and run.fit["gamma_gamma"] is None
    assert [w["code"] for w in run.warnings] == ["gamma_gamma_failed"]
    message = run.warnings[0]["message"]
    assert "CLV and potential value are left empty" in message
    assert "P(alive) and expected purchases come from the purchase model alone and are " \
           "kept" in message
    assert "q = 0." in message and "<= 1" in message
    values = list(CustomerValue.objects.all())
    assert len(values) == 150
    assert all(0 <= v.p_alive <= 1 and v.expected_purchases > 0 for v in values)
    assert all(v.clv is None and v.potential_value is None for v in values)
    # The purchase model's figures still decide the lifecycle and the quadrants.
    assert {v.quadrant for v in values} - {""}


def test_a_clv_that_cannot_be_computed_keeps_p_alive_and_expected_purchases(firm, users,
                                                                          monkeypatch):
    from kehu.value import ValueModelError

    def overflowing(*args, **kwargs):
        raise ValueModelError("CLV overflows for 3 customers: expected purchases times "
                              "expected spend is beyond float64")

    monkeypatch.setattr("kehu.analytics.refresh.profit_clv_details", overflowing)
    run = refresh_values(users["admin"], as_of=AS_OF)
    assert run.fit["gamma_gamma"] is not None  # the spend model was fitted; CLV failed later
    assert [w["code"] for w in run.warnings] == ["clv_failed"]
    assert "CLV overflows for 3 customers" in run.warnings[0]["message"]
    buyers = CustomerValue.objects.exclude(customer=firm["prospect"])
    assert buyers.count() == 154
    assert all(0 <= v.p_alive <= 1 and v.expected_purchases is not None for v in buyers)
    assert not buyers.filter(clv__isnull=False).exists()
    assert not buyers.filter(potential_value__isnull=False).exists()


@pytest.mark.parametrize("day, message", [
    (dt.date(2999, 1, 1), "later purchases are not known yet"),
    (dt.date(2019, 1, 1), "Nobody had bought anything by 2019-01-01"),
])
def test_a_refresh_refuses_a_day_it_cannot_score(firm, users, day, message):
    from kehu.core.errors import ServiceError

    states = dict(Customer.objects.values_list("pk", "lifecycle_state"))
    with pytest.raises(ServiceError, match=message):
        refresh_values(users["admin"], as_of=day)
    assert not ValueRefresh.objects.exists() and not CustomerValue.objects.exists()
    assert dict(Customer.objects.values_list("pk", "lifecycle_state")) == states


def test_the_command_refuses_a_bad_day_with_status_2(firm):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    for day in ("2999-01-01", "garbage", "9999-12-31"):
        with pytest.raises(CommandError) as refused:
            call_command("value", "refresh", "--as-of", day)
        assert refused.value.returncode == 2
    assert not ValueRefresh.objects.exists()


def _bgnbd_expected(params: dict, x: float, tx: float, T: float, t: float) -> float:
    """Fader, Hardie & Lee (2005), eq. 10: purchases expected in (T, T + t], by hand."""
    from scipy.special import hyp2f1

    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    head = (a + b + x - 1) / (a - 1) * (
        1 - ((alpha + T) / (alpha + T + t)) ** (r + x)
        * hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t)))
    dropped = a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x) if x > 0 else 0.0
    return head / (1 + dropped)


def test_clv_is_the_discounted_profit_of_the_remaining_relationship(firm, users):
    """Customer A's CLV worked out from the fitted parameters: purchases expected month by
    month (BG/NBD), spend per purchase (Gamma-Gamma), A's margin shrunk towards the firm's,
    less A's cost to serve per purchase, discounted 1% a month over ten years."""
    run = refresh_values(users["admin"], as_of=AS_OF)
    assert run.horizon_months == 120 and run.clv_basis == "profit"
    bg, gg = run.fit["purchases"]["params"], run.fit["gamma_gamma"]["params"]
    # A bought on 2021-03-01 (100, cost 60) and 2021-09-01 (50, cost 30); the return of
    # 2021-09-20 is not a purchase. Weeks: one repeat purchase, at 184 days, age 305 days.
    x, tx, T, mean_spend = 1.0, 184 / 7, 305 / 7, 50.0
    spend = gg["p"] * (gg["v"] + x * mean_spend) / (gg["p"] * x + gg["q"] - 1)
    orders = Transaction.objects.filter(kind=TransactionKind.ORDER)
    firm_margin = float(sum(t.amount - t.cost for t in orders) / sum(t.amount for t in orders))
    # A's own margin 60 / 150 = 40%, on 2 purchases: it weighs 2 / (2 + 5).
    margin = 2 / 7 * 0.4 + 5 / 7 * firm_margin
    # Two calls at 5 over two purchase days; the visit is an investment, not a cost.
    profit = spend * margin - 5.0
    months = np.arange(0, 121)
    expected = np.array([_bgnbd_expected(bg, x, tx, T, 4.345 * m) for m in months])
    monthly = np.diff(expected) * profit / 1.01 ** months[1:]
    a = _value(firm["a"])
    assert float(a.clv) == pytest.approx(monthly.sum(), abs=0.006)
    assert float(a.clv_12m) == pytest.approx(monthly[:12].sum(), abs=0.006)
    assert a.margin == pytest.approx(margin, rel=1e-4)
    assert a.expected_purchases == pytest.approx(expected[-1], rel=1e-6)
    assert 0 < a.clv_12m < a.clv
    # Potential value is that same profit; customer equity is the sum of the CLVs.
    values = CustomerValue.objects.exclude(clv=None)
    assert all(v.potential_value == v.clv for v in values)
    from kehu.analytics.models import EquitySnapshot

    equity = sum(e.equity for e in EquitySnapshot.objects.filter(refresh=run, as_of=AS_OF))
    assert float(equity) == pytest.approx(float(sum(v.clv for v in values)), abs=1.0)


def test_rank_segment_and_whale_curve_use_one_current_value(firm, users):
    """Current value is the net contribution of the last 12 months everywhere: the rank
    orders by it, and a high-current segment never holds a customer below a low one."""
    refresh_values(users["admin"], as_of=AS_OF)
    values = list(CustomerValue.objects.order_by("value_rank"))
    current = [v.net_contribution_12m for v in values]
    assert current == sorted(current, reverse=True)
    high = [v.net_contribution_12m for v in values if v.segment in {"invest", "maintain"}]
    low = [v.net_contribution_12m for v in values if v.segment in {"develop", "minimise"}]
    assert high and low and min(high) >= max(low)
    # "Gone" bought only in 2020: nothing in the last 12 months, whatever it did before.
    gone = _value(firm["gone"])
    assert gone.net_contribution == Decimal("30.00") and gone.net_contribution_12m == 0


def test_month_ends_scored_a_part_of_the_buyers_at_a_time_give_the_same_history(
        firm, users, monkeypatch):
    """A month end's buyers are scored a part at a time (to bound the replay's memory),
    with the firm's margin of all of them: the equity history and the moves are those of
    all buyers at once."""
    from kehu.analytics import refresh as refresh_module
    from kehu.analytics.models import EquitySnapshot
    from kehu.analytics.replay import History

    def history(run):
        return sorted(EquitySnapshot.objects.filter(refresh=run).values_list(
            "as_of", "owner_id", "segment", "customers", "equity", "net_contribution",
            "moves", "states"), key=lambda r: (r[0], r[1], r[2])), run.migration

    whole = history(refresh_values(users["admin"], as_of=AS_OF))
    CustomerValue.objects.all().delete()
    CustomerValueSnapshot.objects.all().delete()
    ValueRefresh.objects.all().delete()
    parts = []
    real = History.at

    def counted(history, day, buyers=slice(None), count=None, totals=None):
        parts.append(buyers)
        return real(history, day, buyers, count, totals)

    monkeypatch.setattr(refresh_module, "REPLAY_PART", 2)
    monkeypatch.setattr(History, "at", counted)
    sliced = history(refresh_values(users["admin"], as_of=AS_OF))
    assert len(parts) > 2 * len(whole[1]["months"]) and any(r[4] for r in whole[0])
    assert whole == sliced


def test_a_model_failing_for_some_buyers_empties_the_whole_month_end_as_before(
        firm, users, monkeypatch):
    """CLV that cannot be computed for one buyer is left empty for every buyer of that
    month end, whether the buyers are valued all at once or a part at a time."""
    from django.db.models import Count

    from kehu.analytics import refresh as refresh_module
    from kehu.analytics.models import EquitySnapshot
    from kehu.value.errors import ValueModelError

    most = max(Transaction.objects.filter(kind=TransactionKind.ORDER).values(
        "customer").annotate(days=Count("date", distinct=True)).values_list("days", flat=True))
    real = refresh_module.profit_clv_details
    refused = []

    def failing(model, gg, f, *args, **kwargs):
        if (np.asarray(f) >= most - 1).any():  # the most frequent buyer, late on
            refused.append(len(f))
            raise ValueModelError("an overflow")
        return real(model, gg, f, *args, **kwargs)

    monkeypatch.setattr(refresh_module, "profit_clv_details", failing)

    def history(run):
        return sorted(EquitySnapshot.objects.filter(refresh=run).values_list(
            "as_of", "owner_id", "segment", "customers", "equity", "moves", "states"),
            key=lambda r: (r[0], r[1], r[2])), run.migration

    whole = history(refresh_values(users["admin"], as_of=AS_OF))
    CustomerValue.objects.all().delete()
    CustomerValueSnapshot.objects.all().delete()
    ValueRefresh.objects.all().delete()
    monkeypatch.setattr(refresh_module, "REPLAY_PART", 2)
    parts = history(refresh_values(users["admin"], as_of=AS_OF))
    assert refused and min(refused) <= 2
    by_month = {}
    for row in whole[0]:
        by_month[row[0]] = by_month.get(row[0], 0) + row[4]
    assert 0 in by_month.values() and any(by_month.values())
    assert whole == parts


def test_month_ends_scored_two_at_a_time_add_up_to_the_same_history(firm, users, monkeypatch):
    """A big base's replay scores two month ends at once on threads (the ActiveSchedules
    cache shared between them): the equity history and the moves are those of one thread."""
    from kehu.analytics import refresh as refresh_module
    from kehu.analytics.models import EquitySnapshot

    def history(run):
        rows = sorted(EquitySnapshot.objects.filter(refresh=run).values_list(
            "as_of", "owner_id", "segment", "customers", "equity", "moves", "states"),
            key=lambda r: (r[0], r[1], r[2]))
        return rows, run.migration

    one = history(refresh_values(users["admin"], as_of=AS_OF))
    CustomerValue.objects.all().delete()
    CustomerValueSnapshot.objects.all().delete()
    ValueRefresh.objects.all().delete()  # so that the next one compares models afresh
    monkeypatch.setattr(refresh_module, "REPLAY_THREADS_FROM", 0)
    started = []
    real = refresh_module.ThreadPoolExecutor

    def counted(*args, **kwargs):
        started.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(refresh_module, "ThreadPoolExecutor", counted)
    two = history(refresh_values(users["admin"], as_of=AS_OF))
    assert started and len(one[0]) > 10
    assert one == two


def test_the_refresh_reads_the_scores_and_customers_as_they_are_row_by_row(firm, users):
    """On PostgreSQL the whole-table reads of the write come packed into text by the server
    (kehu.analytics.data._packed): they hold what reading the rows one by one holds, in id
    order, empty P(alive) and segments included."""
    from kehu.analytics import data

    refresh_values(users["admin"], as_of=AS_OF)
    some = list(CustomerValue.objects.order_by("customer_id").values_list(
        "customer_id", flat=True)[:3])
    CustomerValue.objects.filter(customer_id__in=some[:2]).update(
        p_alive=None, segment="", at_risk=True)
    read = data.previous_scores()
    rows = data._fetch("SELECT customer_id, segment, quadrant, p_alive, at_risk FROM "
                       "analytics_customervalue ORDER BY customer_id", [],
                       [np.int64, object, object, np.float64, bool])
    assert read[0].size == len(firm["sims"]) + 5 and read[0].dtype == np.int64
    assert [v.tolist() for v in read[:3]] == [v.tolist() for v in rows[:3]]
    np.testing.assert_array_equal(read[3], rows[3])  # NaN where empty
    assert np.isnan(read[3][:2]).all() and read[1][:2].tolist() == ["", ""]
    assert read[4].tolist() == rows[4].tolist() and read[4][:2].all()
    present = data.present_customers(lock=False)
    ids, owners = data._fetch("SELECT id, owner_id FROM customers_customer ORDER BY id", [],
                              [np.int64, np.int64])
    assert present.id.tolist() == ids.tolist() and present.owner.tolist() == owners.tolist()
    CustomerValue.objects.all().delete()
    assert [v.size for v in data.previous_scores()] == [0] * 5
