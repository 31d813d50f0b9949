"""Pareto/NBD: the published CDNOW fit and the integral at its heart."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.integrate import quad

from kehu.value import ParetoNBDModel, ValueModelError
from kehu.value._arrays import Triples
from kehu.value.paretonbd import _log_integral

PUBLISHED = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}  # Fader & Hardie


def test_it_reproduces_the_published_cdnow_fit(paretonbd):
    for name, value in PUBLISHED.items():
        assert paretonbd.params_[name] == pytest.approx(value, abs=1e-3), name
    assert paretonbd.loglik_ == pytest.approx(-9595.0, abs=0.05)


@pytest.mark.parametrize("params", [(0.55, 10.6, 0.6, 11.7), (0.55, 11.7, 0.6, 10.6),
                                    (2.0, 3.0, 1.5, 30.0), (0.3, 30.0, 2.0, 3.0)])
@pytest.mark.parametrize("x, tx, T", [(0, 0, 38.0), (3, 20.0, 38.0), (50, 37.0, 38.0),
                                      (1000, 500.0, 520.0), (2, 1.0, 100.0)])
def test_its_integral_matches_adaptive_quadrature(params, x, tx, T):
    r, alpha, s, beta = params
    log_i, _, truncated = _log_integral(r, alpha, s, beta, np.array([float(x)]),
                                        np.array([tx]), np.array([T]), gradient=False)

    def scaled(tau):  # the integrand divided by its value at t_x, to stay in range
        return np.exp(-(r + x) * np.log((alpha + tau) / (alpha + tx))
                      - (s + 1) * np.log((beta + tau) / (beta + tx)))

    value, _ = quad(scaled, tx, T, epsabs=0, epsrel=1e-13, limit=200)
    reference = np.log(value) - (r + x) * np.log(alpha + tx) - (s + 1) * np.log(beta + tx)
    assert not truncated
    assert log_i[0] == pytest.approx(reference, abs=1e-10)


@pytest.mark.parametrize("params", [(0.55, 10.6, 0.6, 11.7), (0.55, 11.7, 0.6, 10.6),
                                    (1.3, 2.0, 0.9, 40.0), (0.8, 5.0, 0.7, 5.0)])
def test_its_gradient_is_the_derivative_of_its_likelihood(cdnow, params):
    data = Triples.build(cdnow.frequency, cdnow.recency, cdnow.T)
    model = ParetoNBDModel()
    theta = np.log(params)
    _, grad = model._loglik(theta, data)
    for i in range(4):
        step = np.zeros(4)
        step[i] = 1e-6
        up, _ = model._loglik(theta + step, data, gradient=False)
        down, _ = model._loglik(theta - step, data, gradient=False)
        assert grad[i] == pytest.approx((up - down) / 2e-6, rel=1e-5, abs=1e-4)


def test_expected_purchases_equal_the_mean_of_the_purchase_distribution(paretonbd, cdnow):
    x, tx, T = cdnow.frequency[:40], cdnow.recency[:40], cdnow.T[:40]
    n = np.arange(0, 300)[:, None]
    pmf = paretonbd.prob_n_purchases(n, 20.0, x, tx, T)
    np.testing.assert_allclose(pmf.sum(axis=0), 1.0, atol=1e-9)
    np.testing.assert_allclose((n * pmf).sum(axis=0),
                               paretonbd.expected_purchases(20.0, x, tx, T), rtol=1e-7)


def test_heavy_buyers_over_ten_years_get_finite_answers(paretonbd):
    x = np.array([5000.0, 5000, 20000, 3000])
    tx = np.array([519.0, 100, 520, 0.5])
    T = np.array([520.0, 520, 520, 520])
    alive = paretonbd.p_alive(x, tx, T)
    assert np.all(np.isfinite(alive))
    assert 0 < alive[0] < 1 and alive[2] == 1.0 and alive[3] < 1e-6
    # The more recent the last of 5000 purchases, the likelier the customer is alive.
    recent = paretonbd.p_alive(5000, [500.0, 510, 519, 519.9, 520], 520)
    assert np.all(np.diff(recent) > 0) and recent[-1] == 1.0 and recent[0] < 1e-12
    for values in (paretonbd.expected_purchases(52, x, tx, T),
                   paretonbd.prob_n_purchases(3, 52, x, tx, T)):
        assert np.all(np.isfinite(values))


def test_it_round_trips_through_json(paretonbd, cdnow):
    again = ParetoNBDModel.from_dict(json.loads(json.dumps(paretonbd.to_dict())))
    assert again.to_dict() == paretonbd.to_dict()
    np.testing.assert_array_equal(
        again.expected_purchases(10, cdnow.frequency, cdnow.recency, cdnow.T),
        paretonbd.expected_purchases(10, cdnow.frequency, cdnow.recency, cdnow.T))


def test_it_refuses_time_scales_it_cannot_tell_apart():
    with pytest.raises(ValueModelError, match="not identified"):
        ParetoNBDModel.from_dict({"params": {"r": 1, "alpha": 1, "s": 1, "beta": 5000}})


def test_it_refuses_data_where_nobody_repeats():
    with pytest.raises(ValueModelError, match="nobody made a repeat purchase"):
        ParetoNBDModel().fit(np.zeros(50), np.zeros(50), np.full(50, 30.0))
