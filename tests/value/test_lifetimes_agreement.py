"""Same answers as lifetimes where lifetimes is right.

lifetimes (0.11.3, pinned in requirements/dev.txt as a test-only dependency) is given kehu's
fitted parameters and both compute every prediction for the CDNOW customers. lifetimes is
also fitted itself and must land on the same parameters. The import is unconditional: on a
correctly set-up machine (make setup-dev, which make test runs) this test runs, it is never skipped.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

with warnings.catch_warnings():  # lifetimes sets a pandas option that pandas 3 deprecated
    warnings.simplefilter("ignore")
    from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
    from lifetimes.utils import summary_data_from_transaction_data

from kehu.value import customer_lifetime_value

from .conftest import AS_OF


def with_params(fitter, params):
    """A lifetimes fitter holding the given parameters, as if it had been fitted."""
    fitter.params_ = pd.Series(params)
    if hasattr(fitter, "conditional_expected_number_of_purchases_up_to_time"):
        fitter.predict = fitter.conditional_expected_number_of_purchases_up_to_time
    return fitter


@pytest.fixture(scope="module")
def columns(cdnow):
    return tuple(pd.Series(a) for a in (cdnow.frequency, cdnow.recency, cdnow.T,
                                        cdnow.monetary_value))


def test_the_rfm_summary_is_the_same(cdnow_transactions, cdnow):
    ids, dates, amounts = cdnow_transactions
    frame = pd.DataFrame({"id": ids, "date": pd.to_datetime(dates), "amount": amounts})
    theirs = summary_data_from_transaction_data(
        frame, "id", "date", monetary_value_col="amount", observation_period_end=AS_OF,
        freq="D", freq_multiplier=7).sort_index()
    assert list(theirs.index) == list(cdnow.customer_id)
    for column in ("frequency", "recency", "T", "monetary_value"):
        np.testing.assert_allclose(getattr(cdnow, column), theirs[column].to_numpy(),
                                   rtol=1e-12, err_msg=column)


def test_bgnbd_predictions_agree(bgnbd, cdnow, columns):
    f, r, T, _ = columns
    theirs = with_params(BetaGeoFitter(), bgnbd.params_)
    np.testing.assert_allclose(bgnbd.p_alive(f, r, T),
                               theirs.conditional_probability_alive(f, r, T), rtol=1e-10)
    for t in (1.0, 10.0, 39.0, 52.0):
        np.testing.assert_allclose(
            bgnbd.expected_purchases(t, f, r, T),
            theirs.conditional_expected_number_of_purchases_up_to_time(t, f, r, T), rtol=1e-8)
    ts = np.array([1.0, 10.0, 78.0])
    np.testing.assert_allclose(bgnbd.expected_purchases_new(ts),
                               theirs.expected_number_of_purchases_up_to_time(ts), rtol=1e-9)
    for n in range(6):  # lifetimes has only the unconditional distribution
        np.testing.assert_allclose(bgnbd.prob_n_purchases(n, 39.0, 0, 0, 0),
                                   theirs.probability_of_n_purchases_up_to_time(39.0, n),
                                   rtol=1e-9)


def test_paretonbd_predictions_agree(paretonbd, columns):
    f, r, T, _ = columns
    theirs = with_params(ParetoNBDFitter(), paretonbd.params_)
    np.testing.assert_allclose(paretonbd.p_alive(f, r, T),
                               theirs.conditional_probability_alive(f, r, T), rtol=1e-8)
    for t in (1.0, 39.0, 52.0):
        np.testing.assert_allclose(
            paretonbd.expected_purchases(t, f, r, T),
            theirs.conditional_expected_number_of_purchases_up_to_time(t, f, r, T), rtol=1e-8)
    np.testing.assert_allclose(paretonbd.expected_purchases_new([10.0, 78.0]),
                               theirs.expected_number_of_purchases_up_to_time(
                                   np.array([10.0, 78.0])), rtol=1e-8)
    few = slice(0, 30)  # lifetimes' conditional distribution is slow
    for n in (0, 1, 3):
        np.testing.assert_allclose(
            paretonbd.prob_n_purchases(n, 39.0, f[few], r[few], T[few]),
            theirs.conditional_probability_of_n_purchases_up_to_time(n, 39.0, f[few], r[few],
                                                                     T[few]),
            rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("model_fixture", ["bgnbd", "paretonbd"])
@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # inside lifetimes
def test_spend_and_clv_agree(request, model_fixture, gamma_gamma, columns):
    f, r, T, m = columns
    model = request.getfixturevalue(model_fixture)
    fitter = BetaGeoFitter() if model_fixture == "bgnbd" else ParetoNBDFitter()
    theirs_model = with_params(fitter, model.params_)
    theirs_gg = with_params(GammaGammaFitter(), gamma_gamma.params_)
    np.testing.assert_allclose(gamma_gamma.expected_average_value(f, m),
                               theirs_gg.conditional_expected_average_profit(f, m), rtol=1e-12)
    ours = customer_lifetime_value(model, gamma_gamma, f, r, T, m, months=12,
                                   monthly_discount=0.01, time_unit="W")
    theirs = theirs_gg.customer_lifetime_value(theirs_model, f, r, T, m, time=12,
                                               discount_rate=0.01, freq="W")
    np.testing.assert_allclose(ours, theirs.to_numpy(), rtol=1e-7)


@pytest.mark.filterwarnings("ignore:invalid value encountered in logaddexp:RuntimeWarning")
def test_lifetimes_fits_the_same_parameters(bgnbd, paretonbd, gamma_gamma, columns):
    f, r, T, m = columns
    for ours, fitter in ((bgnbd, BetaGeoFitter()), (paretonbd, ParetoNBDFitter())):
        theirs = fitter.fit(f, r, T).params_
        for name, value in ours.params_.items():
            assert theirs[name] == pytest.approx(value, rel=2e-3), name
    repeat = f > 0
    theirs = GammaGammaFitter().fit(f[repeat], m[repeat]).params_
    for name, value in gamma_gamma.params_.items():
        assert theirs[name] == pytest.approx(value, rel=2e-3), name
