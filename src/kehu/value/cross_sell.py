"""Cross-sell and up-sell candidates from what similar customers buy: item-to-item
co-purchase on a sparse customer × product matrix, numpy/scipy only.

    m = purchase_matrix(customer_index, product_index)       # who bought what, 0/1
    table = affinity(m, labels=product_ids)                  # each product's top neighbours
    cross_sell(bought, table, eligible=active_ids)           # ranked candidates with reasons
    up_sell(bought, table, prices, eligible=active_ids)

Two products are related when enough customers bought both (at least `min_co_buyers`, so
that one shared buyer does not make a rule) and when buying the first makes the second more
likely than among all buyers (lift above 1). Their similarity is the cosine of their binary
columns: co-buyers / sqrt(buyers of one × buyers of the other), which does not favour a
product merely because everybody buys it. Each product keeps its `top_k` most similar
neighbours; a customer's candidates are the neighbours of what they bought that they have
not bought, ranked by the summed similarity to their products. The reason given is the
product that contributed most, with the share of its buyers who bought the candidate
(the rule's confidence).

An up-sell is a dearer related product: for a product the customer bought, a neighbour with
a higher current price, ranked by the share of that product's buyers who also bought it.
Products carry no notion of a range, so "the same range" is "bought by the same customers".
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from kehu.value.errors import ValueModelError

MIN_CO_BUYERS = 3
TOP_K = 20


def _indices(values, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueModelError(f"{name} must be a one-dimensional array of indices")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ValueModelError(f"{name} must hold whole numbers, not {array.dtype}")
    array = array.astype(np.int64)
    if array.size and array.min() < 0:
        raise ValueModelError(f"{name} must not be negative")
    return array


def purchase_matrix(customers: Iterable[int], products: Iterable[int],
                    shape: tuple[int, int] | None = None) -> sparse.csr_matrix:
    """The binary customer × product matrix of (customer index, product index) purchase
    pairs: 1 where the customer bought the product at least once. Pass returns and other
    non-purchases out before: every pair given is a purchase."""
    c = _indices(list(customers) if not isinstance(customers, np.ndarray) else customers,
                 "customers")
    p = _indices(list(products) if not isinstance(products, np.ndarray) else products,
                 "products")
    if c.size != p.size:
        raise ValueModelError(f"customers ({c.size}) and products ({p.size}) differ in length")
    if shape is None:
        shape = (int(c.max()) + 1 if c.size else 0, int(p.max()) + 1 if p.size else 0)
    elif c.size and (c.max() >= shape[0] or p.max() >= shape[1]):
        raise ValueModelError(f"an index lies outside the shape {shape}")
    m = sparse.csr_matrix((np.ones(c.size, dtype=np.int64), (c, p)), shape=shape)
    m.sum_duplicates()
    m.data[:] = 1
    return m


@dataclass(frozen=True)
class Affinity:
    """Each product's related products, best first (rows grouped by product)."""

    product: np.ndarray  # label of the product bought
    related: np.ndarray  # label of a product its buyers also bought
    co_buyers: np.ndarray  # customers who bought both
    buyers: np.ndarray  # customers who bought `product`
    similarity: np.ndarray  # cosine of the two binary columns
    confidence: np.ndarray  # co_buyers / buyers: share of product's buyers who bought related
    lift: np.ndarray  # confidence / share of all buyers who bought related
    n_buyers: int  # customers with at least one purchase

    def __len__(self) -> int:
        return int(self.product.size)

    @classmethod
    def empty(cls) -> Affinity:
        i, f = np.empty(0, dtype=np.int64), np.empty(0)
        return cls(i, i, i, i, f, f, f, 0)


def affinity(matrix, *, labels: Iterable[int] | None = None, top_k: int = TOP_K,
             min_co_buyers: int = MIN_CO_BUYERS) -> Affinity:
    """The product-to-product table of a customer × product purchase matrix: for each
    product, its `top_k` most similar products among those bought together with it by at
    least `min_co_buyers` customers with a lift above 1. `labels` names the columns (e.g.
    product ids); by default they are the column indices."""
    if top_k < 1 or min_co_buyers < 1:
        raise ValueModelError("top_k and min_co_buyers must be at least 1")
    m = sparse.csr_matrix(matrix, dtype=np.int64, copy=True)
    m.data = (m.data > 0).astype(np.int64)
    m.eliminate_zeros()
    n_products = m.shape[1]
    names = np.arange(n_products, dtype=np.int64) if labels is None else \
        np.asarray(list(labels) if not isinstance(labels, np.ndarray) else labels,
                   dtype=np.int64)
    if names.size != n_products:
        raise ValueModelError(f"{names.size} labels for {n_products} products")
    n_buyers = int(np.count_nonzero(np.diff(m.indptr)))
    if not m.nnz:
        return Affinity.empty()
    buyers = np.asarray(m.sum(axis=0)).ravel().astype(np.int64)
    co = (m.T @ m).tocoo()
    a, b, n_ab = co.row.astype(np.int64), co.col.astype(np.int64), co.data.astype(np.int64)
    keep = (a != b) & (n_ab >= min_co_buyers)
    a, b, n_ab = a[keep], b[keep], n_ab[keep]
    confidence = n_ab / buyers[a]
    lift = confidence * n_buyers / buyers[b]
    keep = lift > 1.0 + 1e-12
    a, b, n_ab, confidence, lift = a[keep], b[keep], n_ab[keep], confidence[keep], lift[keep]
    similarity = n_ab / np.sqrt(buyers[a].astype(float) * buyers[b])
    # Best first within each product; ties go to the more popular pair, then the label.
    order = np.lexsort((names[b], -n_ab, -similarity, a))
    a, b, n_ab = a[order], b[order], n_ab[order]
    confidence, lift, similarity = confidence[order], lift[order], similarity[order]
    if a.size:
        starts = np.flatnonzero(np.r_[True, a[1:] != a[:-1]])
        rank = np.arange(a.size) - np.repeat(starts, np.diff(np.r_[starts, a.size]))
        keep = rank < top_k
        a, b, n_ab = a[keep], b[keep], n_ab[keep]
        confidence, lift, similarity = confidence[keep], lift[keep], similarity[keep]
    return Affinity(names[a], names[b], n_ab, buyers[a], similarity, confidence, lift,
                    n_buyers)


