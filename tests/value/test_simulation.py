"""Simulate customers from known parameters, fit them, get the parameters back."""

from __future__ import annotations

import numpy as np
import pytest

from kehu.value import BetaGeoModel, GammaGammaModel, ParetoNBDModel, rfm_summary
from kehu.value.datasets import simulate_rfm, simulate_transactions

T_WEEKS = np.random.default_rng(0).uniform(26, 78, 8000)


def assert_close(fitted: dict[str, float], true: dict[str, float], rel: float) -> None:
    for name, value in true.items():
        assert fitted[name] == pytest.approx(value, rel=rel), (name, fitted)


def test_bgnbd_recovers_its_parameters():
    true = {"r": 0.5, "alpha": 5.0, "a": 0.8, "b": 2.5}
    s = simulate_rfm("bgnbd", true, T_WEEKS.size, T_WEEKS, seed=1)
    assert_close(BetaGeoModel().fit(s.frequency, s.recency, s.T).params_, true, rel=0.12)


def test_paretonbd_recovers_its_parameters():
    # Dropout is seen only in customers who stop buying, so it needs longer histories.
    true = {"r": 0.6, "alpha": 8.0, "s": 0.8, "beta": 12.0}
    T = np.random.default_rng(0).uniform(52, 156, 8000)
    s = simulate_rfm("pareto_nbd", true, T.size, T, seed=2)
    fitted = ParetoNBDModel().fit(s.frequency, s.recency, s.T).params_
    assert_close(fitted, {k: true[k] for k in ("r", "alpha")}, rel=0.12)
    assert_close(fitted, {k: true[k] for k in ("s", "beta")}, rel=0.25)


def test_a_simulated_transaction_log_round_trips_through_the_summary():
    true = {"r": 1.0, "alpha": 10.0, "a": 0.8, "b": 4.0}
    spend = {"p": 6.0, "q": 4.0, "v": 15.0}
    log = simulate_transactions(6000, params=true, spend=spend, start="2020-01-01",
                                acquisition_days=180, as_of="2021-12-31", seed=3)
    assert log.date.min() == np.datetime64("2020-01-01")
    assert np.all(np.diff(log.date.astype(np.int64)) >= 0)
    s = rfm_summary(log.customer_id, log.date, log.amount, as_of="2021-12-31")
    assert len(s) == 6000
    # Purchases on the same day merge into one, so the fit is of slightly rounded data.
    assert_close(BetaGeoModel().fit(s.frequency, s.recency, s.T).params_, true, rel=0.15)
    assert_close(GammaGammaModel().fit(s.frequency, s.monetary_value).params_, spend, rel=0.25)


def test_simulations_are_reproducible():
    a = simulate_transactions(100, seed=9)
    b = simulate_transactions(100, seed=9)
    np.testing.assert_array_equal(a.amount, b.amount)
    np.testing.assert_array_equal(a.date, b.date)
