"""Choosing the purchase model by its own holdout.

BG/NBD, MBG/NBD and Pareto/NBD tell different stories about the same purchases (when and
whether a quiet customer has left), and which one a firm's customers follow is an empirical
question. compare() answers it the way Fader, Hardie & Lee (2005) check a model:

1. The history is split at a calibration end: the last part (a third of the history, at
   least 4 and at most 52 weeks, in whole weeks) is the holdout. The cohort is every
   customer whose first purchase is on or before the calibration end.
2. Each candidate is fitted on the cohort's calibration history (frequency, recency, T at
   the calibration end), from the same starting points as any other fit. A cohort of more
   than MAX_CUSTOMERS customers is represented by a random sample of that many (fixed seed).
3. Each fitted model predicts the holdout two ways, and each is compared with what
   happened:
   - per period: the cohort's cumulative repeat purchases at the end of every period
     (week, or 4 weeks for histories over three years), predicted without looking at
     anyone's history, sum over customers of E[X(t - first purchase)] (the tracking plot,
     FHL 2005 figure 2). period_error = the mean, over the holdout's period ends, of
     |predicted - actual| repeat purchases since the calibration end, divided by the
     repeat purchases made in the whole holdout;
   - per customer: E[purchases in the holdout | the customer's calibration history]
     against the purchases the customer made. customer_error = the mean absolute error
     over the cohort divided by the mean number of holdout purchases per customer.
   Both are relative (0 is perfect, 0.25 is "off by a quarter of what happened"), so they
   can be added although one counts purchases of the whole cohort and the other of one
   customer: holdout_error = (period_error + customer_error) / 2.
4. The candidate with the smallest holdout_error is chosen, unless one is pinned. A
   candidate whose fit or prediction fails is kept with its error and never chosen.

The chosen model is then refitted on the whole history (fit_chosen) for scoring, starting
from its calibration optimum, which saves most of the optimiser's steps.

Time is in days here (integers, days since 1970-01-01) and in `unit_days` for the models.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kehu.value._base import TransactionModel
from kehu.value.bgnbd import BetaGeoModel, ModifiedBetaGeoModel
from kehu.value.errors import ValueModelError
from kehu.value.paretonbd import ParetoNBDModel

CANDIDATES: tuple[type[TransactionModel], ...] = (BetaGeoModel, ModifiedBetaGeoModel,
                                                  ParetoNBDModel)
BY_NAME: dict[str, type[TransactionModel]] = {m.model_name: m for m in CANDIDATES}
MAX_GROUP = 10  # customers with 0, 1, ..., 9 and 10 or more calibration repeat purchases
# The comparison is made on a random sample of this many customers at most (with a fixed
# seed, so that a refresh repeated on the same data chooses the same): five thousand already
# tell the three models apart (tests/value/test_selection.py), and the sample bounds the
# cost of the Pareto/NBD fit, the dearest, whatever the size of the base.
MAX_CUSTOMERS = 25_000
MIN_HOLDOUT_WEEKS = 4
MAX_HOLDOUT_WEEKS = 52
# Failures of a candidate that must not stop the others (numerical trouble included).
FIT_FAILURES = (ValueModelError, ArithmeticError, ValueError, np.linalg.LinAlgError)


@dataclass
class Candidate:
    """One model's calibration fit and holdout figures (None where its fit failed)."""

    model: str
    label: str
    fitted: TransactionModel | None = None
    error: str | None = None
    fit_seconds: float = 0.0
    period_error: float | None = None
    customer_error: float | None = None
    predicted: np.ndarray | None = None  # cumulative repeat purchases at each period end
    holdout_predicted: float | None = None  # Σ conditional expectations over the holdout

    @property
    def holdout_error(self) -> float | None:
        if self.period_error is None or self.customer_error is None:
            return None
        return combine(self.period_error, self.customer_error)

    def to_dict(self) -> dict[str, Any]:
        fitted = self.fitted
        return {
            "label": self.label,
            "holdout_error": _round(self.holdout_error),
            "period_error": _round(self.period_error),
            "customer_error": _round(self.customer_error),
            "params": dict(fitted.params_) if fitted is not None else None,
            "loglik": float(fitted.loglik_) if fitted is not None else None,
            "fit_seconds": round(self.fit_seconds, 3),
            "holdout_predicted": _round(self.holdout_predicted),
            "predicted": None if self.predicted is None
            else [round(float(v), 2) for v in self.predicted],
            "error": self.error,
        }


