"""Cross-sell and up-sell from co-purchases (kehu.value.cross_sell): a hand-worked case,
the table against a brute-force count, and properties for any purchase history."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.value import ValueModelError
from kehu.value.cross_sell import affinity, cross_sell, purchase_matrix, up_sell

SETTINGS = settings(max_examples=80, deadline=None)


def _table(pairs, **kwargs):
    customers, products = zip(*pairs, strict=True) if pairs else ((), ())
    return affinity(purchase_matrix(np.array(customers, dtype=np.int64),
                                    np.array(products, dtype=np.int64)), **kwargs)


def test_customers_who_buy_a_also_buy_b_so_a_customer_with_a_is_offered_b():
    # Four customers buy A (0) and B (1), one buys A only, four C (2), one B and C.
    pairs = [(c, p) for c in range(4) for p in (0, 1)] + [(4, 0)] + \
        [(c, 2) for c in range(5, 9)] + [(9, 1), (9, 2)]
    table = _table(pairs)
    (b,) = cross_sell([0], table)
    assert (b.product, b.because, b.co_buyers, b.sources) == (1, 0, 4, 1)
    assert b.share == pytest.approx(4 / 5) and b.score == pytest.approx(4 / 5)
    # B's buyers bought C once together: no rule from one shared buyer.
    assert [c.product for c in cross_sell([1], table)] == [0]
    assert cross_sell([2], table) == []
    # Up-sell only where the related product is dearer.
    assert [c.product for c in up_sell([0], table, {0: 5.0, 1: 9.0})] == [1]
    assert up_sell([0], table, {0: 9.0, 1: 5.0}) == []
    assert up_sell([0], table, {0: 5.0}) == []  # B has no price: not compared
    assert cross_sell([0], table, eligible=[2]) == []
    assert cross_sell([0], table, exclude=[1]) == []


def test_no_purchases_give_an_empty_table():
    table = _table([])
    assert len(table) == 0 and table.n_buyers == 0
    assert cross_sell([1, 2], table) == [] and up_sell([1], table, {1: 1.0}) == []


def test_bad_input_is_refused_with_the_reason():
    with pytest.raises(ValueModelError, match="differ in length"):
        purchase_matrix([0, 1], [0])
    with pytest.raises(ValueModelError, match="negative"):
        purchase_matrix([0, -1], [0, 0])
    with pytest.raises(ValueModelError, match="whole numbers"):
        purchase_matrix(np.array([0.5]), np.array([0]))
    with pytest.raises(ValueModelError, match="labels"):
        affinity(purchase_matrix([0], [1]), labels=[7])


histories = st.lists(st.tuples(st.integers(0, 25), st.integers(0, 7)), max_size=120)


def _brute(pairs, min_co_buyers):
    bought: dict[int, set[int]] = {}
    for c, p in pairs:
        bought.setdefault(p, set()).add(c)
    n = len({c for c, _p in pairs})
    out = {}
    for a, b in itertools.permutations(bought, 2):
        both = len(bought[a] & bought[b])
        lift = both / len(bought[a]) * n / len(bought[b])
        if both >= min_co_buyers and lift > 1 + 1e-12:
            out[(a, b)] = (both, both / math.sqrt(len(bought[a]) * len(bought[b])))
    return out


@SETTINGS
@given(histories, st.integers(1, 4))
def test_the_table_counts_co_buyers_as_a_brute_force_count_does(pairs, min_co_buyers):
    table = _table(pairs, min_co_buyers=min_co_buyers, top_k=100)
    got = {(int(a), int(b)): (int(n), s) for a, b, n, s in zip(
        table.product, table.related, table.co_buyers, table.similarity, strict=True)}
    want = _brute(pairs, min_co_buyers)
    assert got.keys() == want.keys()
    for key, (n, s) in want.items():
        assert got[key][0] == n and got[key][1] == pytest.approx(s)


@SETTINGS
@given(histories, st.integers(1, 5), st.integers(1, 3))
def test_the_table_keeps_at_most_top_k_neighbours_best_first(pairs, top_k, min_co_buyers):
    table = _table(pairs, top_k=top_k, min_co_buyers=min_co_buyers)
    assert not (table.product == table.related).any()
    assert (table.co_buyers >= min_co_buyers).all() and (table.lift > 1).all()
    assert ((table.confidence > 0) & (table.confidence <= 1)).all()
    assert (table.similarity <= 1 + 1e-12).all()
    for p in np.unique(table.product):
        sims = table.similarity[table.product == p]
        assert sims.size <= top_k and (np.diff(sims) <= 1e-12).all()


@SETTINGS
@given(histories, st.sets(st.integers(0, 9), max_size=5), st.sets(st.integers(0, 7)),
       st.sets(st.integers(0, 7), max_size=3),
       st.dictionaries(st.integers(0, 7), st.floats(0.5, 100.0)))
def test_candidates_are_never_bought_unknown_excluded_or_ineligible(pairs, bought, eligible,
                                                                    exclude, prices):
    table = _table(pairs, min_co_buyers=1)
    related = set(table.related.tolist())
    for got in (cross_sell(bought, table, exclude=exclude, eligible=eligible, limit=None),
                up_sell(bought, table, prices, exclude=exclude, eligible=eligible,
                        limit=None)):
        products = [c.product for c in got]
        assert len(products) == len(set(products))
        for c in got:
            assert c.product not in bought and c.product in related
            assert c.product not in exclude and c.product in eligible
            assert c.because in bought and 0 < c.share <= 1 and c.co_buyers >= 1
        scores = [c.score for c in got]
        assert all(x >= y for x, y in itertools.pairwise(scores))
    for c in up_sell(bought, table, prices, limit=None):
        assert prices[c.product] > prices[c.because]
    assert len(cross_sell(bought, table, limit=2)) <= 2
