"""Gamma-Gamma spend model: Fader, Hardie & Lee (2005), "RFM and CLV".

A customer's purchase amounts are Gamma(p, nu) around their own mean p / nu, and
nu ~ Gamma(q, v) across customers. Only customers with repeat purchases inform it; their
mean repeat spend m over x purchases has density
    Gamma(px+q) / (Gamma(px) Gamma(q)) v^q m^(px-1) x^(px) / (v + x m)^(px+q).
The population mean spend is p v / (q - 1), which exists only when q > 1: a fit that lands
on q <= 1 is refused (lifetimes accepts it and returns negative CLV), and so is expected
spend from parameters loaded with q <= 1.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
from scipy.special import digamma, gammaln

from kehu.value._arrays import as_1d_float, dot, factorize
from kehu.value._fitting import check_positive_params, maximise
from kehu.value.errors import ValueModelError


class GammaGammaModel:
    """Gamma-Gamma spend model; params_ = {"p", "q", "v"}, loglik_, n_customers_."""

    model_name = "gamma_gamma"
    label = "Gamma-Gamma"
    param_names = ("p", "q", "v")

    def __init__(self, *, min_customers: int = 10) -> None:
        self.min_customers = min_customers

    def fit(self, frequency: Any, monetary_value: Any, weights: Any = None) -> Self:
        """Fit on the customers with frequency > 0 and a positive mean spend (customers
        whose refunds outweigh their purchases are outside the model and left out).

        weights (optional) count the customers of each row, so that distinct (frequency,
        monetary_value) pairs with their counts fit as the customers themselves would (what
        the Spark engine collects instead of every customer)."""
        x, m = _check_pair(frequency, monetary_value)
        w = None
        if weights is not None:
            w = np.asarray(weights, dtype=np.float64)
            if w.shape != x.shape or not np.all(np.isfinite(w)) or (w < 0).any():
                raise ValueModelError("Gamma-Gamma: weights must be non-negative, one per row")
        use = (x > 0) & (m > 0)
        if w is not None:
            use &= w > 0
            w = w[use]
        x, m = x[use], m[use]
        n = float(x.size if w is None else w.sum())
        if n < self.min_customers:
            raise ValueModelError(
                f"Gamma-Gamma: {n:g} customers with repeat purchases and positive spend are "
                f"too few; at least {self.min_customers} are needed")
        if np.ptp(m) == 0:
            raise ValueModelError("Gamma-Gamma: every repeat buyer has the same mean spend, so "
                                  "the spread of spend across customers cannot be estimated")
        # Everything that does not change with the parameters is summed once: the fit then
        # costs one log per customer and a few gamma functions per distinct x per step.
        # Without weights the sums are over customers; with them, weighted (wx = w x).
        ux, ix = factorize(x)
        log_m = np.log(m)
        if w is None:
            count_x = np.bincount(ix, minlength=ux.size).astype(np.float64)
            wx = x

            def total(values: np.ndarray) -> float:
                return float(values.sum())
        else:
            count_x = np.bincount(ix, weights=w, minlength=ux.size)
            wx = w * x

            def total(values: np.ndarray) -> float:
                return dot(w, values)
        sum_xlogm = dot(wx, log_m)
        sum_logm = total(log_m)
        sum_xlogx = dot(wx, np.log(x))

        def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
            p, q, v = np.exp(theta)
            pxq = p * ux + q
            log_vxm = np.log(v + x * m)
            ll = (dot(count_x, gammaln(pxq) - gammaln(p * ux)) - n * gammaln(q)
                  + n * q * np.log(v) + p * sum_xlogm - sum_logm + p * sum_xlogx
                  - p * dot(wx, log_vxm) - q * total(log_vxm))
            psi_pxq = digamma(pxq)
            d_p = (dot(count_x, ux * (psi_pxq - digamma(p * ux))) + sum_xlogm + sum_xlogx
                   - dot(wx, log_vxm))
            d_q = dot(count_x, psi_pxq) - n * digamma(q) + n * np.log(v) - total(log_vxm)
            d_v = n * q / v - total((p * x + q) / (v + x * m))
            grad = np.array([d_p * p, d_q * q, d_v * v])
            if not np.isfinite(ll):
                return np.inf, np.zeros(3)
            return -ll / n, -grad / n

        if w is None:
            mean, var = float(m.mean()), float(m.var())
        else:
            mean = dot(w, m) / n
            var = dot(w, (m - mean) ** 2) / n
        # Method-of-moments flavoured start: p from the spread of mean spend, q = 3, v from
        # the mean (E[m] = p v / (q - 1)).
        p0 = max(mean**2 / max(var, 1e-12), 0.5)
        starts = [np.log([p0, 3.0, mean * 2.0 / p0]), np.log([1.0, 2.0, mean]), np.zeros(3)]
        theta, mean_negll, _ = maximise(objective, starts, self.param_names, self.label, n)
        params = dict(zip(self.param_names, map(float, np.exp(theta)), strict=True))
        if params["q"] <= 1:
            # Refused here, not at the first prediction: a caller holding a fitted model
            # must be able to use it. The customers' mean spend p / nu, with nu ~ Gamma(q, v),
            # is inverse-gamma distributed, and an inverse-gamma has a mean only when q > 1.
            raise ValueModelError(
                f"Gamma-Gamma: the fit gives q = {params['q']:.4g} <= 1 (p = "
                f"{params['p']:.4g}, v = {params['v']:.4g}): the customers' mean spend then "
                f"follows an inverse-gamma distribution without a mean, so expected spend "
                f"(p v / (q - 1)) and CLV are undefined. The {int(n):,} repeat buyers' mean "
                f"spends have too heavy a tail of big spenders for this model")
        self.params_ = params
        self.loglik_ = -mean_negll * n
        self.n_customers_ = int(round(n))
        return self

    def expected_average_value(self, frequency: Any, monetary_value: Any) -> np.ndarray:
        """E[mean spend per purchase | x, m]: (p (v + x m)) / (p x + q - 1).

        Customers without repeat purchases (or with mean spend <= 0) get the population
        mean p v / (q - 1). Raises ValueModelError when q <= 1 (no finite mean).
        """
        p = self._params()
        pp, q, v = p["p"], p["q"], p["v"]
        if q <= 1:
            raise ValueModelError(
                f"Gamma-Gamma: q = {q:.4g} <= 1, so the spend distribution has no finite mean "
                f"and expected spend (and CLV) are undefined; the data have too heavy a tail "
                f"of big spenders for this model")
        x, m = _check_pair(frequency, monetary_value)
        informative = (x > 0) & (m > 0)
        x = np.where(informative, x, 0.0)
        m = np.where(informative, m, 0.0)
        with np.errstate(over="ignore", invalid="ignore"):
            spend = (v + x * m) * (pp / (pp * x + q - 1))
        if not np.all(np.isfinite(spend)):
            raise ValueModelError(
                f"Gamma-Gamma: expected spend overflows for {int((~np.isfinite(spend)).sum()):,} "
                f"customers (monetary_value too large for float64 arithmetic)")
        return spend

    def loglik(self, frequency: Any, monetary_value: Any) -> float:
        p = self._params()
        pp, q, v = p["p"], p["q"], p["v"]
        x, m = _check_pair(frequency, monetary_value)
        use = (x > 0) & (m > 0)
        x, m = x[use], m[use]
        px = pp * x
        return float((gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v)
                      + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(v + x * m)
                      ).sum())

    def _params(self) -> dict[str, float]:
        params = getattr(self, "params_", None)
        if params is None:
            raise ValueModelError("Gamma-Gamma is not fitted: call fit() or from_dict() first")
        return params

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model_name, "params": dict(self._params()),
                "loglik": float(self.loglik_), "n_customers": int(self.n_customers_)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        if data.get("model", cls.model_name) != cls.model_name:
            raise ValueModelError(f"Gamma-Gamma: cannot load a {data.get('model')!r} model")
        params = data.get("params")
        if not isinstance(params, dict):
            raise ValueModelError("Gamma-Gamma: 'params' must be a dict of parameters")
        check_positive_params(params, cls.param_names, cls.label)
        model = cls()
        model.params_ = {n: float(params[n]) for n in cls.param_names}
        model.loglik_ = float(data.get("loglik", np.nan))
        model.n_customers_ = int(data.get("n_customers", 0))
        return model

    def __repr__(self) -> str:
        params = getattr(self, "params_", None)
        if params is None:
            return "GammaGammaModel()"
        return "GammaGammaModel(" + ", ".join(f"{k}={v:.4g}" for k, v in params.items()) + ")"


def _check_pair(frequency: Any, monetary_value: Any) -> tuple[np.ndarray, np.ndarray]:
    x = as_1d_float("frequency", frequency)
    m = as_1d_float("monetary_value", monetary_value)
    if x.shape != m.shape:
        raise ValueModelError(f"frequency and monetary_value must have the same length, got "
                              f"{x.size} and {m.size}")
    if (x < 0).any():
        raise ValueModelError("frequency must be >= 0")
    return x, m