@dataclass(frozen=True)
class Candidate:
    """A product to offer, and why: `because` is the bought product that speaks for it
    most, `share` the share of `because`'s buyers who also bought it (`co_buyers` of
    them)."""

    product: int
    score: float
    because: int
    share: float
    co_buyers: int
    sources: int  # how many of the customer's products point to it


def _rows(bought, table: Affinity, exclude: Collection[int], eligible) -> np.ndarray:
    have = np.unique(np.asarray(list(bought), dtype=np.int64))
    rows = np.isin(table.product, have) & ~np.isin(table.related, have)
    if exclude:
        rows &= ~np.isin(table.related, np.asarray(list(exclude), dtype=np.int64))
    if eligible is not None:
        rows &= np.isin(table.related, np.asarray(list(eligible), dtype=np.int64))
    return np.flatnonzero(rows)


def _best_per_related(rows: np.ndarray, key: np.ndarray, table: Affinity
                      ) -> tuple[np.ndarray, np.ndarray]:
    """For each related product among `rows`, the row with the largest `key` (ties: more
    co-buyers, then the smaller source label); returns (row of each, count of rows)."""
    related = table.related[rows]
    order = np.lexsort((table.product[rows], -table.co_buyers[rows], -key, related))
    related_sorted = related[order]
    first = np.flatnonzero(np.r_[True, related_sorted[1:] != related_sorted[:-1]])
    counts = np.diff(np.r_[first, related_sorted.size])
    return rows[order[first]], counts


def cross_sell(bought: Iterable[int], table: Affinity, *, exclude: Collection[int] = (),
               eligible: Collection[int] | None = None, limit: int | None = 5
               ) -> list[Candidate]:
    """Products related to what the customer bought that they have not bought (nor are in
    `exclude`, and are in `eligible` when given), best first: the score is the summed
    similarity to the customer's products."""
    rows = _rows(bought, table, exclude, eligible)
    if not rows.size:
        return []
    best, sources = _best_per_related(rows, table.similarity[rows], table)
    related, inverse = np.unique(table.related[rows], return_inverse=True)
    score = np.bincount(inverse, weights=table.similarity[rows], minlength=related.size)
    # _best_per_related orders by related label too, so its groups line up with `related`.
    order = np.lexsort((related, -table.confidence[best], -score))
    if limit is not None:
        order = order[:limit]
    return [Candidate(int(related[i]), float(score[i]), int(table.product[best[i]]),
                      float(table.confidence[best[i]]), int(table.co_buyers[best[i]]),
                      int(sources[i])) for i in order]


def up_sell(bought: Iterable[int], table: Affinity, prices: Mapping[int, float], *,
            exclude: Collection[int] = (), eligible: Collection[int] | None = None,
            limit: int | None = 3) -> list[Candidate]:
    """Dearer products related to what the customer bought that they have not bought:
    for a bought product X, a neighbour Y whose price is above X's, ranked by the share of
    X's buyers who also bought Y (the score). A product without a price is not compared."""
    rows = _rows(bought, table, exclude, eligible)
    if rows.size:
        price_of = np.array([prices.get(int(p), np.nan) for p in table.product[rows]])
        price_to = np.array([prices.get(int(p), np.nan) for p in table.related[rows]])
        with np.errstate(invalid="ignore"):
            rows = rows[np.isfinite(price_of) & np.isfinite(price_to) & (price_to > price_of)]
    if not rows.size:
        return []
    best, sources = _best_per_related(rows, table.confidence[rows], table)
    score = table.confidence[best]
    order = np.lexsort((table.related[best], -table.similarity[best], -score))
    if limit is not None:
        order = order[:limit]
    return [Candidate(int(table.related[best[i]]), float(score[i]),
                      int(table.product[best[i]]), float(table.confidence[best[i]]),
                      int(table.co_buyers[best[i]]), int(sources[i])) for i in order]
