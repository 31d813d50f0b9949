"""BG/NBD: the published CDNOW fit, the numerics, and the refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kehu.value import BetaGeoModel, ModifiedBetaGeoModel, ValueModelError
from kehu.value._arrays import Triples

PUBLISHED = {"r": 0.2426, "alpha": 4.4136, "a": 0.7929, "b": 2.4259}  # FHL 2005, Table 1


def test_it_reproduces_the_published_cdnow_fit(bgnbd):
    for name, value in PUBLISHED.items():
        assert bgnbd.params_[name] == pytest.approx(value, abs=1e-4), name
    assert bgnbd.loglik_ == pytest.approx(-9582.4, abs=0.05)
    assert bgnbd.n_customers_ == 2357


@pytest.mark.parametrize("model_class", [BetaGeoModel, ModifiedBetaGeoModel])
def test_its_gradient_is_the_derivative_of_its_likelihood(cdnow, model_class):
    data = Triples.build(cdnow.frequency, cdnow.recency, cdnow.T)
    model = model_class()
    theta = np.log([0.3, 5.0, 0.9, 2.0])
    _, grad = model._loglik(theta, data)
    for i in range(4):
        step = np.zeros(4)
        step[i] = 1e-6
        up, _ = model._loglik(theta + step, data, gradient=False)
        down, _ = model._loglik(theta - step, data, gradient=False)
        assert grad[i] == pytest.approx((up - down) / 2e-6, rel=1e-5, abs=1e-4)


def test_its_likelihood_equals_the_direct_formula_on_few_customers():
    from scipy.special import beta as B
    from scipy.special import gamma as G

    r, alpha, a, b = 0.5, 3.0, 0.8, 2.5
    x, tx, T = np.array([0.0, 1, 4]), np.array([0.0, 2, 10]), np.array([12.0, 12, 12])
    direct = (B(a, b + x) / B(a, b) * G(r + x) * alpha**r / (G(r) * (alpha + T) ** (r + x))
              + (x > 0) * B(a + 1, b + x - 1) / B(a, b) * G(r + x) * alpha**r
              / (G(r) * (alpha + tx) ** (r + x)))
    model = BetaGeoModel.from_dict({"params": {"r": r, "alpha": alpha, "a": a, "b": b}})
    assert model.loglik(x, tx, T) == pytest.approx(np.log(direct).sum(), rel=1e-12)


def test_p_alive_of_a_customer_who_never_repeated_is_one(bgnbd):
    assert bgnbd.p_alive([0, 0], [0, 0], [5, 40]).tolist() == [1.0, 1.0]


def test_expected_purchases_equal_the_mean_of_the_purchase_distribution(bgnbd, cdnow):
    x, tx, T = cdnow.frequency[:50], cdnow.recency[:50], cdnow.T[:50]
    n = np.arange(0, 400)[:, None]
    pmf = bgnbd.prob_n_purchases(n, 20.0, x, tx, T)
    np.testing.assert_allclose(pmf.sum(axis=0), 1.0, atol=1e-9)
    np.testing.assert_allclose((n * pmf).sum(axis=0), bgnbd.expected_purchases(20.0, x, tx, T),
                               rtol=1e-8)


def test_the_purchase_distribution_of_a_new_customer_is_the_published_formula(bgnbd):
    from scipy.special import betaln, gammaln

    p = bgnbd.params_
    r, alpha, a, b = p["r"], p["alpha"], p["a"], p["b"]
    t = 39.0
    n = np.arange(0, 6)
    nbd = np.exp(gammaln(r + n) - gammaln(r) - gammaln(n + 1) + r * np.log(alpha / (alpha + t))
                 + n * np.log(t / (alpha + t)))
    cdf_before = np.array([nbd[:k].sum() for k in n])
    eq8 = (np.exp(betaln(a, b + n) - betaln(a, b)) * nbd
           + (n > 0) * np.exp(betaln(a + 1, b + np.maximum(n, 1) - 1) - betaln(a, b))
           * (1 - cdf_before))
    got = bgnbd.prob_n_purchases(n, t, 0, 0, 0)
    np.testing.assert_allclose(got, eq8, rtol=1e-10)


def test_heavy_buyers_over_ten_years_get_finite_answers(bgnbd):
    # lifetimes overflows here: (alpha + T)^(r + x) and 2F1(r+x, b+x; ...) with x = 5000.
    x = np.array([5000.0, 5000, 20000, 3000])
    tx = np.array([519.0, 100, 520, 0.5])
    T = np.array([520.0, 520, 520, 520])
    for values in (bgnbd.p_alive(x, tx, T), bgnbd.expected_purchases(52, x, tx, T),
                   bgnbd.prob_n_purchases(3, 52, x, tx, T)):
        assert np.all(np.isfinite(values))
    expected = bgnbd.expected_purchases(52, x, tx, T)
    # Someone buying ~10 times a week until last week keeps doing so, if alive.
    assert expected[0] / bgnbd.p_alive(x, tx, T)[0] == pytest.approx(5000 / 520 * 52, rel=0.05)


def test_it_round_trips_through_json(bgnbd, cdnow):
    again = BetaGeoModel.from_dict(json.loads(json.dumps(bgnbd.to_dict())))
    assert again.params_ == bgnbd.params_
    assert again.loglik_ == bgnbd.loglik_
    np.testing.assert_array_equal(again.p_alive(cdnow.frequency, cdnow.recency, cdnow.T),
                                  bgnbd.p_alive(cdnow.frequency, cdnow.recency, cdnow.T))


def test_it_refuses_to_predict_before_fitting():
    with pytest.raises(ValueModelError, match="not fitted"):
        BetaGeoModel().p_alive([1], [1], [2])


@pytest.mark.parametrize("data, message", [
    ({"params": {"r": 1, "alpha": 1, "a": 1}}, "b are missing"),
    ({"params": {"r": 1, "alpha": -1, "a": 1, "b": 1}}, "alpha must be a positive"),
    ({"model": "pareto_nbd", "params": {}}, "cannot load"),
])
def test_it_refuses_bad_serialised_models(data, message):
    with pytest.raises(ValueModelError, match=message):
        BetaGeoModel.from_dict(data)


def test_it_refuses_data_where_nobody_repeats():
    with pytest.raises(ValueModelError, match="nobody made a repeat purchase"):
        BetaGeoModel().fit(np.zeros(100), np.zeros(100), np.full(100, 30.0))


def test_it_refuses_too_few_customers():
    with pytest.raises(ValueModelError, match="too few"):
        BetaGeoModel().fit([1, 0, 2], [3, 0, 4], [10, 10, 10])


def test_it_reports_a_parameter_the_data_cannot_identify():
    # Everyone buys exactly every week and is still buying: dropout is never observed, so
    # the data push the dropout probability to 0.
    n = 200
    T = np.linspace(30, 40, n)
    x = np.floor(T)
    with pytest.raises(ValueModelError, match="cannot identify|did not converge"):
        BetaGeoModel().fit(x, x, T)


@pytest.mark.parametrize("x, tx, T, message", [
    ([1, 2], [1], [3, 4], "same length"),
    ([1.5], [1], [3], "whole number"),
    ([-1], [0], [3], "negative"),
    ([1], [4], [3], "larger than T"),
    ([0], [2], [3], "not 0 although frequency is 0"),
    ([1], [np.nan], [3], "finite"),
])
def test_it_names_the_bad_input(bgnbd, x, tx, T, message):
    with pytest.raises(ValueModelError, match=message):
        bgnbd.p_alive(x, tx, T)


def test_many_purchases_in_a_short_time_still_get_a_finite_forecast():
    # scipy's 2F1 returns inf close to z = 1 with a large c; the Gauss series does not.
    model = BetaGeoModel.from_dict({"params": {"r": 1.0, "alpha": 1.0, "a": 2.0, "b": 16.0}})
    curve = model.expected_purchases_curve(np.array([4.345, 8.69, 13.035]),
                                           np.array([91.0, 0.0]), np.array([0.0, 0.0]),
                                           np.array([0.25, 0.0]))
    assert np.all(np.isfinite(curve)) and np.all(curve >= 0)
    assert np.all(np.diff(curve, axis=0) >= 0)
