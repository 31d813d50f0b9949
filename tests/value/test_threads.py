"""Scores computed and written in slices on several cores are the scores of one pass:
the same values, for the same customers, in the same order."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.value import _threads, pipeline
from kehu.value.datasets import simulate_transactions
from kehu.value.errors import ValueModelError
from kehu.value.rfm import rfm_summary


@given(n=st.integers(0, 5000), min_size=st.integers(1, 2000), parts=st.integers(1, 9))
def test_slices_cover_every_row_once_in_order(n, min_size, parts):
    cut = _threads.slices(n, min_size, parts)
    assert 1 <= len(cut) <= parts
    assert [i for s in cut for i in range(s.start, s.stop)] == list(range(n))
    if len(cut) > 1:
        assert min(s.stop - s.start for s in cut) >= min_size


@settings(deadline=None, max_examples=30)
@given(items=st.lists(st.integers(), max_size=12), workers=st.integers(1, 4))
def test_in_order_keeps_the_order(items, workers):
    import time

    def earlier_is_slower(pair):  # so that later items finish first
        place, x = pair
        time.sleep(0.002 * (len(items) - place))
        return x * 2

    assert list(_threads.in_order(earlier_is_slower, enumerate(items), workers)) == [
        x * 2 for x in items]


@pytest.fixture(scope="module")
def fitted():
    log = simulate_transactions(3000, as_of="2021-12-31", seed=7)
    ids = np.char.add("C", log.customer_id.astype(str))
    summary = rfm_summary(ids, log.date, log.amount, "2021-12-31")
    model = pipeline.fit_transaction_model("bgnbd", summary)
    return model, pipeline.fit_spend_model(summary), summary


def test_scores_in_slices_equal_one_pass(fitted, monkeypatch, tmp_path):
    model, gg, summary = fitted
    one = pipeline.score(model, gg, summary, 12, 0.01)
    pipeline.write_scores(tmp_path / "one.csv", one)
    monkeypatch.setattr(_threads, "MIN_SLICE", 1)
    monkeypatch.setattr(_threads, "cores", lambda: 4)
    monkeypatch.setattr(pipeline, "WRITE_SLICE", 7)
    sliced = pipeline.score(model, gg, summary, 12, 0.01)
    for key in pipeline.SCORE_COLUMNS:
        np.testing.assert_array_equal(sliced[key], one[key])
    pipeline.write_scores(tmp_path / "sliced.csv", sliced)
    assert (tmp_path / "sliced.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()
    lines = (tmp_path / "sliced.csv").read_text().splitlines()
    assert len(lines) == len(summary) + 1 and lines[0].startswith("customer_id,")


def test_an_overflow_names_the_customers_of_the_whole_base(fitted, monkeypatch):
    model, gg, summary = fitted
    import dataclasses

    monkeypatch.setattr(_threads, "MIN_SLICE", 1)
    monkeypatch.setattr(_threads, "cores", lambda: 4)

    # Every repeat buyer's CLV overflows; customers in every slice.
    rich = dataclasses.replace(summary, monetary_value=np.full(len(summary), 1e308))
    with pytest.raises(ValueModelError) as raised:
        pipeline.score(model, gg, rich, 12, 0.01)
    overflowing = int(raised.value.args[0].split("for ")[1].split(" customers")[0].replace(",", ""))
    assert overflowing > len(summary) // 2


def test_scoring_while_writing_writes_the_file_of_scoring_then_writing(fitted, monkeypatch,
                                                                        tmp_path):
    model, gg, summary = fitted
    pipeline.write_scores(tmp_path / "apart.csv", pipeline.score(model, gg, summary, 12, 0.01))
    whole = pipeline.score_and_write(tmp_path / "whole.csv", model, gg, summary, 12, 0.01)
    monkeypatch.setattr(_threads, "cores", lambda: 4)
    monkeypatch.setattr(pipeline, "WRITE_SLICE", 7)  # slices finishing out of order
    clv = pipeline.score_and_write(tmp_path / "fused.csv", model, gg, summary, 12, 0.01)
    apart = (tmp_path / "apart.csv").read_bytes()
    assert (tmp_path / "fused.csv").read_bytes() == apart
    assert (tmp_path / "whole.csv").read_bytes() == apart
    np.testing.assert_array_equal(clv, whole)
    np.testing.assert_array_equal(clv, pipeline.score(model, gg, summary, 12, 0.01)["clv"])


def test_scoring_while_writing_names_the_overflowing_customers_of_the_whole_base(
        fitted, monkeypatch, tmp_path):
    model, gg, summary = fitted
    import dataclasses

    monkeypatch.setattr(_threads, "MIN_SLICE", 1)
    monkeypatch.setattr(_threads, "cores", lambda: 4)
    monkeypatch.setattr(pipeline, "WRITE_SLICE", 100)
    rich = dataclasses.replace(summary, monetary_value=np.full(len(summary), 1e308))
    out = tmp_path / "scores.csv"
    with pytest.raises(ValueModelError) as raised:
        pipeline.score_and_write(out, model, gg, rich, 12, 0.01)
    overflowing = int(raised.value.args[0].split("for ")[1].split(" customers")[0].replace(",", ""))
    assert overflowing > len(summary) // 2
    assert list(tmp_path.iterdir()) == []  # no scores file, no temporary left behind


def test_both_models_fitted_at_once_equal_those_fitted_in_turn(cdnow, monkeypatch):
    monkeypatch.setattr(pipeline, "MIN_SLICE", 1)  # CDNOW is small: take the threads anyway
    monkeypatch.setattr(pipeline, "cores", lambda: 2)
    transactions, gg = pipeline.fit_models("bgnbd", cdnow)
    assert transactions.params_ == pipeline.fit_transaction_model("bgnbd", cdnow).params_
    assert gg.params_ == pipeline.fit_spend_model(cdnow).params_


def test_when_both_models_fail_the_transaction_models_reason_is_given(cdnow, monkeypatch):
    """As when fitted in turn, where Gamma-Gamma never ran."""
    monkeypatch.setattr(pipeline, "MIN_SLICE", 1)
    monkeypatch.setattr(pipeline, "cores", lambda: 2)
    nobody_returns = replace(cdnow, frequency=np.zeros(len(cdnow)),
                             recency=np.zeros(len(cdnow)))
    with pytest.raises(ValueModelError, match="nobody made a repeat purchase"):
        pipeline.fit_models("bgnbd", nobody_returns)
