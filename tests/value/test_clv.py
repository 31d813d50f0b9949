"""Customer lifetime value."""

from __future__ import annotations

import numpy as np
import pytest

from kehu.value import (
    BetaGeoModel,
    ValueModelError,
    credible_margin,
    customer_lifetime_value,
    lifetime_profit,
    month_length,
    profit_clv_details,
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


# -- Profit CLV: discounted expected profit over the remaining relationship ---------------------

def test_profit_clv_of_a_small_schedule_worked_out_by_hand():
    # One purchase expected next month and half a purchase the month after; each purchase
    # spends 200 at a 25% margin and costs 10 to serve: a profit of 40 per purchase, 40 and
    # 20 in the two months. At 10% a month: 40 / 1.1 + 20 / 1.21 = 36.36 + 16.53.
    out = lifetime_profit([[1.0], [0.5]], spend=[200.0], margin=[0.25],
                          cost_per_purchase=[10.0], monthly_discount=0.1, near_months=1)
    assert out["profit_per_purchase"][0] == pytest.approx(40.0)
    assert out["clv"][0] == pytest.approx(36.363636 + 16.528926, rel=1e-7)
    assert out["clv_near"][0] == pytest.approx(36.363636, rel=1e-7)


def test_lifetime_is_more_than_the_next_twelve_months_of_the_same_profit():
    # Half a purchase a month for two years, 100 of spend at 30% less 5 of cost to serve:
    # 12.5 of profit a month. Discounted at 1% a month that is 12.5 × 11.2551 over the first
    # year and 12.5 × 21.2434 over both (annuity factors (1 − 1.01^−n) / 0.01).
    out = lifetime_profit(np.full((24, 1), 0.5), [100.0], [0.3], [5.0],
                          monthly_discount=0.01)
    assert out["clv_near"][0] == pytest.approx(140.688468, rel=1e-8)
    assert out["clv"][0] == pytest.approx(265.542341, rel=1e-8)
    # Undiscounted it would be 150 and 300: the discount is what makes them smaller.
    plain = lifetime_profit(np.full((24, 1), 0.5), [100.0], [0.3], [5.0], monthly_discount=0)
    assert (plain["clv_near"][0], plain["clv"][0]) == pytest.approx((150.0, 300.0))


def test_a_customer_who_costs_more_to_serve_than_they_earn_has_a_negative_clv():
    out = lifetime_profit(np.full((12, 1), 1.0), [50.0], [0.2], [15.0], monthly_discount=0)
    assert out["clv"][0] == pytest.approx(-60.0)  # 12 purchases × (10 − 15)


def test_the_margin_is_the_customers_own_trusted_by_how_many_purchases_it_rests_on():
    # Firm margin 30%. A customer at 50% over 5 purchases (credibility 5) weighs half: 40%;
    # over 45 purchases nine tenths: 48%; one without sales, or without purchases, gets 30%.
    margin = credible_margin(gross_profit=[50.0, 500.0, 0.0, 80.0],
                             revenue=[100.0, 1000.0, 0.0, 100.0],
                             purchases=[5, 45, 0, 0], firm_margin=0.3)
    np.testing.assert_allclose(margin, [0.4, 0.48, 0.3, 0.3])


@pytest.mark.parametrize("fixture", ["bgnbd", "paretonbd", "mbgnbd"])
def test_profit_clv_is_the_monthly_sum_of_the_models_expected_purchases(request, fixture,
                                                                        gamma_gamma, cdnow):
    """The shortcut (the schedule of each distinct frequency and age, scaled by P(alive))
    gives what summing every customer's own schedule month by month gives."""
    if fixture == "mbgnbd":
        from kehu.value import ModifiedBetaGeoModel

        model = ModifiedBetaGeoModel().fit(cdnow.frequency, cdnow.recency, cdnow.T)
    else:
        model = request.getfixturevalue(fixture)
    x, tx, T, m = cdnow.frequency, cdnow.recency, cdnow.T, cdnow.monetary_value
    rng = np.random.default_rng(1)
    margin = rng.uniform(0.1, 0.6, len(cdnow))
    cost = rng.uniform(0.0, 5.0, len(cdnow))
    out = profit_clv_details(model, gamma_gamma, x, tx, T, m, margin, cost, months=36,
                             monthly_discount=0.01)
    curve = model.expected_purchases_curve(4.345 * np.arange(1, 37), x, tx, T)
    per_month = np.diff(curve, axis=0, prepend=0.0)
    direct = lifetime_profit(per_month, gamma_gamma.expected_average_value(x, m), margin,
                             cost, monthly_discount=0.01)
    np.testing.assert_allclose(out["clv"], direct["clv"], rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(out["clv_near"], direct["clv_near"], rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(out["predicted_purchases"], curve[-1], rtol=1e-9)
    np.testing.assert_allclose(out["predicted_purchases_near"], curve[11], rtol=1e-9)


def test_at_full_margin_and_no_cost_the_next_year_is_the_spend_clv(bgnbd, gamma_gamma, cdnow):
    x, tx, T, m = cdnow.frequency, cdnow.recency, cdnow.T, cdnow.monetary_value
    spend = customer_lifetime_value(bgnbd, gamma_gamma, x, tx, T, m, months=12)
    profit = profit_clv_details(bgnbd, gamma_gamma, x, tx, T, m, 1.0, 0.0, months=120)
    np.testing.assert_allclose(profit["clv_near"], spend, rtol=1e-9)
    assert np.all(profit["clv"] >= profit["clv_near"])


@pytest.mark.parametrize("call, message", [
    (lambda: lifetime_profit([[1.0]], [10.0], [0.2], [-1.0]), "cost_per_purchase"),
    (lambda: lifetime_profit([[-1.0]], [10.0], [0.2], [1.0]), "per month"),
    (lambda: lifetime_profit([[1.0]], [10.0, 2.0], [0.2], [1.0]), "spend"),
    (lambda: lifetime_profit([[1.0]], [10.0], [0.2], [1.0], near_months=0), "near_months"),
    (lambda: credible_margin([1.0], [2.0, 3.0], [1], 0.3), "same length"),
    (lambda: credible_margin([1.0], [2.0], [1], 2.0), "firm_margin"),
])
def test_profit_clv_refuses_bad_inputs_by_name(call, message):
    with pytest.raises(ValueModelError, match=message):
        call()


def test_schedules_kept_across_calls_give_what_a_fresh_computation_gives(bgnbd, gamma_gamma,
                                                                         cdnow):
    from kehu.value import ActiveSchedules

    x, tx, T, m = cdnow.frequency, cdnow.recency, cdnow.T, cdnow.monetary_value
    kept = ActiveSchedules(bgnbd, 60, 0.01)
    half = slice(0, len(cdnow) // 2)
    first = profit_clv_details(bgnbd, gamma_gamma, x[half], tx[half], T[half], m[half], 0.3,
                               1.0, months=60, schedules=kept)
    computed = len(kept._index)
    again = profit_clv_details(bgnbd, gamma_gamma, x, tx, T, m, 0.3, 1.0, months=60,
                               schedules=kept)
    fresh = profit_clv_details(bgnbd, gamma_gamma, x, tx, T, m, 0.3, 1.0, months=60)
    np.testing.assert_array_equal(again["clv"], fresh["clv"])
    np.testing.assert_array_equal(again["clv"][half], first["clv"])
    assert computed < len(kept._index)  # only the new (frequency, age) pairs were added
    with pytest.raises(ValueModelError, match="another model or other options"):
        profit_clv_details(bgnbd, gamma_gamma, x, tx, T, m, 0.3, 1.0, months=120,
                           schedules=kept)
