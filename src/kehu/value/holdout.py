"""Holdout check: fit on the calibration period, predict the holdout, compare with what
happened.

Two comparisons, because they answer different questions:
- conditional: for the customers we know, the sum over customers of
  E[purchases in the holdout | their calibration history] against their actual holdout
  purchases (what a CRM uses the model for: per-customer forecasts);
- tracking: the cohort's cumulative repeat purchases from each customer's first purchase
  to the end of the holdout, predicted without looking at anyone's history (the
  "cumulative repeat transactions" plot of Fader, Hardie & Lee 2005, Figure 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kehu.value._base import TransactionModel
from kehu.value.errors import ValueModelError
from kehu.value.rfm import RFMSummary


@dataclass(frozen=True)
class HoldoutReport:
    customers: int
    holdout_duration: float
    actual: float  # repeat purchase days in the holdout, all customers
    predicted: float  # sum of conditional expectations
    cumulative_actual: float  # calibration + holdout repeat purchases
    cumulative_predicted: float  # unconditional, from each customer's first purchase
    by_frequency: list[dict[str, float]] = field(default_factory=list)

    @property
    def relative_error(self) -> float:
        return (self.predicted - self.actual) / self.actual if self.actual else float("nan")

    @property
    def cumulative_relative_error(self) -> float:
        if not self.cumulative_actual:
            return float("nan")
        return (self.cumulative_predicted - self.cumulative_actual) / self.cumulative_actual

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: an error that cannot be computed (nothing happened) is None, not NaN,
        which JSON does not have."""

        def finite(value: float) -> float | None:
            return value if value == value else None

        return {"customers": self.customers, "holdout_duration": self.holdout_duration,
                "actual": self.actual, "predicted": self.predicted,
                "relative_error": finite(self.relative_error),
                "cumulative_actual": self.cumulative_actual,
                "cumulative_predicted": self.cumulative_predicted,
                "cumulative_relative_error": finite(self.cumulative_relative_error),
                "by_frequency": self.by_frequency}


def evaluate_holdout(model: TransactionModel, summary: RFMSummary, max_frequency: int = 7
                     ) -> HoldoutReport:
    """Compare a model fitted on summary's calibration period with its holdout period.

    by_frequency groups customers by calibration frequency 0, 1, ..., max_frequency+ and
    gives the mean actual and predicted holdout purchases of each group.
    """
    if summary.frequency_holdout is None or summary.duration_holdout is None:
        raise ValueModelError("the summary has no holdout period: make it with "
                              "rfm_summary(..., calibration_end=...)")
    x, tx, T = summary.frequency, summary.recency, summary.T
    duration = float(summary.duration_holdout[0]) if len(summary) else 0.0
    predicted = model.expected_purchases(duration, x, tx, T)
    actual = summary.frequency_holdout
    # Cumulative tracking: E[X(T + duration)] for a new customer, summed over the cohort.
    ages, where = np.unique(T + duration, return_inverse=True)
    cumulative = float(model.expected_purchases_new(ages)[where].sum())
    groups = []
    capped = np.minimum(x, max_frequency)
    for k in range(max_frequency + 1):
        sel = capped == k
        if sel.any():
            groups.append({"frequency": k, "plus": k == max_frequency,
                           "customers": int(sel.sum()),
                           "actual_mean": float(actual[sel].mean()),
                           "predicted_mean": float(predicted[sel].mean())})
    return HoldoutReport(customers=len(summary), holdout_duration=duration,
                         actual=float(actual.sum()), predicted=float(predicted.sum()),
                         cumulative_actual=float(x.sum() + actual.sum()),
                         cumulative_predicted=cumulative, by_frequency=groups)
