"""Customer lifetime value."""

from __future__ import annotations

import numpy as np
import pytest

from kehu.value import (
    BetaGeoModel,
    ValueModelError,
    customer_lifetime_value,
    month_length,
    rfm_summary,
)
from kehu.value.clv import clv_details


def test_it_is_the_discounted_sum_of_monthly_purchases_times_spend(bgnbd, gamma_gamma, cdnow):
    x, tx, T, m = cdnow.frequency, cdnow.recency, cdnow.T, cdnow.monetary_value
    clv = customer_lifetime_value(bgnbd, gamma_gamma, x, tx, T, m, months=6,
                                  monthly_discount=0.02)
    spend = gamma_gamma.expected_average_value(x, m)
    by_hand = np.zeros(len(cdnow))
    for month in range(1, 7):
        in_month = (bgnbd.expected_purchases(4.345 * month, x, tx, T)
                    - bgnbd.expected_purchases(4.345 * (month - 1), x, tx, T))
        by_hand += in_month * spend / 1.02**month
    np.testing.assert_allclose(clv, by_hand, rtol=1e-10)


def test_it_does_not_depend_on_the_time_unit(cdnow_transactions, gamma_gamma):
    weeks = rfm_summary(*cdnow_transactions, as_of="1997-09-30", time_unit="W")
    days = rfm_summary(*cdnow_transactions, as_of="1997-09-30", time_unit="D")
    fit_w = BetaGeoModel().fit(weeks.frequency, weeks.recency, weeks.T)
    fit_d = BetaGeoModel().fit(days.frequency, days.recency, days.T)
    assert fit_d.params_["alpha"] == pytest.approx(7 * fit_w.params_["alpha"], rel=1e-5)
    clv_w = customer_lifetime_value(fit_w, gamma_gamma, weeks.frequency, weeks.recency,
                                    weeks.T, weeks.monetary_value, time_unit="W")
    clv_d = customer_lifetime_value(fit_d, gamma_gamma, days.frequency, days.recency, days.T,
                                    days.monetary_value, time_unit="D")
    np.testing.assert_allclose(clv_d, clv_w, rtol=1e-4)
    assert month_length("D") == pytest.approx(7 * month_length("W"))


def test_details_give_the_horizon_purchases_and_spend(bgnbd, gamma_gamma, cdnow):
    d = clv_details(bgnbd, gamma_gamma, cdnow.frequency, cdnow.recency, cdnow.T,
                    cdnow.monetary_value, months=12)
    np.testing.assert_allclose(
        d["predicted_purchases"],
        bgnbd.expected_purchases(12 * 4.345, cdnow.frequency, cdnow.recency, cdnow.T))
    assert np.all(d["clv"] <= d["predicted_purchases"] * d["predicted_avg_value"] + 1e-9)


@pytest.mark.parametrize("kwargs, message", [({"months": 0}, "months"),
                                             ({"months": 1.5}, "months"),
                                             ({"monthly_discount": -1}, "monthly_discount"),
                                             ({"time_unit": "Y"}, "time_unit")])
def test_it_refuses_bad_options(bgnbd, gamma_gamma, kwargs, message):
    with pytest.raises(ValueModelError, match=message):
        customer_lifetime_value(bgnbd, gamma_gamma, [1], [1], [2], [10.0], **kwargs)


def test_it_refuses_a_clv_that_overflows_instead_of_returning_inf(bgnbd, gamma_gamma):
    # A frequent buyer whose mean spend is near float64's limit: expected spend is finite,
    # spend times expected purchases is beyond it.
    x, tx, T = np.array([50.0, 2.0]), np.array([10.0, 10.0]), np.array([10.0, 38.0])
    m = np.array([3e306, 20.0])
    assert np.all(np.isfinite(gamma_gamma.expected_average_value(x, m)))
    with pytest.raises(ValueModelError, match="CLV overflows for 1 customers"):
        customer_lifetime_value(bgnbd, gamma_gamma, x, tx, T, m)
