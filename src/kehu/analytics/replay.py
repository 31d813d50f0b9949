"""The purchase history as it stood at an earlier date: what each buyer's frequency,
recency, age and spend were then. The refresh replays month ends with it to estimate the
Markov migration and to value the base month by month (the equity trend), all in numpy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from kehu.analytics.data import EPOCH, PurchaseDays

DAYS_PER_WEEK = 7.0


@dataclass
class History:
    """PurchaseDays grouped by buyer: rows start[i]..start[i]+n[i]-1 belong to buyer[i]."""

    buyer: np.ndarray
    start: np.ndarray
    n: np.ndarray
    day: np.ndarray
    amount_sum: np.ndarray  # running totals along the rows
    profit_sum: np.ndarray
    first_amount: np.ndarray  # each buyer's first purchase day's spend

    @classmethod
    def of(cls, pd: PurchaseDays) -> History:
        buyer, start, n = np.unique(pd.customer, return_index=True, return_counts=True)
        # Only the first day's spend is kept of the amounts (monetary value leaves it out):
        # all of them would be 8 bytes a purchase day for as long as the refresh runs.
        return cls(buyer, start, n, pd.day, np.cumsum(pd.amount), np.cumsum(pd.profit),
                   pd.amount[start])

    def _total(self, running: np.ndarray, start: np.ndarray, count: np.ndarray) -> np.ndarray:
        """Each buyer's sum of the first `count` of its rows (from row `start`)."""
        out = np.zeros(count.shape)
        has = count > 0
        last = start[has] + count[has] - 1
        before = start[has] - 1
        out[has] = running[last] - np.where(before >= 0, running[np.maximum(before, 0)], 0.0)
        return out

    def counts_at(self, day: int) -> np.ndarray:
        """Each buyer's purchase days up to the end of `day` (days since 1970-01-01)."""
        # Counted from the booleans as they are: a copy as integers would be 8 bytes a
        # purchase day (about 100 MB at a million customers) for each month end.
        if not self.start.size:
            return np.zeros(0, dtype=np.int64)
        return np.add.reduceat(self.day <= day, self.start, dtype=np.int64)

    def totals_at(self, count: np.ndarray, buyers: slice = slice(None)
                  ) -> tuple[np.ndarray, np.ndarray]:
        """The sales and gross profit of the buyers at `buyers` over their first `count`
        purchase days."""
        start = self.start[buyers]
        return (self._total(self.amount_sum, start, count),
                self._total(self.profit_sum, start, count))

    def at(self, day: int, buyers: slice = slice(None), count: np.ndarray | None = None,
           totals: tuple[np.ndarray, np.ndarray] | None = None) -> Snapshot:
        """The standing at the end of `day` (days since 1970-01-01) of the buyers at
        `buyers`, whose purchase days up to then are `count` and sales and profit `totals`
        when already worked out (counts_at, totals_at)."""
        start = self.start[buyers]
        if count is None:
            count = self.counts_at(day)[buyers]
        revenue, profit = totals if totals is not None else self.totals_at(count, buyers)
        has = count > 0
        first = np.where(has, self.day[start], day)
        last = np.where(has, self.day[np.minimum(start + np.maximum(count - 1, 0),
                                                 self.day.size - 1)], day)
        repeat_spend = revenue - np.where(has, self.first_amount[buyers], 0.0)
        frequency = np.maximum(count - 1, 0)
        monetary = np.divide(repeat_spend, frequency, out=np.zeros(count.shape),
                             where=frequency > 0)
        return Snapshot(
            present=has, purchase_days=count, frequency=frequency.astype(float),
            recency=(last - first) / DAYS_PER_WEEK, T=(day - first) / DAYS_PER_WEEK,
            monetary=monetary, revenue=revenue, profit=profit, first_day=first, last_day=last)


def firm_margin_of(revenue: np.ndarray, profit: np.ndarray) -> float:
    """Gross profit over sales of the buyers with positive sales (0 without any)."""
    sold = float(revenue[revenue > 0].sum())
    return float(np.clip(profit[revenue > 0].sum() / sold, -1, 1)) if sold else 0.0


@dataclass
class Snapshot:
    present: np.ndarray  # bought at least once by then
    purchase_days: np.ndarray
    frequency: np.ndarray  # repeat purchase days
    recency: np.ndarray  # weeks from first to last purchase
    T: np.ndarray  # weeks from first purchase to the date
    monetary: np.ndarray  # mean spend of the repeat purchase days
    revenue: np.ndarray
    profit: np.ndarray
    first_day: np.ndarray
    last_day: np.ndarray


def month_ends(first_day: int, as_of: dt.date, months: int) -> list[dt.date]:
    """The last `months` month ends before `as_of` that come after `first_day`, oldest
    first, followed by `as_of` itself."""
    out: list[dt.date] = []
    cursor = as_of.replace(day=1) - dt.timedelta(days=1)
    start = EPOCH + dt.timedelta(days=int(first_day))
    while len(out) < months and cursor >= start:
        out.append(cursor)
        cursor = cursor.replace(day=1) - dt.timedelta(days=1)
    return [*reversed(out), as_of]
