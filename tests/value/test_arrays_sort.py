"""Grouping integer keys by 16 bits at a time orders them as a stable sort does."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from kehu.value._arrays import _stable_argsort, factorize


@given(st.integers(0, 62), st.integers(1000, 3000), st.integers(0, 2**32))
def test_sorting_by_16_bits_at_a_time_is_the_stable_sort(bits, n, seed):
    rng = np.random.default_rng(seed)
    # Few distinct values, so that ties show whether the order among equals is kept.
    values = rng.integers(0, 2**bits, size=20, dtype=np.int64)[rng.integers(0, 20, size=n)]
    np.testing.assert_array_equal(_stable_argsort(values),
                                  np.argsort(values, kind="stable"))


def test_factorizing_wide_integer_keys_groups_them_in_order():
    keys = np.array([5 << 40, 3, 5 << 40, 7 << 20, 3] * 300)
    uniques, inverse = factorize(keys)
    assert uniques.tolist() == [3, 7 << 20, 5 << 40]
    np.testing.assert_array_equal(uniques[inverse], keys)
