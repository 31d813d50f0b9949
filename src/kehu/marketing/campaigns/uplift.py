"""Did the campaign cause anything? The difference between the contacted customers and the
hold-out group, with its confidence interval.

Pure functions of counts and amounts (no Django), tested by hand-worked examples:
- conversion rates: the difference of two proportions with the normal approximation and
  unpooled standard errors (Wald interval);
- revenue per customer: the difference of two means with Welch's interval (unequal
  variances, Welch–Satterthwaite degrees of freedom).
An interval that does not contain zero says the campaign made a difference at that level.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats


@dataclass(frozen=True)
class Interval:
    estimate: float  # contacted minus hold-out
    low: float
    high: float
    level: float  # e.g. 0.95

    @property
    def significant(self) -> bool:
        """The interval excludes zero: the difference is not chance at this level."""
        return self.low > 0 or self.high < 0

    @property
    def direction(self) -> int:
        """+1: the campaign raised it, -1: lowered it, 0: no difference shown."""
        if not self.significant:
            return 0
        return 1 if self.low > 0 else -1


def rate_difference(converted_treated: int, treated: int, converted_holdout: int,
                    holdout: int, level: float = 0.95) -> Interval | None:
    """Conversion rate of the contacted minus that of the hold-out, with a normal-
    approximation interval; None when either group is empty."""
    if treated <= 0 or holdout <= 0:
        return None
    if not (0 <= converted_treated <= treated and 0 <= converted_holdout <= holdout):
        raise ValueError("more conversions than customers")
    p_t = converted_treated / treated
    p_h = converted_holdout / holdout
    se = math.sqrt(p_t * (1 - p_t) / treated + p_h * (1 - p_h) / holdout)
    z = float(stats.norm.ppf(0.5 + level / 2))
    diff = p_t - p_h
    return Interval(diff, diff - z * se, diff + z * se, level)


def mean_difference(treated: Sequence[float], holdout: Sequence[float],
                    level: float = 0.95) -> Interval | None:
    """Mean of the contacted minus mean of the hold-out (revenue per customer, zeros for
    those who bought nothing), with Welch's interval; None when a group has fewer than two
    customers (no variance to speak of)."""
    n_t, n_h = len(treated), len(holdout)
    if n_t < 2 or n_h < 2:
        return None
    m_t = math.fsum(treated) / n_t
    m_h = math.fsum(holdout) / n_h
    v_t = math.fsum((x - m_t) ** 2 for x in treated) / (n_t - 1)
    v_h = math.fsum((x - m_h) ** 2 for x in holdout) / (n_h - 1)
    a, b = v_t / n_t, v_h / n_h
    diff = m_t - m_h
    se = math.sqrt(a + b)
    if se == 0:
        return Interval(diff, diff, diff, level)
    df = (a + b) ** 2 / (a * a / (n_t - 1) + b * b / (n_h - 1))
    t = float(stats.t.ppf(0.5 + level / 2, df))
    return Interval(diff, diff - t * se, diff + t * se, level)
