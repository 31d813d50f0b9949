"""Gamma-Gamma spend model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kehu.value import GammaGammaModel, ValueModelError, rfm_summary
from kehu.value.datasets import simulate_transactions


def test_it_reproduces_the_published_cdnow_fit(gamma_gamma):
    assert gamma_gamma.params_["p"] == pytest.approx(6.25, abs=5e-3)
    assert gamma_gamma.params_["q"] == pytest.approx(3.74, abs=5e-3)
    assert gamma_gamma.params_["v"] == pytest.approx(15.44, abs=5e-3)
    assert gamma_gamma.n_customers_ == 946


def test_its_likelihood_is_what_it_maximised(gamma_gamma, cdnow):
    assert gamma_gamma.loglik(cdnow.frequency, cdnow.monetary_value) == pytest.approx(
        gamma_gamma.loglik_, rel=1e-12)
    nudged = GammaGammaModel.from_dict(gamma_gamma.to_dict())
    nudged.params_ = {k: v * 1.01 for k, v in gamma_gamma.params_.items()}
    assert nudged.loglik(cdnow.frequency, cdnow.monetary_value) < gamma_gamma.loglik_


def test_expected_spend_shrinks_each_mean_towards_the_population_mean(gamma_gamma):
    p = gamma_gamma.params_
    population = p["p"] * p["v"] / (p["q"] - 1)
    got = gamma_gamma.expected_average_value([0, 1, 1, 50], [0, 100.0, 5.0, 100.0])
    assert got[0] == pytest.approx(population)
    assert population < got[1] < 100 and 5 < got[2] < population
    assert abs(got[3] - 100) < abs(got[1] - 100)  # more purchases, more trust in the mean


def test_it_refuses_expected_spend_when_q_is_at_most_one():
    model = GammaGammaModel.from_dict({"params": {"p": 2.0, "q": 0.8, "v": 10.0}})
    with pytest.raises(ValueModelError, match=r"q = 0.8 <= 1.*undefined"):
        model.expected_average_value([1, 2], [10.0, 20.0])


@pytest.mark.parametrize("q", [0.6, 0.8])
def test_it_refuses_a_fit_that_lands_on_q_at_most_one(q):
    """Spend drawn with q < 1: a tail of big spenders so heavy that the mean spend does not
    exist. The fit says so instead of handing back a model whose every prediction fails."""
    log = simulate_transactions(2000, spend={"p": 4.0, "q": q, "v": 10.0}, seed=7)
    s = rfm_summary(log.customer_id, log.date, log.amount, as_of="2021-12-31")
    model = GammaGammaModel()
    with pytest.raises(ValueModelError, match=r"Gamma-Gamma: the fit gives q = 0\.\d+ <= 1 .*"
                                              r"inverse-gamma distribution without a mean.*"
                                              r"undefined"):
        model.fit(s.frequency, s.monetary_value)
    assert not hasattr(model, "params_")  # nothing half-fitted to predict from


def test_a_fit_with_q_just_above_one_is_kept():
    log = simulate_transactions(2000, spend={"p": 4.0, "q": 1.6, "v": 10.0}, seed=7)
    s = rfm_summary(log.customer_id, log.date, log.amount, as_of="2021-12-31")
    model = GammaGammaModel().fit(s.frequency, s.monetary_value)
    assert model.params_["q"] > 1
    assert np.all(model.expected_average_value(s.frequency, s.monetary_value) > 0)


def test_it_leaves_out_customers_without_repeat_purchases_or_positive_spend(cdnow):
    x = np.concatenate([cdnow.frequency, [3, 2, 0]])
    m = np.concatenate([cdnow.monetary_value, [-5.0, 0.0, 0.0]])
    model = GammaGammaModel().fit(x, m)
    assert model.n_customers_ == 946


def test_it_refuses_too_few_repeat_buyers():
    with pytest.raises(ValueModelError, match="too few"):
        GammaGammaModel().fit([1, 2, 0], [10.0, 12.0, 0.0])


def test_it_round_trips_through_json(gamma_gamma):
    again = GammaGammaModel.from_dict(json.loads(json.dumps(gamma_gamma.to_dict())))
    assert again.to_dict() == gamma_gamma.to_dict()
