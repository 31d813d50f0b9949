"""Markov migration between lifecycle states: counted by hand, forecast by hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from kehu.value.markov import ABSENT, MarkovChain

STATES = ("first", "repeat", "churned")


def test_the_matrix_counts_monthly_moves_of_customers_present_in_both_months():
    seq = np.array(
        [
            [0, 1, 1, 2],  # first→repeat, repeat→repeat, repeat→churned
            [ABSENT, 0, 2, 2],  # first→churned, churned→churned
            [0, 0, ABSENT, 1],  # first→first; the gap breaks two moves
        ]
    )
    chain = MarkovChain.estimate(seq, STATES)
    assert chain.counts.tolist() == [[1, 1, 1], [0, 1, 1], [0, 0, 1]]
    assert np.allclose(chain.matrix, [[1 / 3, 1 / 3, 1 / 3], [0, 0.5, 0.5], [0, 0, 1]])
    assert np.allclose(chain.churn_rates("churned"), [1 / 3, 0.5, 1])


def test_a_state_never_left_keeps_its_customers_and_says_so():
    chain = MarkovChain.estimate(np.array([[0, 1], [0, 0]]), STATES)
    assert chain.observed.tolist() == [True, False, False]
    assert chain.matrix[1].tolist() == [0, 1, 0] and chain.matrix[2].tolist() == [0, 0, 1]


def test_forecast_and_equity_by_hand():
    chain = MarkovChain.estimate(np.array([[0, 1], [0, 2]]), STATES)  # first → repeat | churned
    base = chain.forecast(np.array([100, 0, 0]), 2)
    assert np.allclose(base, [[100, 0, 0], [0, 50, 50], [0, 50, 50]])
    equity = chain.equity(np.array([100, 0, 0]), np.array([10.0, 40.0, 0.0]), 2, 0.1)
    assert np.allclose(equity, [1000, 2000 / 1.1, 2000 / 1.21])


def test_bad_codes_are_refused():
    with pytest.raises(ValueError, match="0..2"):
        MarkovChain.estimate(np.array([[0, 3]]), STATES)


@given(
    arrays(
        np.int64, st.tuples(st.integers(1, 30), st.integers(2, 12)), elements=st.integers(ABSENT, 3)
    ),
    st.integers(0, 24),
)
def test_rows_sum_to_one_and_the_base_keeps_its_size(seq, steps):
    chain = MarkovChain.estimate(seq, ("a", "b", "c", "d"))
    assert np.allclose(chain.matrix.sum(axis=1), 1)
    assert (chain.matrix >= 0).all()
    start = np.array([5.0, 1.0, 0.0, 3.0])
    assert np.allclose(chain.forecast(start, steps).sum(axis=1), start.sum())
