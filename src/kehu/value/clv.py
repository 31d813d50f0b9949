"""Customer lifetime value over a horizon of months, discounted monthly.

Two kinds. `customer_lifetime_value` / `clv_details` give discounted expected *spend*,
    sum over months m = 1..M of (E[purchases by month m] - E[purchases by month m-1])
      x E[spend per purchase] / (1 + d)^m,
the convention of lifetimes (so results compare; what `kehu value score` writes).
`profit_clv_details` gives what the CRM calls CLV: discounted expected *profit* (spend at
the customer's gross margin, less the cost to serve each purchase) over a long horizon,
with its first twelve months beside it. A month is 4.345 weeks (52.14 / 12), or
4.345 x 7 = 30.415 days when the time unit is days (lifetimes uses 30 days there).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from kehu.value._arrays import as_1d_float, check_rfm, factorize
from kehu.value._base import TransactionModel
from kehu.value.errors import ValueModelError
from kehu.value.gamma_gamma import GammaGammaModel
from kehu.value.rfm import unit_days

WEEKS_PER_MONTH = 4.345


def month_length(time_unit: str) -> float:
    """Length of a month in the time unit of frequency/recency/T."""
    return WEEKS_PER_MONTH * 7 / unit_days(time_unit)


def customer_lifetime_value(model: TransactionModel, gg: GammaGammaModel, frequency: Any,
                            recency: Any, T: Any, monetary_value: Any, months: int = 12,
                            monthly_discount: float = 0.01, time_unit: str = "W"
                            ) -> np.ndarray:
    """Discounted expected spend of each customer over the next `months` months (>= 0)."""
    return clv_details(model, gg, frequency, recency, T, monetary_value, months,
                       monthly_discount, time_unit)["clv"]


def clv_details(model: TransactionModel, gg: GammaGammaModel, frequency: Any, recency: Any,
                T: Any, monetary_value: Any, months: int = 12, monthly_discount: float = 0.01,
                time_unit: str = "W") -> dict[str, np.ndarray]:
    """CLV with what it is made of: expected purchases over the horizon and expected spend
    per purchase (what `kehu value score` writes)."""
    if int(months) != months or months < 1:
        raise ValueModelError(f"months must be a whole number >= 1, got {months!r}")
    _check_discount(monthly_discount)
    x, tx, t_cal = check_rfm(frequency, recency, T)
    spend = gg.expected_average_value(x, monetary_value)
    steps = month_length(time_unit) * np.arange(0, int(months) + 1)
    cumulative = model.expected_purchases_curve(steps[1:], x, tx, t_cal)
    per_month = cumulative.copy()  # month by month: each month's total less the one before
    np.subtract(per_month[1:], cumulative[:-1], out=per_month[1:])
    # Expected purchases only grow with the horizon; rounding must not make a month negative.
    np.maximum(per_month, 0.0, out=per_month)
    discount = (1 + monthly_discount) ** -np.arange(1, int(months) + 1)
    with np.errstate(over="ignore", invalid="ignore"):
        clv = np.einsum("m,mn->n", discount, per_month) * spend  # no BLAS: see _arrays.dot
    if not np.all(np.isfinite(clv)):
        # lifetimes hands such a CLV on as inf; a sum of customer equity would be inf too.
        raise ValueModelError(
            f"CLV overflows for {int((~np.isfinite(clv)).sum()):,} customers: expected "
            f"purchases times expected spend is beyond float64")
    return {"clv": clv, "predicted_purchases": cumulative[-1], "predicted_avg_value": spend}


# -- Profit CLV ---------------------------------------------------------------------------------
#
# What the CRM calls CLV (客户终身价值, DOMAIN.md §4): discounted expected *profit* over the
# expected remaining relationship, not expected spend over a year. For each customer
#
#     CLV = sum over months m = 1..M of  E[purchases in month m] x profit per purchase / (1 + d)^m
#     profit per purchase = E[spend per purchase] x margin - cost to serve per purchase
#
# with M a long horizon (the relationship ends by itself: the purchase model's expected
# purchases fall with P(alive)), and the first twelve months' part of the same sum beside it.

MARGIN_CREDIBILITY = 5.0
NEAR_MONTHS = 12
# Cells (months x distinct customers) of expected purchases held at once: a million
# customers over ten years would otherwise take a gigabyte.
CHUNK_CELLS = 2_000_000


def credible_margin(gross_profit: Any, revenue: Any, purchases: Any, firm_margin: float,
                    credibility: float = MARGIN_CREDIBILITY) -> np.ndarray:
    """Each customer's gross margin, shrunk towards the firm's overall margin.

    margin = w x own margin + (1 - w) x firm margin, with w = n / (n + credibility) and n
    the customer's purchases. A margin read off one or two purchases is mostly chance (one
    discounted order, one high-margin product), and the firm's margin is the best guess for
    a customer we hardly know; credibility weighting (as in insurance pricing) trusts the
    customer's own record in proportion to how much of it there is: after `credibility`
    purchases it weighs half, after four times as many four fifths. A customer without
    positive sales has no margin of its own and gets the firm's.
    """
    gp = as_1d_float("gross_profit", gross_profit)
    rev = as_1d_float("revenue", revenue)
    n = as_1d_float("purchases", purchases)
    if not gp.shape == rev.shape == n.shape:
        raise ValueModelError(f"gross_profit, revenue and purchases must have the same length, "
                              f"got {gp.size}, {rev.size} and {n.size}")
    if (n < 0).any():
        raise ValueModelError("purchases must be >= 0")
    if not np.isfinite(firm_margin) or not -1 <= firm_margin <= 1:
        raise ValueModelError(f"firm_margin must be between -1 and 1, got {firm_margin!r}")
    if not np.isfinite(credibility) or credibility <= 0:
        raise ValueModelError(f"credibility must be > 0, got {credibility!r}")
    known = rev > 0
    # Returns can leave a sliver of sales against a large cost: a margin is between -1 and 1.
    own = np.clip(np.divide(gp, rev, out=np.zeros(rev.shape), where=known), -1.0, 1.0)
    weight = np.where(known, n / (n + credibility), 0.0)
    return weight * own + (1 - weight) * firm_margin


def lifetime_profit(per_month: Any, spend: Any, margin: Any, cost_per_purchase: Any,
                    monthly_discount: float = 0.01, near_months: int = NEAR_MONTHS
                    ) -> dict[str, np.ndarray]:
    """Discounted profit of a schedule of expected purchases (the definition, by the month).

    `per_month` holds the expected purchases of each customer (columns) in each coming
    month (rows). Returns "clv" (all the months), "clv_near" (the first `near_months` of
    them, or all if fewer) and "profit_per_purchase".
    """
    schedule = np.asarray(per_month, dtype=np.float64)
    if schedule.ndim != 2 or schedule.shape[0] < 1:
        raise ValueModelError("per_month must be months x customers, at least one month")
    if not np.all(np.isfinite(schedule)) or (schedule < 0).any():
        raise ValueModelError("expected purchases per month must be finite and >= 0")
    far, near = _discounted(schedule, monthly_discount, near_months)
    return _profit(far, near, spend, margin, cost_per_purchase)


def profit_clv_details(model: TransactionModel, gg: GammaGammaModel, frequency: Any,
                       recency: Any, T: Any, monetary_value: Any, margin: Any,
                       cost_per_purchase: Any, months: int = 120,
                       monthly_discount: float = 0.01, time_unit: str = "W",
                       near_months: int = NEAR_MONTHS,
                       schedules: ActiveSchedules | None = None) -> dict[str, np.ndarray]:
    """Profit CLV of each customer over `months` months and over the first `near_months`.

    Expected purchases come from the purchase model month by month, expected spend per
    purchase from Gamma-Gamma; `margin` (see credible_margin) and `cost_per_purchase` are
    one per customer. Returns "clv", "clv_near", "predicted_purchases" (over `months`),
    "predicted_purchases_near", "predicted_avg_value" and "profit_per_purchase".
    `schedules` (an ActiveSchedules of the same model and options) keeps what was computed
    for a later call.
    """
    if schedules is None:
        schedules = ActiveSchedules(model, months, monthly_discount, time_unit, near_months)
    elif schedules.key != (id(model), int(months), float(monthly_discount), time_unit,
                           int(near_months)):
        raise ValueModelError("schedules were computed for another model or other options")
    x, tx, t_cal = check_rfm(frequency, recency, T)
    spend = gg.expected_average_value(x, monetary_value)
    alive = model.p_alive(x, tx, t_cal)
    far, soon, purchases, purchases_near = (alive * column
                                            for column in schedules.lookup(x, t_cal).T)
    out = _profit(far, soon, spend, margin, cost_per_purchase)
    out["predicted_purchases"] = purchases
    out["predicted_purchases_near"] = purchases_near
    out["predicted_avg_value"] = spend
    return out


class ActiveSchedules:
    """The discounted purchases expected of a customer who is still active, by (frequency,
    age): over all the months and over the first `near_months`, discounted and not.

    Ten years month by month is 120 evaluations of the model per customer. In every
    purchase model here a customer's expected purchases are P(alive | x, t_x, T) times the
    purchases expected of them if alive, which depend on (x, T) only: the schedule is
    computed once per distinct (x, T), for a customer who bought last at T (or only once),
    and scaled by each customer's P(alive) (tests/value/test_clv.py checks it against the
    direct sum). What is computed is kept: the month ends a refresh replays share most of
    their (x, T).
    """

    def __init__(self, model: TransactionModel, months: int = 120,
                 monthly_discount: float = 0.01, time_unit: str = "W",
                 near_months: int = NEAR_MONTHS) -> None:
        if int(months) != months or months < 1:
            raise ValueModelError(f"months must be a whole number >= 1, got {months!r}")
        _check_discount(monthly_discount)
        if int(near_months) != near_months or near_months < 1:
            raise ValueModelError(
                f"near_months must be a whole number >= 1, got {near_months!r}")
        self.model, self.months = model, int(months)
        self.monthly_discount, self.near = float(monthly_discount), int(near_months)
        self.key = (id(model), self.months, self.monthly_discount, time_unit, self.near)
        self.steps = month_length(time_unit) * np.arange(1, self.months + 1)
        self._index: dict[tuple[float, float], int] = {}
        self._values = np.empty((0, 4))
        self._adding = threading.Lock()

    def lookup(self, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """(far, near, purchases, purchases near) of an active customer, one row each. Safe
        to call from several threads at once (the value refresh scores month ends two at a
        time): schedules are looked up and added one caller at a time."""
        ux, ix = factorize(x)
        uT, iT = factorize(T)
        pairs, inverse = factorize(ix.astype(np.int64) * uT.size + iT)
        px, pT = ux[pairs // uT.size], uT[pairs % uT.size]
        with self._adding:
            where = np.fromiter((self._index.get(key, -1)
                                 for key in zip(px.tolist(), pT.tolist(), strict=True)),
                                dtype=np.int64, count=px.size)
            new = np.flatnonzero(where < 0)
            if new.size:
                where[new] = self._values.shape[0] + np.arange(new.size)
                self._values = np.concatenate([self._values, self._compute(px[new], pT[new])])
                self._index.update(zip(zip(px[new].tolist(), pT[new].tolist(), strict=True),
                                       where[new].tolist(), strict=True))
            values = self._values
        return values[where[inverse]]

    def _compute(self, px: np.ndarray, pT: np.ndarray) -> np.ndarray:
        model, near = self.model, min(self.near, self.months)
        last = np.where(px > 0, pT, 0.0)  # bought last at T (or only once, at the start)
        at_last = model.p_alive(px, last, pT)
        out = np.empty((px.size, 4))
        size = max(CHUNK_CELLS // self.months, 1)
        for lo in range(0, px.size, size):
            part = slice(lo, lo + size)
            with np.errstate(divide="ignore", invalid="ignore"):
                cumulative = (model.expected_purchases_curve(self.steps, px[part], last[part],
                                                             pT[part]) / at_last[part])
            # Expected purchases only grow with the horizon; rounding must not make a month
            # negative.
            per_month = np.maximum(np.diff(cumulative, axis=0, prepend=0.0), 0.0)
            far, soon = _discounted(per_month, self.monthly_discount, near)
            out[part] = np.column_stack([far, soon, cumulative[-1], cumulative[near - 1]])
        if not np.all(np.isfinite(out)):
            raise ValueModelError(f"{model.label}: the purchases expected of a customer who "
                                  f"is still active cannot be computed for these inputs")
        return out


def _discounted(schedule: np.ndarray, monthly_discount: float, near_months: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """Discounted sums of a months x customers schedule: over all months, over the first
    `near_months`."""
    _check_discount(monthly_discount)
    if int(near_months) != near_months or near_months < 1:
        raise ValueModelError(f"near_months must be a whole number >= 1, got {near_months!r}")
    months = schedule.shape[0]
    discount = (1.0 + float(monthly_discount)) ** -np.arange(1, months + 1)
    near = min(int(near_months), months)
    # einsum, no BLAS: see _arrays.dot
    return (np.einsum("m,mn->n", discount, schedule),
            np.einsum("m,mn->n", discount[:near], schedule[:near]))


def _profit(far: np.ndarray, near: np.ndarray, spend: Any, margin: Any, cost_per_purchase: Any
            ) -> dict[str, np.ndarray]:
    n = far.size
    spend = _per_customer("spend", spend, n)
    margin = _per_customer("margin", margin, n)
    cost = _per_customer("cost_per_purchase", cost_per_purchase, n)
    if (cost < 0).any():
        raise ValueModelError("cost_per_purchase must be >= 0")
    with np.errstate(over="ignore", invalid="ignore"):
        profit = spend * margin - cost
        clv, clv_near = far * profit, near * profit
    bad = ~(np.isfinite(clv) & np.isfinite(clv_near))
    if bad.any():
        # lifetimes hands such a CLV on as inf; a sum of customer equity would be inf too.
        raise ValueModelError(
            f"CLV overflows for {int(bad.sum()):,} customers: expected purchases times "
            f"expected profit is beyond float64")
    return {"clv": clv, "clv_near": clv_near, "profit_per_purchase": profit}


def _check_discount(monthly_discount: float) -> None:
    if not np.isfinite(monthly_discount) or monthly_discount <= -1:
        raise ValueModelError(f"monthly_discount must be > -1, got {monthly_discount!r}")


def _per_customer(name: str, values: Any, n: int) -> np.ndarray:
    arr = as_1d_float(name, values)
    if arr.size == 1 and n != 1:
        arr = np.full(n, arr[0])
    if arr.size != n:
        raise ValueModelError(f"{name} must have one value per customer ({n}), got {arr.size}")
    return arr
