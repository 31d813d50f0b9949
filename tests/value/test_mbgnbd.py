"""MBG/NBD: BG/NBD in which a customer may also drop out right after the first purchase,
so that one-time buyers who stay away are not forever "alive"."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kehu.value import BetaGeoModel, ModifiedBetaGeoModel
from kehu.value.datasets import simulate_rfm

from .test_properties import histories

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from lifetimes import ModifiedBetaGeoFitter


@pytest.fixture(scope="module")
def mbgnbd(cdnow):
    return ModifiedBetaGeoModel().fit(cdnow.frequency, cdnow.recency, cdnow.T)


def test_it_fits_cdnow_where_lifetimes_does(mbgnbd, cdnow):
    # Batislam, Denizel & Filiztekin's model on the Fader-Hardie-Lee sample; lifetimes
    # lands on r 0.5248, alpha 6.1831, a 0.8914, b 1.6140.
    theirs = ModifiedBetaGeoFitter().fit(cdnow.frequency, cdnow.recency, cdnow.T).params_
    for name in ("r", "alpha", "a", "b"):
        assert mbgnbd.params_[name] == pytest.approx(float(theirs[name]), rel=1e-3)
    assert mbgnbd.loglik_ == pytest.approx(-9582.14, abs=0.01)
    assert mbgnbd.loglik_ > BetaGeoModel().fit(cdnow.frequency, cdnow.recency,
                                               cdnow.T).loglik_ - 10


def test_its_predictions_agree_with_lifetimes(mbgnbd, cdnow):
    f, r, T = cdnow.frequency, cdnow.recency, cdnow.T
    theirs = ModifiedBetaGeoFitter()
    theirs.params_ = pd.Series(mbgnbd.params_)
    np.testing.assert_allclose(mbgnbd.p_alive(f, r, T),
                               theirs.conditional_probability_alive(f, r, T), rtol=1e-10)
    for t in (1.0, 39.0, 52.0):
        np.testing.assert_allclose(
            mbgnbd.expected_purchases(t, f, r, T),
            theirs.conditional_expected_number_of_purchases_up_to_time(t, f, r, T), rtol=1e-8)
    ts = np.array([5.0, 39.0, 78.0])
    np.testing.assert_allclose(mbgnbd.expected_purchases_new(ts),
                               theirs.expected_number_of_purchases_up_to_time(ts), rtol=1e-8)
    for n in range(4):
        assert mbgnbd.prob_n_purchases(n, 39.0, 0, 0, 0)[()] == pytest.approx(
            theirs.probability_of_n_purchases_up_to_time(39.0, n), rel=1e-8)


def test_one_time_buyers_who_stay_away_fade(mbgnbd):
    alive = mbgnbd.p_alive([0, 0, 0], [0, 0, 0], [1, 20, 60])
    assert 0 < alive[2] < alive[1] < alive[0] < 1


def test_its_likelihood_equals_the_direct_formula():
    from scipy.special import beta as B
    from scipy.special import gamma as G

    r, alpha, a, b = 0.5, 3.0, 0.8, 2.5
    x, tx, T = np.array([0.0, 1, 4]), np.array([0.0, 2, 10]), np.array([12.0, 12, 12])
    direct = (B(a, b + x + 1) / B(a, b) * G(r + x) * alpha**r / G(r)
              * ((alpha + T) ** -(r + x) + a / (b + x) * (alpha + tx) ** -(r + x)))
    model = ModifiedBetaGeoModel.from_dict({"params": {"r": r, "alpha": alpha, "a": a, "b": b}})
    assert model.loglik(x, tx, T) == pytest.approx(np.log(direct).sum(), rel=1e-12)


def test_expected_purchases_are_the_mean_of_the_purchase_distribution(mbgnbd, cdnow):
    x, tx, T = cdnow.frequency[:50], cdnow.recency[:50], cdnow.T[:50]
    n = np.arange(0, 400)[:, None]
    pmf = mbgnbd.prob_n_purchases(n, 20.0, x, tx, T)
    np.testing.assert_allclose(pmf.sum(axis=0), 1.0, atol=1e-9)
    np.testing.assert_allclose((n * pmf).sum(axis=0),
                               mbgnbd.expected_purchases(20.0, x, tx, T), rtol=1e-8)


def test_heavy_buyers_over_ten_years_get_finite_answers(mbgnbd):
    x = np.array([5000.0, 20000, 3000])
    tx = np.array([519.0, 520, 0.5])
    T = np.array([520.0, 520, 520])
    for values in (mbgnbd.p_alive(x, tx, T), mbgnbd.expected_purchases(52, x, tx, T),
                   mbgnbd.prob_n_purchases(3, 52, x, tx, T)):
        assert np.all(np.isfinite(values))


def test_it_recovers_simulated_parameters():
    true = {"r": 0.5, "alpha": 5.0, "a": 0.8, "b": 2.5}
    # The dropout parameters are the hard ones to pin down: 8,000 customers leave them
    # within about 20%, 50,000 within a few per cent.
    T = np.random.default_rng(6).uniform(26, 78, 50_000)
    s = simulate_rfm("mbgnbd", true, T.size, T, seed=6)
    fitted = ModifiedBetaGeoModel().fit(s.frequency, s.recency, s.T).params_
    for name, value in true.items():
        assert fitted[name] == pytest.approx(value, rel=0.1), (name, fitted)


positive = st.floats(min_value=0.05, max_value=30.0)
scale = st.floats(min_value=0.1, max_value=300.0)


# Many purchases over a short time, where scipy's 2F1 gives up near z = 1.
_BURST = (np.array([100.0, 5000.0, 0, 1, 20, 0]), np.array([0.0, 0.0, 0, 0.1, 0.07, 0]),
          np.array([0.14, 1e-300, 5.0, 0.14, 0.14, 0.0]))


@settings(max_examples=60, deadline=None)
@given(positive, scale, positive, positive, histories(),
       st.lists(st.floats(0.0, 200.0), min_size=2, max_size=4))
@example(0.5, 0.125, 0.5, 1.0, _BURST, [0.0, 200.0])
def test_probabilities_and_growth_hold_for_any_parameters(r, alpha, a, b, history, horizons):
    model = ModifiedBetaGeoModel.from_dict({"params": {"r": r, "alpha": alpha, "a": a,
                                                       "b": b}})
    x, tx, T = history
    alive = model.p_alive(x, tx, T)
    assert np.all((alive >= 0) & (alive <= 1))
    curve = model.expected_purchases_curve(np.sort(horizons), x, tx, T)
    assert np.all(np.diff(curve, axis=0) >= -1e-9 * (1 + np.abs(curve[1:])))
