"""Input checks and grouping helpers shared by the models.

Everything here works on whole arrays: a million customers must cost a few vector
operations, never a Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kehu.value.errors import ValueModelError


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """Sum of a * b without BLAS: on a busy machine a threaded BLAS dot of 100k numbers can
    cost milliseconds in thread wake-ups, and the likelihoods do several per step."""
    return float(np.einsum("i,i->", a, b))


def as_1d_float(name: str, values: object) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueModelError(f"{name} must be numeric: {exc}") from None
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueModelError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueModelError(f"{name}[{bad}] is {arr[bad]}; every value must be finite")
    return arr


def check_rfm(frequency: object, recency: object, T: object
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate (frequency, recency, T) as the transaction models expect them."""
    raw = [np.asarray(v) for v in (frequency, recency, T)]
    lengths = {a.size for a in raw if a.ndim != 0}  # scalars apply to every customer
    if len(lengths) > 1:
        raise ValueModelError(
            f"frequency, recency and T must have the same length, got "
            f"{', '.join(str(a.size) for a in raw)}")
    n = lengths.pop() if lengths else 1
    x, tx, t_cal = (np.broadcast_to(as_1d_float(name, a), (n,)) if a.ndim == 0
                    else as_1d_float(name, a)
                    for name, a in zip(("frequency", "recency", "T"), raw, strict=True))
    _first_bad("frequency", x < 0, x, "is negative")
    _first_bad("frequency", x != np.round(x), x, "is not a whole number of repeat purchases")
    _first_bad("recency", tx < 0, tx, "is negative")
    _first_bad("recency", tx > t_cal * (1 + 1e-12), tx, "is larger than T")
    _first_bad("recency", (x == 0) & (tx != 0), tx,
               "is not 0 although frequency is 0 (recency is first to last purchase)")
    return x, tx, t_cal


def _first_bad(name: str, mask: np.ndarray, values: np.ndarray, why: str) -> None:
    if mask.any():
        i = int(np.flatnonzero(mask)[0])
        count = int(mask.sum())
        more = f" (and {count - 1} more)" if count > 1 else ""
        raise ValueModelError(f"{name}[{i}] = {values[i]:g} {why}{more}")


def factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted unique values, index of each value into them).

    Whole numbers in a modest range (counts; days; weeks, which are days / 7) are grouped
    by counting, in linear time; anything else by one argsort. (np.unique does the same
    but is much slower on large integer arrays in numpy 2.x.)
    """
    if values.size == 0:
        return values[:0], np.zeros(0, dtype=np.intp)
    if values.size > 1000:
        grouped = _factorize_by_counting(values)
        if grouped is not None:
            return grouped
    order = _stable_argsort(values)
    ordered = values[order]
    new = np.empty(ordered.size, dtype=bool)
    new[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    inverse = np.empty(values.size, dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], inverse


def _stable_argsort(values: np.ndarray) -> np.ndarray:
    """np.argsort(values, kind="stable"), by 16 bits at a time for non-negative integers
    (the keys of Triples.build): numpy radix-sorts 16-bit numbers in linear time, and a
    stable sort by each 16 bits in turn, lowest first, is a stable sort of the whole number.
    Three times faster than comparison sorting a million keys; the same order."""
    if values.dtype.kind not in "iu" or values.size < 1000 or values.min() < 0:
        return np.argsort(values, kind="stable")
    bits = int(values.max()).bit_length()
    order = np.argsort(values.astype(np.uint16), kind="stable")  # the lowest 16 bits
    for shift in range(16, bits, 16):
        digit = (values[order] >> shift).astype(np.uint16)
        order = order[np.argsort(digit, kind="stable")]
    return order


def _factorize_by_counting(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    limit = 4 * values.size + 1_000_000
    for scale in (1, 7):  # weeks from rfm_summary are whole days / 7
        if values.dtype.kind in "iu":
            if scale != 1:
                return None
            ints = values
        else:
            scaled = values * scale
            ints = np.rint(scaled)
            if not np.all(np.abs(scaled - ints) <= 1e-9 * np.maximum(np.abs(scaled), 1.0)):
                continue
        low, high = ints.min(), ints.max()
        if low < 0 or high >= limit:
            return None
        ints = ints.astype(np.intp, copy=False)
        present = np.zeros(int(high) + 1, dtype=bool)
        present[ints] = True
        inverse = (np.cumsum(present) - 1)[ints]
        uniques = np.empty(int(present.sum()), dtype=values.dtype)
        uniques[inverse] = values  # one representative of each group
        return uniques, inverse
    return None


@dataclass(frozen=True)
class Triples:
    """Customers grouped by identical (frequency, recency, T).

    The likelihoods are sums over customers, and customers with the same triple contribute
    the same term, so models evaluate each distinct triple once and weight it by its count.
    Each of x, t_x and T is factorized as well: terms that depend on one of them only
    (gamma functions of r + x, logs of alpha + T) are computed per distinct value.
    """

    x: np.ndarray
    tx: np.ndarray
    T: np.ndarray
    weight: np.ndarray
    inverse: np.ndarray  # customer -> triple
    ux: np.ndarray
    ix: np.ndarray
    utx: np.ndarray
    itx: np.ndarray
    uT: np.ndarray
    iT: np.ndarray

    @classmethod
    def build(cls, x: np.ndarray, tx: np.ndarray, T: np.ndarray,
              weights: np.ndarray | None = None) -> Triples:
        ux, ix = factorize(x)
        utx, itx = factorize(tx)
        uT, iT = factorize(T)
        key = (ix.astype(np.int64) * utx.size + itx) * uT.size + iT
        ukey, inverse = factorize(key)
        w = np.ones(x.size) if weights is None else np.asarray(weights, dtype=np.float64)
        weight = np.bincount(inverse, weights=w, minlength=ukey.size)
        first = np.zeros(ukey.size, dtype=np.intp)
        first[inverse[::-1]] = np.arange(x.size - 1, -1, -1)
        tix, titx, tiT = ix[first], itx[first], iT[first]
        return cls(x=ux[tix], tx=utx[titx], T=uT[tiT], weight=weight, inverse=inverse,
                   ux=ux, ix=tix, utx=utx, itx=titx, uT=uT, iT=tiT)

    def __len__(self) -> int:
        return self.x.size

    def thinned(self, fraction: float, seed: int = 0) -> Triples | None:
        """Each customer kept with probability fraction (reproducibly): a random sample in
        the same form. None when the weights are not whole customer counts."""
        if not np.all(self.weight == np.round(self.weight)):
            return None
        rng = np.random.default_rng(seed)
        weight = rng.binomial(self.weight.astype(np.int64), min(fraction, 1.0)).astype(float)
        keep = weight > 0
        return Triples(x=self.x[keep], tx=self.tx[keep], T=self.T[keep], weight=weight[keep],
                       inverse=np.zeros(0, dtype=np.intp), ux=self.ux, ix=self.ix[keep],
                       utx=self.utx, itx=self.itx[keep], uT=self.uT, iT=self.iT[keep])