@dataclass
class Selection:
    """The comparison of the candidates on one calibration/holdout split."""

    calibration_end: int
    end: int
    period_days: int
    period_ends: np.ndarray  # days; the calibration end is one of them
    actual: np.ndarray  # the cohort's cumulative repeat purchases at each period end
    customers: int  # the customers compared: the cohort, or a sample of it
    cohort: int  # the customers who had bought by the calibration end
    holdout_purchases: float  # repeat purchases the cohort made in the holdout
    candidates: dict[str, Candidate] = field(default_factory=dict)
    pinned: str | None = None
    chosen: str | None = None
    error: str | None = None  # why no model could be chosen by the holdout

    @property
    def holdout_weeks(self) -> float:
        return (self.end - self.calibration_end) / 7

    def ranking(self) -> list[str]:
        """The candidates with a holdout error, best first."""
        scored = [(c.holdout_error, name) for name, c in self.candidates.items()
                  if c.holdout_error is not None]
        return [name for _err, name in sorted(scored)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; days as ISO dates."""
        return {
            "chosen": self.chosen, "pinned": self.pinned is not None, "error": self.error,
            "calibration_end": _iso(self.calibration_end), "end": _iso(self.end),
            "holdout_weeks": round(self.holdout_weeks, 2), "period_days": self.period_days,
            "customers": self.customers, "cohort": self.cohort,
            "holdout_purchases": float(self.holdout_purchases),
            "periods": [_iso(d) for d in self.period_ends],
            "actual": [float(v) for v in self.actual],
            "candidates": {name: c.to_dict() for name, c in self.candidates.items()},
        }


def combine(period_error: float, customer_error: float) -> float:
    """holdout_error: the mean of the two relative errors (see the module docstring)."""
    return (period_error + customer_error) / 2


def relative_errors(predicted_curve: np.ndarray, actual_curve: np.ndarray,
                    predicted_customer: np.ndarray, actual_customer: np.ndarray,
                    groups: np.ndarray | None = None) -> tuple[float, float]:
    """(period_error, customer_error) of one model.

    predicted_curve and actual_curve: cumulative repeat purchases since the calibration end
    at each period end of the holdout (the last is the holdout's end); predicted_customer
    and actual_customer: each cohort customer's expected and actual holdout purchases.
    """
    predicted_curve = np.asarray(predicted_curve, dtype=np.float64)
    actual_curve = np.asarray(actual_curve, dtype=np.float64)
    predicted_customer = np.asarray(predicted_customer, dtype=np.float64)
    actual_customer = np.asarray(actual_customer, dtype=np.float64)
    total = float(actual_curve[-1]) if actual_curve.size else 0.0
    if total <= 0 or actual_customer.sum() <= 0:
        raise ValueModelError("nobody bought again during the holdout, so the models' "
                              "forecasts cannot be compared with anything")
    period = float(np.mean(np.abs(predicted_curve - actual_curve))) / total
    if groups is None:
        groups = np.zeros(actual_customer.shape, dtype=np.int64)
    groups = np.asarray(groups, dtype=np.int64)
    gap = (np.bincount(groups, predicted_customer) - np.bincount(groups, actual_customer))
    customer = float(np.abs(gap).sum() / actual_customer.sum())
    return period, customer


def holdout_days_for(span_days: int) -> int:
    """The holdout's length: a third of the history in whole weeks, 4 to 52 weeks."""
    weeks = min(MAX_HOLDOUT_WEEKS, span_days // 3 // 7)
    if weeks < MIN_HOLDOUT_WEEKS:
        raise ValueModelError(
            f"the purchase history covers {span_days} days; at least "
            f"{3 * 7 * MIN_HOLDOUT_WEEKS} are needed to hold out {MIN_HOLDOUT_WEEKS} weeks "
            f"and still fit the models on the rest")
    return weeks * 7


def purchase_days(customer: Any, day: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(first_day, repeat_customer, repeat_day) for compare() from a transaction log:
    customer codes 0..n-1 and days; purchases on one day count once, as in the models."""
    c = np.asarray(customer, dtype=np.int64)
    d = np.asarray(day, dtype=np.int64)
    if c.shape != d.shape or not c.size or c.min() < 0:
        raise ValueModelError("customer codes (0, 1, ...) and days must pair up")
    order = np.lexsort((d, c))
    c, d = c[order], d[order]
    keep = np.r_[True, (c[1:] != c[:-1]) | (d[1:] != d[:-1])]
    c, d = c[keep], d[keep]
    opens = np.r_[True, c[1:] != c[:-1]]
    first = np.zeros(int(c.max()) + 1, dtype=np.int64)
    first[c[opens]] = d[opens]
    return first, c[~opens], d[~opens]


def compare(first_day: Any, repeat_customer: Any, repeat_day: Any, end: int, *,
            pinned: str | None = None, holdout_days: int | None = None,
            unit_days: float = 7.0, max_customers: int | None = MAX_CUSTOMERS,
            models: tuple[type[TransactionModel], ...] = CANDIDATES) -> Selection:
    """Fit each model on a calibration window and score it on the holdout.

    first_day: each customer's first purchase (days); repeat_customer, repeat_day: every
    repeat purchase (one per purchase day after the first) as (index into first_day, day);
    end: the last day observed. pinned: a model_name chosen whatever the holdout says.
    Raises ValueModelError when the history cannot be split (too short); a model that
    cannot be fitted is reported in its Candidate.
    """
    first = np.asarray(first_day, dtype=np.int64)
    who = np.asarray(repeat_customer, dtype=np.int64)
    days = np.asarray(repeat_day, dtype=np.int64)
    if pinned is not None and pinned not in BY_NAME:
        raise ValueModelError(f"unknown purchase model {pinned!r}; one of "
                              f"{', '.join(BY_NAME)}")
    if not first.size:
        raise ValueModelError("nobody has bought anything yet")
    if who.shape != days.shape or (who.size and (who.min() < 0 or who.max() >= first.size)):
        raise ValueModelError("every repeat purchase must name one of the customers")
    if who.size and (days < first[who]).any():
        raise ValueModelError("a repeat purchase comes before the customer's first purchase")
    if (first > end).any() or (days > end).any():
        raise ValueModelError("a purchase comes after the end of the history")
    start = int(first.min())
    holdout = holdout_days if holdout_days is not None else holdout_days_for(end - start)
    cal_end = end - int(holdout)
    if holdout <= 0 or cal_end <= start:
        raise ValueModelError("the holdout must leave some history to fit the models on")
    period = 7 if end - start <= 3 * 365 else 28
    before = np.arange(cal_end, start, -period)[::-1]  # ... cal_end - period, cal_end
    after = np.arange(cal_end + period, end, period)
    period_ends = np.concatenate([before, after, [end]]).astype(np.int64)

    # The cohort: customers who had bought by the calibration end (a random sample of them
    # when there are more than max_customers).
    cohort = first <= cal_end
    cohort_size = int(cohort.sum())
    if max_customers is not None and cohort_size > max_customers:
        rng = np.random.default_rng(0)
        keep = rng.choice(np.flatnonzero(cohort), size=max_customers, replace=False)
        cohort = np.zeros(first.size, dtype=bool)
        cohort[keep] = True
    index = np.full(first.size, -1, dtype=np.int64)
    index[cohort] = np.arange(int(cohort.sum()))
    births = first[cohort]
    mine = cohort[who] if who.size else np.zeros(0, dtype=bool)
    c_who, c_day = index[who[mine]], days[mine]
    in_cal = c_day <= cal_end
    n = births.size
    x = np.bincount(c_who[in_cal], minlength=n).astype(np.float64)
    last = births.copy()
    np.maximum.at(last, c_who[in_cal], c_day[in_cal])
    recency = (last - births) / unit_days
    T = (cal_end - births) / unit_days
    held = np.bincount(c_who[~in_cal], minlength=n).astype(np.float64)
    sorted_days = np.sort(c_day)
    actual = np.searchsorted(sorted_days, period_ends, side="right").astype(np.float64)

    out = Selection(calibration_end=cal_end, end=end, period_days=period,
                    period_ends=period_ends, actual=actual, customers=int(n),
                    cohort=cohort_size,
                    holdout_purchases=float(held.sum()), pinned=pinned)
    if out.holdout_purchases == 0:
        out.error = ("nobody bought again during the holdout, so the models' forecasts "
                     "cannot be compared with anything")
    births_hist = np.bincount(births - start)  # customers by first day, from `start`
    offsets = np.arange(end - start + 1) / unit_days  # every age a customer can have
    at_cal = int(np.searchsorted(period_ends, cal_end))
    horizon = (end - cal_end) / unit_days
    for model_cls in models:
        cand = Candidate(model_cls.model_name, model_cls.label)
        out.candidates[cand.model] = cand
        began = time.perf_counter()
        try:
            cand.fitted = model_cls().fit(x, recency, T)
        except FIT_FAILURES as exc:
            cand.error = str(exc)
            cand.fit_seconds = time.perf_counter() - began
            continue
        cand.fit_seconds = time.perf_counter() - began
        try:
            curve = cand.fitted.expected_purchases_new(offsets)
            predicted = np.convolve(births_hist, curve)[period_ends - start]
            conditional = cand.fitted.expected_purchases(horizon, x, recency, T)
            if not (np.all(np.isfinite(predicted)) and np.all(np.isfinite(conditional))):
                raise ValueModelError(f"{model_cls.label}: its forecasts are not finite")
        except FIT_FAILURES as exc:
            cand.error = str(exc)
            continue
        cand.predicted = predicted
        cand.holdout_predicted = float(conditional.sum())
        if out.error is None:
            cand.period_error, cand.customer_error = relative_errors(
                predicted[at_cal:] - predicted[at_cal], actual[at_cal:] - actual[at_cal],
                conditional, held, np.minimum(x, MAX_GROUP).astype(np.int64))
    ranking = out.ranking()
    if pinned is not None:
        out.chosen = pinned
    elif ranking:
        out.chosen = ranking[0]
    elif out.error is None:
        out.error = "; ".join(str(c.error) for c in out.candidates.values()) \
            or "no candidate model"
    return out


def fit_chosen(selection: Selection | None, frequency: Any, recency: Any, T: Any,
               default: str = "bgnbd") -> tuple[TransactionModel, list[tuple[str, str]]]:
    """Fit the chosen model on the whole history, starting from its calibration optimum.

    Tries the chosen model, then (unless pinned) the next best by holdout error; with no
    choice, the pinned model or `default`. Returns the fitted model and the (model_name,
    error) of every model that failed before it. Raises ValueModelError if none fits.
    """
    if selection is not None and selection.chosen is not None:
        order = [selection.chosen]
        if selection.pinned is None:
            order += [m for m in selection.ranking() if m != selection.chosen]
    else:
        order = [selection.pinned if selection is not None and selection.pinned else default]
    starts = {}
    for name in order:
        cand = selection.candidates.get(name) if selection is not None else None
        if cand is not None and cand.fitted is not None:
            starts[name] = cand.fitted.params_
    return fit_in_order(order, starts, frequency, recency, T)


def fit_in_order(order: list[str], starts: dict[str, dict[str, float]], frequency: Any,
                 recency: Any, T: Any) -> tuple[TransactionModel, list[tuple[str, str]]]:
    """Fit the models named in `order` (model_name) on the whole history, each from its
    parameters in `starts` where given, until one fits. Returns the fitted model and the
    (model_name, error) of every model that failed before it. Raises ValueModelError if
    none fits."""
    failures: list[tuple[str, str]] = []
    for name in order:
        try:
            return BY_NAME[name]().fit(frequency, recency, T, start=starts.get(name)), failures
        except FIT_FAILURES as exc:
            failures.append((name, str(exc)))
    raise ValueModelError("; ".join(why for _name, why in failures))


def _iso(day: int) -> str:
    return str(np.datetime64(int(day), "D"))


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 6)
