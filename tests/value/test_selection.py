"""The purchase model chosen by its own holdout: on firms simulated from a known process the
holdout picks that process's model; the figures behind the choice hold together."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.value import ValueModelError
from kehu.value.bgnbd import BetaGeoModel
from kehu.value.datasets import simulate_transactions
from kehu.value.rfm import to_day
from kehu.value.selection import (
    Candidate,
    Selection,
    combine,
    compare,
    fit_chosen,
    holdout_days_for,
    purchase_days,
    relative_errors,
)

END = "2021-12-31"
SETTINGS = settings(max_examples=60, deadline=None)


def _firm(model: str, params: dict | None, n: int, seed: int):
    log = simulate_transactions(n, model=model, params=params, seed=seed,
                                start="2020-01-01", as_of=END)
    return purchase_days(log.customer_id - 1, log.date.astype(np.int64))


@pytest.fixture(scope="module")
def pareto_firm():
    """5,000 customers who buy at Gamma-distributed rates and die at Gamma-distributed
    rates, whatever they buy (Pareto/NBD), over two years."""
    return _firm("pareto_nbd", {"r": 1.0, "alpha": 5.0, "s": 1.0, "beta": 30.0}, 5000, 0)


@pytest.fixture(scope="module")
def bg_firm():
    """4,000 customers who may drop out only right after a repeat purchase (BG/NBD)."""
    return _firm("bgnbd", {"r": 2.0, "alpha": 5.3, "a": 0.8, "b": 12.0}, 4000, 1)


def test_a_pareto_nbd_firm_gets_pareto_nbd(pareto_firm):
    sel = compare(*pareto_firm, to_day(END, "end"))
    assert sel.chosen == "pareto_nbd" and sel.pinned is None
    errors = {name: c.holdout_error for name, c in sel.candidates.items()}
    assert set(errors) == {"bgnbd", "mbgnbd", "pareto_nbd"}
    # Not a photo finish: the others are off by at least half as much again.
    assert min(errors["bgnbd"], errors["mbgnbd"]) > 1.5 * errors["pareto_nbd"]


def test_a_bg_nbd_firm_gets_bg_nbd_or_its_modified_form(bg_firm):
    sel = compare(*bg_firm, to_day(END, "end"))
    assert sel.chosen in {"bgnbd", "mbgnbd"}
    errors = {name: c.holdout_error for name, c in sel.candidates.items()}
    assert errors["pareto_nbd"] > errors[sel.chosen]


def test_the_comparison_holds_together(bg_firm):
    first, who, day = bg_firm
    end = to_day(END, "end")
    sel = compare(first, who, day, end)
    # Two years: a third of them held out, in whole weeks; weekly periods.
    assert sel.end - sel.calibration_end == holdout_days_for(end - int(first.min())) == 34 * 7
    assert sel.period_days == 7 and sel.calibration_end in sel.period_ends
    assert sel.period_ends[-1] == end and np.all(np.diff(sel.period_ends) > 0)
    # The actual curve counts the cohort's repeat purchases: rising, ending at all of them.
    cohort = first <= sel.calibration_end
    assert sel.customers == sel.cohort == int(cohort.sum())
    assert np.all(np.diff(sel.actual) >= 0)
    assert sel.actual[-1] == int(cohort[who].sum())
    at_cal = int(np.searchsorted(sel.period_ends, sel.calibration_end))
    assert sel.holdout_purchases == sel.actual[-1] - sel.actual[at_cal]
    for cand in sel.candidates.values():
        assert cand.error is None and cand.fitted is not None and cand.fit_seconds > 0
        assert cand.predicted.shape == sel.actual.shape and np.all(np.diff(cand.predicted) >= 0)
        # Fitted on the calibration window, the tracking curve meets it there (in sample).
        assert cand.predicted[at_cal] == pytest.approx(sel.actual[at_cal], rel=0.05)
        assert cand.holdout_error == combine(cand.period_error, cand.customer_error)
    out = sel.to_dict()
    assert out["chosen"] == sel.chosen and out["pinned"] is False
    assert len(out["periods"]) == len(out["actual"]) == len(sel.period_ends)
    assert out["periods"][-1] == END
    assert all(len(c["predicted"]) == len(out["actual"]) for c in out["candidates"].values())
    assert all(set(c["params"]) and c["loglik"] < 0 for c in out["candidates"].values())


def test_a_large_cohort_is_compared_on_a_sample_and_still_gets_its_model(pareto_firm):
    first, who, day = pareto_firm
    end = to_day(END, "end")
    sel = compare(first, who, day, end, max_customers=3000)
    assert sel.customers == 3000 and sel.cohort == int((first <= sel.calibration_end).sum())
    assert sel.cohort > 3000 and sel.to_dict()["cohort"] == sel.cohort
    assert sel.chosen == "pareto_nbd"
    # The actual curve counts the sample's repeat purchases, and the same sample each time.
    assert sel.actual[-1] < int((first[who] <= sel.calibration_end).sum())
    again = compare(first, who, day, end, max_customers=3000)
    assert np.array_equal(again.actual, sel.actual)


def test_a_pinned_model_is_chosen_whatever_the_holdout_says(pareto_firm):
    sel = compare(*pareto_firm, to_day(END, "end"), pinned="bgnbd")
    assert sel.chosen == "bgnbd" and sel.to_dict()["pinned"] is True
    assert sel.ranking()[0] == "pareto_nbd"  # the comparison is still made and shown
    with pytest.raises(ValueModelError, match="unknown purchase model"):
        compare(*pareto_firm, to_day(END, "end"), pinned="lifetimes")


class _Broken(BetaGeoModel):
    model_name = "broken"
    label = "Broken"

    def fit(self, *args, **kwargs):
        raise ValueModelError("Broken: the optimiser did not converge")


def test_a_model_that_cannot_be_fitted_is_listed_and_not_chosen(bg_firm):
    sel = compare(*bg_firm, to_day(END, "end"), models=(_Broken, BetaGeoModel))
    assert sel.candidates["broken"].error == "Broken: the optimiser did not converge"
    assert sel.candidates["broken"].holdout_error is None
    assert sel.chosen == "bgnbd"
    everything_broken = compare(*bg_firm, to_day(END, "end"), models=(_Broken,))
    assert everything_broken.chosen is None
    assert "did not converge" in everything_broken.error
    assert everything_broken.to_dict()["candidates"]["broken"]["params"] is None


def test_too_short_a_history_or_a_silent_holdout_is_said_plainly():
    first = np.array([0, 3, 5, 9])
    with pytest.raises(ValueModelError, match="covers 60 days; at least 84"):
        compare(first, np.array([0, 1]), np.array([10, 20]), 60)
    # Plenty of history, but nobody bought again after the calibration end.
    firm = _firm("bgnbd", None, 300, 4)
    first, who, day = firm
    early = day < to_day("2021-03-01", "day")
    sel = compare(first, who[early], day[early], to_day(END, "end"))
    assert sel.chosen is None and "nobody bought again during the holdout" in sel.error


def test_the_chosen_model_is_refitted_on_everything_from_its_calibration_fit(bg_firm):
    first, who, day = bg_firm
    end = to_day(END, "end")
    sel = compare(first, who, day, end)
    x = np.bincount(who, minlength=first.size).astype(float)
    last = first.copy()
    np.maximum.at(last, who, day)
    model, failures = fit_chosen(sel, x, (last - first) / 7, (end - first) / 7)
    assert failures == [] and model.model_name == sel.chosen
    cold = type(model)().fit(x, (last - first) / 7, (end - first) / 7)
    for name, value in cold.params_.items():
        assert model.params_[name] == pytest.approx(value, rel=1e-3)
    # No choice at all: the pinned model, or BG/NBD.
    assert fit_chosen(None, x, (last - first) / 7, (end - first) / 7)[0].model_name == "bgnbd"


def test_the_cdnow_comparison_over_the_published_split(cdnow_transactions, cdnow_holdout):
    """CDNOW with the 39 + 39 weeks of Fader, Hardie & Lee (2005): BG/NBD's calibration fit
    is the published one, and the holdout counts what evaluate_holdout counts."""
    ids, dates, _amounts = cdnow_transactions
    codes = np.unique(ids, return_inverse=True)[1]
    end = to_day("1998-06-30", "end")
    sel = compare(*purchase_days(codes, dates.astype(np.int64)), end,
                  holdout_days=end - to_day("1997-09-30", "cal"))
    assert sel.customers == 2357
    params = sel.candidates["bgnbd"].fitted.params_
    assert params["r"] == pytest.approx(0.243, abs=1e-3)
    assert params["alpha"] == pytest.approx(4.414, abs=1e-2)
    assert sel.holdout_purchases == cdnow_holdout.frequency_holdout.sum()
    assert sel.actual[-1] == cdnow_holdout.frequency.sum() + sel.holdout_purchases
    assert sel.chosen in {"bgnbd", "mbgnbd", "pareto_nbd"}


# Properties -------------------------------------------------------------------------------

counts = st.lists(st.integers(0, 40), min_size=2, max_size=30)


@SETTINGS
@given(counts, st.integers(1, 50))
def test_a_perfect_forecast_has_no_error_and_scale_does_not_matter(held, scale):
    held = np.array(held, dtype=float)
    held[0] += 1  # somebody bought
    curve = np.cumsum(held)
    assert relative_errors(curve, curve, held, held) == (0.0, 0.0)
    off = held * 1.3 + 0.5
    first = relative_errors(np.cumsum(off), curve, off, held)
    scaled = relative_errors(np.cumsum(off) * scale, curve * scale, off * scale, held * scale)
    assert first[0] > 0 and first[1] > 0
    assert scaled == pytest.approx(first)


@SETTINGS
@given(st.lists(st.floats(0, 10), min_size=1, max_size=30),
       st.lists(st.integers(0, 10), min_size=1, max_size=30))
def test_errors_are_never_negative(predicted, actual):
    n = min(len(predicted), len(actual))
    pred, act = np.array(predicted[:n]), np.array(actual[:n], dtype=float)
    if act.sum() == 0:
        with pytest.raises(ValueModelError):
            relative_errors(np.cumsum(pred), np.cumsum(act), pred, act)
        return
    period, customer = relative_errors(np.cumsum(pred), np.cumsum(act), pred, act,
                                       groups=np.arange(n) % 3)
    assert period >= 0 and customer >= 0
    # Grouping customers can only cancel errors, never add them.
    ungrouped = relative_errors(np.cumsum(pred), np.cumsum(act), pred, act,
                                groups=np.arange(n))[1]
    assert customer <= ungrouped + 1e-12


@SETTINGS
@given(st.dictionaries(st.sampled_from(["bgnbd", "mbgnbd", "pareto_nbd"]),
                       st.one_of(st.none(), st.tuples(st.floats(0, 5), st.floats(0, 5))),
                       min_size=1))
def test_the_ranking_puts_the_smallest_holdout_error_first(errors):
    sel = Selection(calibration_end=10, end=20, period_days=7, period_ends=np.array([10, 20]),
                    actual=np.zeros(2), customers=1, cohort=1, holdout_purchases=1.0)
    for name, pair in errors.items():
        cand = Candidate(name, name)
        if pair is not None:
            cand.period_error, cand.customer_error = pair
        sel.candidates[name] = cand
    ranking = sel.ranking()
    scored = {n: combine(*p) for n, p in errors.items() if p is not None}
    assert set(ranking) == set(scored)
    if ranking:
        assert scored[ranking[0]] == min(scored.values())
        assert [scored[n] for n in ranking] == sorted(scored.values())
