"""The purchase history replayed at earlier dates, checked by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.analytics.data import PurchaseDays
from kehu.analytics.replay import History, firm_margin_of, month_ends


def _history():
    # Customer 5 bought on days 0, 7 and 21 (10, 20, 30); customer 9 on day 14 (50).
    return History.of(PurchaseDays(
        customer=np.array([5, 5, 5, 9]), day=np.array([0, 7, 21, 14]),
        amount=np.array([10.0, 20, 30, 50]), profit=np.array([1.0, 2, 3, 5])))


def test_standing_at_a_date_counts_only_what_happened_by_then():
    h = _history()
    s = h.at(14)
    assert s.present.tolist() == [True, True]
    assert s.purchase_days.tolist() == [2, 1]
    assert s.frequency.tolist() == [1, 0]
    assert np.allclose(s.recency, [1, 0]) and np.allclose(s.T, [2, 0])
    assert np.allclose(s.monetary, [20, 0])
    assert np.allclose(s.revenue, [30, 50]) and np.allclose(s.profit, [3, 5])
    early = h.at(3)
    assert early.present.tolist() == [True, False]
    assert early.purchase_days.tolist() == [1, 0] and np.allclose(early.revenue, [10, 0])
    late = h.at(100)
    assert np.allclose(late.monetary, [25, 0]) and np.allclose(late.recency, [3, 0])


def test_month_ends_run_from_the_first_purchase_to_the_date():
    first = (dt.date(2026, 1, 15) - dt.date(1970, 1, 1)).days
    got = month_ends(first, dt.date(2026, 4, 10), 24)
    assert got == [dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 31),
                   dt.date(2026, 4, 10)]
    assert month_ends(first, dt.date(2026, 4, 10), 2)[0] == dt.date(2026, 2, 28)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 6), st.integers(0, 60),
                          st.floats(-50, 500, allow_nan=False)), min_size=1, max_size=40),
       st.integers(-5, 70), st.integers(1, 4))
def test_a_part_of_the_buyers_stands_as_it_does_among_all(rows, day, part):
    """The replay values a month end's buyers a part at a time, from counts made for all of
    them: every figure of a part is the same as the whole's."""
    rows.sort(key=lambda r: (r[0], r[1]))
    customer, days, amount = (np.array(c) for c in zip(*rows, strict=True))
    h = History.of(PurchaseDays(customer=customer, day=days, amount=amount,
                                profit=amount / 4))
    whole = h.at(day)
    count = h.counts_at(day)
    assert count.tolist() == whole.purchase_days.tolist()
    revenue, profit = h.totals_at(count)
    assert revenue.tolist() == whole.revenue.tolist()
    assert profit.tolist() == whole.profit.tolist()
    for lo in range(0, count.size, part):
        at = slice(lo, lo + part)
        piece = h.at(day, at, count[at], (revenue[at], profit[at]))
        alone = h.at(day, at)
        for name in ("present", "purchase_days", "frequency", "recency", "T", "monetary",
                     "revenue", "profit", "first_day", "last_day"):
            assert getattr(piece, name).tolist() == getattr(whole, name)[at].tolist(), name
            assert getattr(alone, name).tolist() == getattr(whole, name)[at].tolist(), name


def test_the_firm_margin_is_profit_over_the_sales_of_buyers_with_sales():
    assert firm_margin_of(np.array([100.0, 0, -20, 300]), np.array([10.0, 5, -8, 30])) \
        == 0.1
    assert firm_margin_of(np.array([0.0, -5]), np.array([1.0, 1])) == 0.0
    assert firm_margin_of(np.array([10.0]), np.array([-30.0])) == -1.0
