"""Properties that must hold for any parameters and any customer history."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.value import (
    BetaGeoModel,
    GammaGammaModel,
    ParetoNBDModel,
    customer_lifetime_value,
    lifetime_profit,
    profit_clv_details,
)

SETTINGS = settings(max_examples=60, deadline=None)

positive = st.floats(min_value=0.05, max_value=30.0)
scale = st.floats(min_value=0.1, max_value=300.0)


@st.composite
def histories(draw, size=6):
    """Customers from brand new to thousands of purchases over ten years (in weeks)."""
    T = np.array(draw(st.lists(st.floats(0.0, 520.0), min_size=size, max_size=size)))
    x = np.array(draw(st.lists(st.integers(0, 5000), min_size=size, max_size=size)),
                 dtype=float)
    share = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=size, max_size=size)))
    x = np.where(T > 0, x, 0.0)
    tx = np.where(x > 0, share * T, 0.0)
    return x, tx, T


@st.composite
def bgnbd_models(draw):
    return BetaGeoModel.from_dict({"params": {
        "r": draw(positive), "alpha": draw(scale), "a": draw(positive), "b": draw(positive)}})


@st.composite
def paretonbd_models(draw):
    alpha = draw(scale)
    beta = alpha * draw(st.floats(0.01, 100.0))  # within the ratio the model accepts
    return ParetoNBDModel.from_dict({"params": {
        "r": draw(positive), "alpha": alpha, "s": draw(positive), "beta": beta}})


models = st.one_of(bgnbd_models(), paretonbd_models())


@SETTINGS
@given(models, histories())
def test_p_alive_is_a_probability(model, history):
    p = model.p_alive(*history)
    assert np.all(np.isfinite(p)) and np.all((p >= 0) & (p <= 1))


@SETTINGS
@given(models, histories(), st.lists(st.floats(0.0, 520.0), min_size=2, max_size=5))
def test_expected_purchases_grow_with_the_horizon(model, history, horizons):
    ts = np.sort(np.array(horizons))
    curve = model.expected_purchases_curve(ts, *history)
    assert np.all(np.isfinite(curve)) and np.all(curve >= 0)
    assert np.all(np.diff(curve, axis=0) >= -1e-9 * (1 + curve[1:]))


@SETTINGS
@given(models, histories(), st.floats(0.01, 100.0), st.floats(0.5, 20.0),
       st.floats(1.05, 20.0), st.floats(0.1, 100.0), st.integers(1, 36),
       st.floats(0.0, 0.1))
def test_clv_is_never_negative(model, history, spend, p, q, v, months, discount):
    gg = GammaGammaModel.from_dict({"params": {"p": p, "q": q, "v": v}})
    x = history[0]
    clv = customer_lifetime_value(model, gg, *history, np.where(x > 0, spend, 0.0),
                                  months=months, monthly_discount=discount)
    assert np.all(np.isfinite(clv)) and np.all(clv >= 0)


@SETTINGS
@given(models, histories(size=3), st.floats(0.5, 60.0))
def test_purchase_probabilities_sum_to_one(model, history, t):
    keep = history[0] <= 50
    x, tx, T = (a[keep] for a in history)
    if x.size == 0:
        return
    # Enough n to cover the Gamma-Poisson tail of the most active customer.
    p = model.params_
    shape, rate = p["r"] + x, p["alpha"] + T
    mean = shape / rate * t
    sd = np.sqrt(mean + mean**2 / shape)
    ratio = t / (rate + t)
    n_max = int(np.max(mean + 12 * sd + 40 / -np.log(ratio) + 50))
    n = np.arange(0, min(n_max, 400_000))[:, None]
    total = model.prob_n_purchases(n, t, x, tx, T).sum(axis=0)
    np.testing.assert_allclose(total, 1.0, atol=1e-6)


@st.composite
def schedules(draw, customers=4):
    months = draw(st.integers(1, 30))
    cells = draw(st.lists(st.floats(0.0, 50.0), min_size=months * customers,
                          max_size=months * customers))
    return np.array(cells).reshape(months, customers)


money = st.lists(st.floats(0.0, 1e4), min_size=4, max_size=4)
margins = st.lists(st.floats(-1.0, 1.0), min_size=4, max_size=4)


@SETTINGS
@given(schedules(), money, margins, margins, money, st.floats(0.0, 0.1))
def test_profit_clv_grows_with_the_margin(schedule, spend, m1, m2, cost, discount):
    low, high = np.minimum(m1, m2), np.maximum(m1, m2)
    a = lifetime_profit(schedule, spend, low, cost, discount)
    b = lifetime_profit(schedule, spend, high, cost, discount)
    assert np.all(a["clv"] <= b["clv"] + 1e-9 * (1 + np.abs(b["clv"])))
    assert np.all(a["clv_near"] <= b["clv_near"] + 1e-9 * (1 + np.abs(b["clv_near"])))


@SETTINGS
@given(schedules(), money, margins, money, st.floats(0.0, 0.1), st.integers(1, 40))
def test_the_next_months_are_at_most_the_lifetime_when_each_purchase_makes_a_profit(
        schedule, spend, margin, cost, discount, near):
    out = lifetime_profit(schedule, spend, margin, cost, discount, near_months=near)
    gaining = out["profit_per_purchase"] >= 0
    assert np.all(out["clv_near"][gaining] <= out["clv"][gaining] * (1 + 1e-12) + 1e-9)
    losing = ~gaining
    assert np.all(out["clv_near"][losing] >= out["clv"][losing] * (1 + 1e-12) - 1e-9)


@SETTINGS
@given(schedules(), money, margins, money, st.floats(0.0, 0.1))
def test_a_customer_who_is_surely_gone_is_worth_nothing(schedule, spend, margin, cost,
                                                        discount):
    # Expected purchases are P(alive) times those expected of an active customer.
    p_alive = np.array([0.0, 0.0, 0.5, 1.0])
    out = lifetime_profit(schedule * p_alive, spend, margin, cost, discount)
    assert np.all(out["clv"][:2] == 0) and np.all(out["clv_near"][:2] == 0)
    full = lifetime_profit(schedule, spend, margin, cost, discount)
    np.testing.assert_allclose(out["clv"][2], 0.5 * full["clv"][2], rtol=1e-12, atol=1e-12)


@SETTINGS
@given(models, histories(size=4), st.floats(0.01, 1e3), st.floats(0.5, 20.0),
       st.floats(1.05, 20.0), st.floats(0.1, 100.0), margins, margins,
       st.integers(12, 120), st.floats(0.0, 0.05))
def test_model_profit_clv_grows_with_margin_and_with_the_horizon(
        model, history, spend, p, q, v, m1, m2, months, discount):
    gg = GammaGammaModel.from_dict({"params": {"p": p, "q": q, "v": v}})
    x = history[0]
    m = np.where(x > 0, spend, 0.0)
    low, high = np.minimum(m1, m2), np.maximum(m1, m2)
    a = profit_clv_details(model, gg, *history, m, low, 0.0, months=months,
                           monthly_discount=discount)
    b = profit_clv_details(model, gg, *history, m, high, 0.0, months=months,
                           monthly_discount=discount)
    assert np.all(np.isfinite(a["clv"])) and np.all(np.isfinite(b["clv"]))
    assert np.all(a["clv"] <= b["clv"] + 1e-9 * (1 + np.abs(b["clv"])))
    gaining = high >= 0
    assert np.all(b["clv_near"][gaining] <= b["clv"][gaining] * (1 + 1e-9) + 1e-9)
