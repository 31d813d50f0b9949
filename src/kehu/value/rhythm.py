"""What a customer is due to buy again, from their own purchase rhythm per product: numpy
only.

    due = due_again(customer_index, product_index, day_number, as_of=day, horizon=14)

Each (customer, product) pair bought on at least `min_days` different days has a rhythm:
the median number of days between its purchase days. It is due again on the last purchase
day plus that median. A pair is offered when that day falls before the end of the horizon
(the days until the next offer list) and the customer has not stopped buying it: once
`lapsed_after` rhythms have passed without a purchase, the product is taken as given up and
left out (a shopping list that keeps offering what somebody no longer buys is noise).

The median, not the mean, so that one long holiday does not stretch the rhythm; the
regularity reported beside it is 1 − (the median absolute deviation of the gaps / their
median), clipped to [0, 1]: 1 for gaps all alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kehu.value.errors import ValueModelError

MIN_DAYS = 3
LAPSED_AFTER = 3.0


@dataclass(frozen=True)
class Due:
    """The pairs due again, by customer and then soonest due first."""

    customer: np.ndarray  # customer index (as given)
    product: np.ndarray  # product index (as given)
    days: np.ndarray  # purchase days of the pair
    last: np.ndarray  # last purchase day
    rhythm: np.ndarray  # median days between purchase days
    regularity: np.ndarray  # 0..1
    due: np.ndarray  # last + rhythm (a day number; may lie before as_of: overdue)

    def __len__(self) -> int:
        return int(self.customer.size)


def _ints(values, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueModelError(f"{name} must be a one-dimensional array")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ValueModelError(f"{name} must hold whole numbers, not {array.dtype}")
    return array.astype(np.int64)


def due_again(customers, products, days, *, as_of: int, horizon: int,
              min_days: int = MIN_DAYS, lapsed_after: float = LAPSED_AFTER) -> Due:
    """The (customer, product) pairs due to be bought again by `as_of + horizon`, from the
    purchase rows (customer index, product index, day number — e.g. date.toordinal()).
    Several rows on one day count as one purchase day; rows after `as_of` are ignored."""
    c, p, d = _ints(customers, "customers"), _ints(products, "products"), _ints(days, "days")
    if not (c.size == p.size == d.size):
        raise ValueModelError(f"customers ({c.size}), products ({p.size}) and days ({d.size}) "
                              "differ in length")
    if horizon < 0:
        raise ValueModelError("horizon must not be negative")
    if min_days < 2:
        raise ValueModelError("min_days must be at least 2: a rhythm needs two purchases")
    if lapsed_after <= 1:
        raise ValueModelError("lapsed_after must be more than one rhythm")
    keep = d <= as_of
    c, p, d = c[keep], p[keep], d[keep]
    empty = np.empty(0, dtype=np.int64)
    if not c.size:
        return Due(empty, empty, empty, empty, np.empty(0), np.empty(0), empty)
    # One row per purchase day of each pair, in order.
    rows = np.unique(np.stack([c, p, d], axis=1), axis=0)
    c, p, d = rows[:, 0], rows[:, 1], rows[:, 2]
    new_pair = np.r_[True, (c[1:] != c[:-1]) | (p[1:] != p[:-1])]
    starts = np.flatnonzero(new_pair)
    counts = np.diff(np.r_[starts, c.size])
    out_c, out_p, out_n, out_last, out_rhythm, out_reg = [], [], [], [], [], []
    for start, n in zip(starts[counts >= min_days], counts[counts >= min_days], strict=True):
        gaps = np.diff(d[start:start + n]).astype(float)
        rhythm = float(np.median(gaps))
        spread = float(np.median(np.abs(gaps - rhythm)))
        out_c.append(c[start])
        out_p.append(p[start])
        out_n.append(n)
        out_last.append(d[start + n - 1])
        out_rhythm.append(rhythm)
        out_reg.append(min(1.0, max(0.0, 1.0 - spread / rhythm)))
    if not out_c:
        return Due(empty, empty, empty, empty, np.empty(0), np.empty(0), empty)
    oc, op, on = np.array(out_c), np.array(out_p), np.array(out_n)
    last, rhythm, regularity = np.array(out_last), np.array(out_rhythm), np.array(out_reg)
    due = last + np.rint(rhythm).astype(np.int64)
    ok = (due <= as_of + horizon) & (as_of - last <= lapsed_after * rhythm)
    oc, op, on, last, rhythm, regularity, due = (a[ok] for a in
                                                 (oc, op, on, last, rhythm, regularity, due))
    order = np.lexsort((op, -regularity, due, oc))
    return Due(oc[order], op[order], on[order], last[order], rhythm[order],
               regularity[order], due[order])
