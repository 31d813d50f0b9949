"""What BG/NBD and Pareto/NBD share: the estimator contract, fitting, serialisation."""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np

from kehu.value._arrays import Triples, check_rfm
from kehu.value._fitting import check_positive_params, maximise, runaway_message
from kehu.value.errors import ValueModelError

# Fits on more distinct (x, t_x, T) triples than SAMPLE_ABOVE start from a fit on a random
# sample of SAMPLE_CUSTOMERS customers.
SAMPLE_ABOVE = 60_000
SAMPLE_CUSTOMERS = 40_000


class TransactionModel:
    """Base of the buy-till-you-die models (scikit-learn style).

    Options go to __init__; fit(frequency, recency, T) learns params_ (a dict), loglik_
    (total log-likelihood) and n_customers_; predictions never refit. Subclasses give the
    per-triple log-likelihood with its gradient and the predictions.
    """

    model_name: ClassVar[str]  # as in to_dict() and the CLI: "bgnbd", "pareto_nbd"
    label: ClassVar[str]  # for messages: "BG/NBD"
    param_names: ClassVar[tuple[str, ...]]

    def __init__(self, *, min_customers: int = 20) -> None:
        self.min_customers = min_customers

    # -- fitting -----------------------------------------------------------------------------
    def fit(self, frequency: Any, recency: Any, T: Any, weights: Any = None, *,
            start: dict[str, float] | None = None) -> Self:
        """Maximum likelihood fit. weights (optional) count customers per row; start
        (optional) parameters to try first, such as a fit on part of the same history."""
        x, tx, t_cal = check_rfm(frequency, recency, T)
        w = None
        if weights is not None:
            w = np.asarray(weights, dtype=np.float64)
            if w.shape != x.shape or not np.all(np.isfinite(w)) or (w < 0).any():
                raise ValueModelError(
                    f"{self.label}: weights must be non-negative, one per customer")
            keep = w > 0
            x, tx, t_cal, w = x[keep], tx[keep], t_cal[keep], w[keep]
        n = float(x.size if w is None else w.sum())
        if n < self.min_customers:
            raise ValueModelError(
                f"{self.label}: {n:g} customers are too few to fit {len(self.param_names)} "
                f"parameters; at least {self.min_customers} are needed")
        if not (x > 0).any():
            raise ValueModelError(
                f"{self.label}: nobody made a repeat purchase, so the data cannot tell the "
                f"purchase rate from dropout; the model cannot be fitted")
        if not (t_cal > 0).any():
            raise ValueModelError(f"{self.label}: every customer has T = 0 (no time observed)")
        data = Triples.build(x, tx, t_cal, w)
        total = float(data.weight.sum())
        starts, curvature, hessian = self._starts(data), None, None
        if start is not None:
            check_positive_params(start, self.param_names, self.label)
            starts = [np.log([start[n] for n in self.param_names]), *starts]
        sample = data.thinned(SAMPLE_CUSTOMERS / total) if len(data) > SAMPLE_ABOVE else None
        if sample is not None:
            # Many distinct customers: find the optimum on a random sample first, then
            # polish it on everyone starting there, with the sample's curvature; that takes
            # a few full evaluations instead of dozens. If the sample fails, fit as usual.
            try:
                theta, _, hess = maximise(self._objective(sample), starts, self.param_names,
                                          self.label, float(sample.weight.sum()), check=False)
                if np.all(np.linalg.eigvalsh(hess) > 0):
                    # The sample's curvature (per customer) also serves the identification
                    # check on everyone: the standard errors scale with the full count.
                    starts, curvature, hessian = [theta, *starts], np.linalg.inv(hess), hess
            except ValueModelError:
                pass
        theta, mean_negll, _ = maximise(self._objective(data), starts, self.param_names,
                                        self.label, total, inverse_hessian=curvature,
                                        hessian=hessian)
        self.params_ = dict(zip(self.param_names, map(float, np.exp(theta)), strict=True))
        self.loglik_ = -mean_negll * total
        self.n_customers_ = int(round(total))
        self._check_fitted_params()
        self._check_predictable(theta, x, tx, t_cal)
        return self

    def _objective(self, data: Triples):
        """Mean negative log-likelihood and its gradient in log-parameters."""
        total = float(data.weight.sum())

        def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
            ll, grad = self._loglik(theta, data)
            if not np.isfinite(ll):
                return np.inf, np.zeros_like(theta)
            return -ll / total, -grad / total

        return objective

    def loglik(self, frequency: Any, recency: Any, T: Any) -> float:
        """Total log-likelihood of these customers under the fitted parameters."""
        x, tx, t_cal = check_rfm(frequency, recency, T)
        data = Triples.build(x, tx, t_cal)
        theta = np.log([self._params()[n] for n in self.param_names])
        return float(self._loglik(theta, data, gradient=False)[0])

    def _loglik(self, theta: np.ndarray, data: Triples, gradient: bool = True
                ) -> tuple[float, np.ndarray]:
        raise NotImplementedError

    def _starts(self, data: Triples) -> list[np.ndarray]:
        raise NotImplementedError

    def _check_fitted_params(self) -> None:
        """Refuse fitted parameters under which the predictions are undefined."""

    def _check_predictable(self, theta: np.ndarray, x: np.ndarray, tx: np.ndarray,
                           t_cal: np.ndarray) -> None:
        """A fit that converged with a parameter heading to 0 or infinity (a small base
        often gives BG/NBD a and b in the millions: everyone drops out alike) is kept only
        if it can still predict these customers; otherwise the fit is refused now, not at
        the first prediction."""
        refusal = runaway_message(self.label, self.param_names, theta)
        if refusal is None:
            return
        horizon = np.array([max(float(t_cal.max()), 1.0)])
        try:
            ok = np.all(np.isfinite(self.expected_purchases_curve(horizon, x, tx, t_cal)))
            ok = ok and np.all(np.isfinite(self.p_alive(x, tx, t_cal)))
        except (ValueModelError, FloatingPointError, OverflowError):
            ok = False
        if not ok:
            del self.params_
            raise ValueModelError(refusal)

    # -- state -------------------------------------------------------------------------------
    def _params(self) -> dict[str, float]:
        params = getattr(self, "params_", None)
        if params is None:
            raise ValueModelError(f"{self.label} is not fitted: call fit() or from_dict() first")
        return params

    def to_dict(self) -> dict[str, Any]:
        """What is needed to predict without refitting (JSON-serialisable)."""
        return {"model": self.model_name, "params": dict(self._params()),
                "loglik": float(self.loglik_), "n_customers": int(self.n_customers_)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        if data.get("model", cls.model_name) != cls.model_name:
            raise ValueModelError(
                f"{cls.label}: cannot load a {data.get('model')!r} model")
        params = data.get("params")
        if not isinstance(params, dict):
            raise ValueModelError(f"{cls.label}: 'params' must be a dict of parameters")
        check_positive_params(params, cls.param_names, cls.label)
        model = cls()
        model.params_ = {n: float(params[n]) for n in cls.param_names}
        model.loglik_ = float(data.get("loglik", np.nan))
        model.n_customers_ = int(data.get("n_customers", 0))
        model._check_fitted_params()
        return model

    def __repr__(self) -> str:
        params = getattr(self, "params_", None)
        if params is None:
            return f"{type(self).__name__}()"
        inner = ", ".join(f"{k}={v:.4g}" for k, v in params.items())
        return f"{type(self).__name__}({inner})"

    # -- predictions (subclasses) ------------------------------------------------------------
    def p_alive(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        raise NotImplementedError

    def expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        """Expected number of purchases in (T, T + t] of each customer given their history."""
        t_arr = np.asarray(t, dtype=np.float64)
        x, tx, t_cal = check_rfm(frequency, recency, T)
        if t_arr.ndim == 0:
            return self.expected_purchases_curve(t_arr.reshape(1), x, tx, t_cal)[0]
        t_arr, x, tx, t_cal = np.broadcast_arrays(t_arr, x, tx, t_cal)
        out = np.empty(x.size)
        for value in np.unique(t_arr):  # typically one or a few horizons
            sel = t_arr == value
            out[sel] = self.expected_purchases_curve(np.array([value]), x[sel], tx[sel],
                                                     t_cal[sel])[0]
        return out

    def expected_purchases_curve(self, ts: np.ndarray, frequency: Any, recency: Any, T: Any
                                 ) -> np.ndarray:
        """expected_purchases at several horizons at once: shape (len(ts), customers)."""
        raise NotImplementedError

    def prob_n_purchases(self, n: Any, t: Any, frequency: Any, recency: Any, T: Any
                         ) -> np.ndarray:
        raise NotImplementedError


def check_horizons(ts: Any) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(ts, dtype=np.float64))
    if arr.ndim != 1 or not np.all(np.isfinite(arr)) or (arr < 0).any():
        raise ValueModelError("horizons t must be finite and non-negative")
    return arr


def check_counts(n: Any) -> np.ndarray:
    arr = np.asarray(n, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or (arr < 0).any() or (arr != np.round(arr)).any():
        raise ValueModelError("n must be a whole number of purchases >= 0")
    return arr
