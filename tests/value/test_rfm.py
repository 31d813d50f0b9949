"""From transactions to frequency / recency / T / monetary value."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from kehu.value import RFMSummary, ValueModelError, rfm_summary


def small_log():
    # c1: first day twice (amounts add up), then two repeat days, one of them twice.
    # c2: one purchase only. c3: first purchase after as_of. c1 also buys after as_of.
    ids = ["c1", "c1", "c1", "c1", "c1", "c2", "c3", "c1"]
    dates = ["2024-01-01", "2024-01-01", "2024-01-08", "2024-01-15", "2024-01-15",
             "2024-01-10", "2024-03-01", "2024-03-05"]
    amounts = [10.0, 5.0, 20.0, 7.0, 3.0, 99.0, 1.0, 1000.0]
    return ids, np.array(dates, dtype="datetime64[D]"), amounts


def test_it_counts_repeat_purchase_days_and_their_mean_amount():
    s = rfm_summary(*small_log(), as_of="2024-01-29")
    assert isinstance(s, RFMSummary)
    assert list(s.customer_id) == ["c1", "c2"]  # c3 first bought after as_of: left out
    np.testing.assert_allclose(s.frequency, [2, 0])
    np.testing.assert_allclose(s.recency, [14 / 7, 0])
    np.testing.assert_allclose(s.T, [28 / 7, 19 / 7])
    # Repeat days: 20 and 7 + 3 = 10; the first day (10 + 5) is not a repeat purchase.
    np.testing.assert_allclose(s.monetary_value, [15.0, 0.0])
    assert s.frequency_holdout is None


def test_it_measures_time_in_days_when_asked():
    s = rfm_summary(*small_log(), as_of=dt.date(2024, 1, 29), time_unit="D")
    np.testing.assert_allclose(s.recency, [14, 0])
    np.testing.assert_allclose(s.T, [28, 19])


def test_it_ignores_transactions_after_as_of():
    with_late = rfm_summary(*small_log(), as_of="2024-02-01")
    assert with_late.monetary_value[0] == 15.0  # the 1000 on 2024-03-05 is not counted


def test_it_splits_calibration_and_holdout():
    s = rfm_summary(*small_log(), as_of="2024-03-31", calibration_end="2024-01-10",
                    time_unit="D")
    assert list(s.customer_id) == ["c1", "c2"]  # c3 starts in the holdout: left out
    np.testing.assert_allclose(s.frequency, [1, 0])
    np.testing.assert_allclose(s.T, [9, 0])
    np.testing.assert_allclose(s.frequency_holdout, [2, 0])  # 01-15 and 03-05
    np.testing.assert_allclose(s.monetary_value_holdout, [(10 + 1000) / 2, 0])
    np.testing.assert_allclose(s.duration_holdout, [81, 81])
    assert set(s.columns()) >= {"frequency_holdout", "duration_holdout"}


def test_it_accepts_integer_ids_and_yyyymmdd_as_of():
    ids = np.array([7, 7, 3, 10**12])
    dates = np.array(["2024-01-01", "2024-01-02", "2024-01-01", "2024-01-01"],
                     dtype="datetime64[D]")
    s = rfm_summary(ids, dates, [1.0, 2.0, 3.0, 4.0], as_of="20240110", time_unit="D")
    assert list(s.customer_id) == [3, 7, 10**12]
    np.testing.assert_allclose(s.frequency, [0, 1, 0])
    np.testing.assert_allclose(s.monetary_value, [0, 2, 0])


def test_it_matches_the_published_cdnow_summary(cdnow):
    assert len(cdnow) == 2357
    assert cdnow.frequency.sum() == 2457  # repeat purchases in weeks 1-39 (FHL 2005)
    assert (cdnow.frequency > 0).sum() == 946
    assert cdnow.T.max() == pytest.approx(272 / 7)


@pytest.mark.parametrize("kwargs, message", [
    ({"time_unit": "M"}, "time_unit"),
    ({"as_of": "not a date"}, "as_of"),
    ({"calibration_end": "2024-12-31"}, "calibration_end must be before as_of"),
])
def test_it_refuses_bad_options(kwargs, message):
    args = {"as_of": "2024-06-30", **kwargs}
    with pytest.raises(ValueModelError, match=message):
        rfm_summary(*small_log(), **args)


def test_it_refuses_arrays_of_different_lengths():
    ids, dates, amounts = small_log()
    with pytest.raises(ValueModelError, match="same length"):
        rfm_summary(ids, dates[:-1], amounts, as_of="2024-06-30")


def test_it_refuses_missing_dates_and_amounts():
    ids, dates, amounts = small_log()
    dates = dates.copy()
    dates[2] = np.datetime64("NaT")
    with pytest.raises(ValueModelError, match=r"dates\[2\] is missing"):
        rfm_summary(ids, dates, amounts, as_of="2024-06-30")
    with pytest.raises(ValueModelError, match=r"amounts\[1\]"):
        rfm_summary(ids, small_log()[1], [1.0, np.nan, 1, 1, 1, 1, 1, 1], as_of="2024-06-30")
