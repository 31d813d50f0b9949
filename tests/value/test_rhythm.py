"""The purchase rhythm per customer and product (kehu.value.rhythm), by hand."""

import numpy as np
import pytest

from kehu.value.errors import ValueModelError
from kehu.value.rhythm import due_again


def test_a_weekly_product_is_due_a_week_after_its_last_purchase():
    days = [100, 107, 114, 121]
    due = due_again([0] * 4, [5] * 4, days, as_of=125, horizon=14)
    assert due.customer.tolist() == [0] and due.product.tolist() == [5]
    assert due.rhythm.tolist() == [7.0] and due.due.tolist() == [128]
    assert due.days.tolist() == [4] and due.last.tolist() == [121]
    assert due.regularity.tolist() == [1.0]


def test_the_median_gap_ignores_one_long_holiday():
    due = due_again([0] * 5, [1] * 5, [0, 10, 20, 80, 90], as_of=95, horizon=10)
    assert due.rhythm.tolist() == [10.0] and due.due.tolist() == [100]


def test_a_product_due_after_the_horizon_or_given_up_is_left_out():
    # Monthly, bought 3 days ago: due in 27 days, after a 14-day horizon.
    later = due_again([0] * 3, [1] * 3, [0, 30, 60], as_of=63, horizon=14)
    assert len(later) == 0
    # Weekly, but not bought for 5 weeks: given up.
    lapsed = due_again([0] * 3, [1] * 3, [0, 7, 14], as_of=14 + 35, horizon=14)
    assert len(lapsed) == 0
    # Overdue by two weeks is still due.
    overdue = due_again([0] * 3, [1] * 3, [0, 7, 14], as_of=14 + 14, horizon=14)
    assert overdue.due.tolist() == [21]


def test_a_rhythm_needs_enough_purchase_days_and_one_day_counts_once():
    # Three rows on two days: no rhythm with the default of three days.
    assert len(due_again([0] * 3, [1] * 3, [0, 0, 7], as_of=8, horizon=14)) == 0
    assert len(due_again([0] * 3, [1] * 3, [0, 0, 7], as_of=8, horizon=14, min_days=2)) == 1


def test_purchases_after_the_day_are_ignored_and_pairs_sort_by_customer_then_due():
    c = [1, 1, 1, 1, 1, 1, 0, 0, 0]
    p = [7, 7, 7, 8, 8, 8, 7, 7, 7]
    d = [0, 10, 20, 0, 5, 10, 12, 15, 18]
    due = due_again(c, p, d, as_of=20, horizon=30)
    rows = zip(due.customer.tolist(), due.product.tolist(), due.due.tolist(), strict=True)
    assert list(rows) == [(0, 7, 21), (1, 8, 15), (1, 7, 30)]
    assert len(due_again(c, p, np.array(d) + 100, as_of=20, horizon=30)) == 0


def test_bad_input_is_named():
    with pytest.raises(ValueModelError, match="differ in length"):
        due_again([0], [1, 2], [3], as_of=0, horizon=1)
    with pytest.raises(ValueModelError, match="whole numbers"):
        due_again([0.5], [1], [3], as_of=0, horizon=1)
    with pytest.raises(ValueModelError, match="min_days"):
        due_again([0], [1], [3], as_of=0, horizon=1, min_days=1)
