"""Customer lifetime value over a horizon of months, discounted monthly.

CLV = sum over months m = 1..M of (E[purchases by month m] - E[purchases by month m-1])
      x E[spend per purchase] / (1 + d)^m,
the convention of lifetimes (so results compare). A month is 4.345 weeks (52.14 / 12), or
4.345 x 7 = 30.415 days when the time unit is days (lifetimes uses 30 days there).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kehu.value._arrays import check_rfm
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
    if not np.isfinite(monthly_discount) or monthly_discount <= -1:
        raise ValueModelError(f"monthly_discount must be > -1, got {monthly_discount!r}")
    x, tx, t_cal = check_rfm(frequency, recency, T)
    spend = gg.expected_average_value(x, monetary_value)
    steps = month_length(time_unit) * np.arange(0, int(months) + 1)
    cumulative = model.expected_purchases_curve(steps[1:], x, tx, t_cal)
    per_month = np.diff(np.vstack([np.zeros(x.size), cumulative]), axis=0)
    # Expected purchases only grow with the horizon; rounding must not make a month negative.
    per_month = np.maximum(per_month, 0.0)
    discount = (1 + monthly_discount) ** -np.arange(1, int(months) + 1)
    with np.errstate(over="ignore", invalid="ignore"):
        clv = np.einsum("m,mn->n", discount, per_month) * spend  # no BLAS: see _arrays.dot
    if not np.all(np.isfinite(clv)):
        # lifetimes hands such a CLV on as inf; a sum of customer equity would be inf too.
        raise ValueModelError(
            f"CLV overflows for {int((~np.isfinite(clv)).sum()):,} customers: expected "
            f"purchases times expected spend is beyond float64")
    return {"clv": clv, "predicted_purchases": cumulative[-1], "predicted_avg_value": spend}
