"""The value refresh reads every purchase into arrays (kehu.analytics.data.transactions). On
PostgreSQL a large table is read in two halves of the customer ids on two connections at
once, in one snapshot; what it reads is what one connection reads."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from django.db import connection

from kehu.analytics import data
from kehu.customers.models import Customer, Transaction, TransactionKind

AS_OF = dt.date(2021, 12, 31)

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql",
                                   reason="PostgreSQL's exported snapshots")


def _purchases(owner) -> None:
    rng = np.random.default_rng(5)
    customers = Customer.objects.bulk_create(
        Customer(name=f"客户{i}", owner=owner, team_id=owner.team_id) for i in range(40))
    rows = []
    for customer in customers[:-1]:  # the last one never bought
        for _ in range(int(rng.integers(1, 9))):
            day = dt.date(2020, 1, 1) + dt.timedelta(days=int(rng.integers(0, 800)))
            amount = Decimal(f"{rng.uniform(5, 500):.2f}")
            kind = TransactionKind.RETURN if rng.random() < 0.1 else TransactionKind.ORDER
            sign = -1 if kind == TransactionKind.RETURN else 1
            rows.append(Transaction(customer=customer, date=day, amount=sign * amount,
                                    cost=sign * (amount / 2).quantize(Decimal("0.01")),
                                    kind=kind))
            # A second order on the same day is added to the day's purchase.
            if rng.random() < 0.2:
                rows.append(Transaction(customer=customer, date=day, amount=Decimal("7.50"),
                                        cost=Decimal("2.00"), kind=TransactionKind.ORDER))
    Transaction.objects.bulk_create(rows)


def _read(monkeypatch, halves_from: int) -> tuple:
    monkeypatch.setattr(data, "READ_TWO_HALVES_FROM", halves_from)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_transaction")  # the planner's row count
    return data.transactions(AS_OF, AS_OF - dt.timedelta(days=365))


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_halves_read_on_two_connections_hold_what_one_read_holds(users, monkeypatch):
    _purchases(users["sales1"])
    one_days, one_realised = _read(monkeypatch, 10**12)
    pools = []
    real = data.ThreadPoolExecutor

    def counted(*args, **kwargs):
        pools.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(data, "ThreadPoolExecutor", counted)
    two_days, two_realised = _read(monkeypatch, 0)
    assert pools, "the second half was not read on a thread of its own"
    assert one_days.customer.size > 100
    for name in ("customer", "day", "amount", "profit"):
        np.testing.assert_allclose(getattr(two_days, name), getattr(one_days, name),
                                   rtol=1e-12)
    for name in ("customer", "revenue", "gross_profit", "revenue_recent",
                 "gross_profit_recent"):
        np.testing.assert_allclose(getattr(two_realised, name), getattr(one_realised, name),
                                   rtol=1e-12)
    # In order of customer and day across the halves' seam, as the refresh needs them.
    key = two_days.customer * 100_000 + two_days.day
    assert (np.diff(key) > 0).all()
    assert not connection.in_atomic_block  # the snapshot's transaction is over


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_purchases_after_the_day_scored_are_left_out_of_both_halves(users, monkeypatch):
    _purchases(users["sales1"])
    last = Transaction.objects.order_by("customer_id").last()
    Transaction.objects.create(customer=last.customer, date=AS_OF + dt.timedelta(days=1),
                               amount=Decimal("999.00"), cost=Decimal("1.00"))
    days, _realised = _read(monkeypatch, 0)
    assert days.day.max() <= data.day_number(AS_OF)
