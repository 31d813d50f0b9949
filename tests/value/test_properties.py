"""Properties that must hold for any parameters and any customer history."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.value import BetaGeoModel, GammaGammaModel, ParetoNBDModel, customer_lifetime_value

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
