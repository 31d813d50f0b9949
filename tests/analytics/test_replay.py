"""The purchase history replayed at earlier dates, checked by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np

from kehu.analytics.data import PurchaseDays
from kehu.analytics.replay import History, month_ends


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
