"""Pareto/NBD: Schmittlein, Morrison & Colombo (1987), in the form of Fader & Hardie (2005).

While alive a customer buys at rate lambda (Poisson) and dies at rate mu (exponential
lifetime); lambda ~ Gamma(r, alpha) and mu ~ Gamma(s, beta) across customers.

The likelihood of (x, t_x, T) is
    C [ (alpha+T)^-(r+x) (beta+T)^-s  +  s I ],   C = Gamma(r+x) alpha^r beta^s / Gamma(r),
    I = integral over tau in [t_x, T] of (alpha+tau)^-(r+x) (beta+tau)^-(s+1),
where the second term is "died at tau". The usual closed form writes I as a difference of
two Gauss hypergeometric functions 2F1(r+s+x, .; r+s+x+1; z) whose prefactors overflow
for large x and whose difference cancels when t_x is close to T. Here I is computed
directly, in log space, as a series of positive terms (see _log_integral), which also
gives its exact derivatives: no overflow, no cancellation, analytic gradients.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import digamma, expit, gammaln, logsumexp, roots_legendre, xlogy

from kehu.value._arrays import Triples, check_rfm, dot
from kehu.value._base import TransactionModel, check_counts, check_horizons
from kehu.value.errors import ValueModelError

# Terms per customer at most in the series for I; reached only when alpha and beta differ
# by a factor of several hundred, far from any fitted optimum (see _log_integral).
MAX_TERMS = 20_000
# Terms evaluated per block, to bound memory.
BLOCK_TERMS = 2_000_000
_NODES, _WEIGHTS = roots_legendre(64)


def _log_integral(r: float, alpha: float, s: float, beta: float, x: np.ndarray,
                  tx: np.ndarray, T: np.ndarray, gradient: bool = True
                  ) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """log I and d log I / d(r, alpha, s, beta) (shape (4, n)) for each customer.

    Let m = max(alpha, beta) and u = log(m + tau) - log(m + t_x). Then
        I = (m + t_x)^-A  integral_0^D exp(-A u) (1 - z exp(-u))^-q du
    with A = r + s + x, D = log((m + T) / (m + t_x)), z = |alpha - beta| / (m + t_x) in
    [0, 1), and q = s + 1 when alpha >= beta, q = r + x otherwise. Expanding the binomial,
        I = (m + t_x)^-A  sum_k (q)_k / k! z^k g(A + k),  g(c) = (1 - exp(-c D)) / c,
    a series of positive terms: it is summed in log space over a window around where
    its terms are largest (the terms follow a negative binomial in k, times g). Returns
    also whether any series had to be cut at MAX_TERMS (the answer is then a lower bound).
    """
    n = x.size
    log_i = np.full(n, -np.inf)
    grad = np.zeros((4, n)) if gradient else None
    live = tx < T  # I = 0 when the last purchase is at T
    if not live.any():
        return log_i, grad, False
    x, tx, T = x[live], tx[live], T[live]
    a_ge_b = alpha >= beta
    base = alpha if a_ge_b else beta
    other = beta if a_ge_b else alpha
    A = r + s + x
    q = np.full(x.shape, s + 1.0) if a_ge_b else r + x
    log0 = np.log(base + tx)
    z = (base - other) / (base + tx)
    D = np.log1p((T - tx) / (base + tx))

    # Window of k per customer: mean and sd of the negative binomial (q, z), plus a
    # geometric tail (terms shrink by about z per step beyond the mode).
    with np.errstate(divide="ignore"):
        mean = q * z / (1 - z)
        sd = np.sqrt(q * z) / (1 - z)
        tail = np.where(z > 0, 40.0 / -np.log(np.maximum(z, 1e-300)), 0.0)
    lo = np.floor(np.maximum(mean - 12 * sd - 5, 0)).astype(np.int64)
    hi = np.ceil(mean + 12 * sd + tail + 5).astype(np.int64)
    hi = np.where(z > 0, hi, 1)  # z = 0: the k = 0 term, plus k = 1 for d/dz
    lo = np.where(z > 0, lo, 0)
    truncated = bool(((hi - lo + 1) > MAX_TERMS).any())
    hi = np.minimum(hi, lo + MAX_TERMS - 1)
    length = hi - lo + 1

    out_log = np.empty(x.size)
    out_grad = np.empty((4, x.size)) if gradient else None
    ends = np.cumsum(length)
    start = 0
    while start < x.size:  # blocks of customers, each with at most BLOCK_TERMS terms
        stop = int(np.searchsorted(ends, ends[start] - length[start] + BLOCK_TERMS,
                                   side="right"))
        stop = max(stop, start + 1)
        sl = slice(start, stop)
        lg, gr = _series(A[sl], q[sl], z[sl], D[sl], lo[sl], length[sl], gradient)
        out_log[sl] = lg - A[sl] * log0[sl]
        if gradient:
            s_a, s_q, s_z, s_d = gr
            tx_b, T_b, A_b = tx[sl], T[sl], A[sl]
            d_base = (-A_b / (base + tx_b) + s_z * (other + tx_b) / (base + tx_b) ** 2
                      + s_d * (1 / (base + T_b) - 1 / (base + tx_b)))
            d_other = -s_z / (base + tx_b)
            d_r = -log0[sl] + s_a + (0 if a_ge_b else s_q)
            d_s = -log0[sl] + s_a + (s_q if a_ge_b else 0)
            out_grad[0, sl] = d_r
            out_grad[2, sl] = d_s
            out_grad[1, sl] = d_base if a_ge_b else d_other
            out_grad[3, sl] = d_other if a_ge_b else d_base
        start = stop
    log_i[live] = out_log
    if gradient:
        grad[:, live] = out_grad
    return log_i, grad, truncated


def _series(A: np.ndarray, q: np.ndarray, z: np.ndarray, D: np.ndarray, lo: np.ndarray,
            length: np.ndarray, gradient: bool):
    """log sum_k (q)_k/k! z^k g(A+k) over each customer's window, and the derivatives of
    that log with respect to A, q, z and D."""
    offsets = np.cumsum(length) - length
    row = np.repeat(np.arange(A.size), length)
    k = (lo[row] + np.arange(row.size) - offsets[row]).astype(np.float64)
    c = A[row] + k
    cd = c * D[row]
    log_g = np.log(-np.expm1(-cd)) - np.log(c)
    qr = q[row]
    log_t = gammaln(qr + k) - gammaln(qr) - gammaln(k + 1) + xlogy(k, z[row]) + log_g
    peak = np.maximum.reduceat(log_t, offsets)
    e = np.exp(log_t - peak[row])
    total = np.add.reduceat(e, offsets)
    log_sum = peak + np.log(total)
    if not gradient:
        return log_sum, None
    w = e / total[row]
    with np.errstate(over="ignore"):  # inf for large c D, where the terms below are 0
        em1 = np.expm1(cd)
    s_a = np.add.reduceat(w * (D[row] / em1 - 1 / c), offsets)
    s_q = np.add.reduceat(w * (digamma(qr + k) - digamma(qr)), offsets)
    s_d = np.add.reduceat(w * (c / em1), offsets)
    zr = z[row]
    with np.errstate(divide="ignore", invalid="ignore"):
        s_z = np.add.reduceat(w * np.where(k > 0, k / zr, 0.0), offsets)
    # At z = 0 only k = 0 has weight, but d/dz still gets the k = 1 term: q g(A+1)/g(A).
    zero = z == 0
    if zero.any():
        a0, d0 = A[zero], D[zero]
        s_z[zero] = q[zero] * np.exp(np.log(-np.expm1(-(a0 + 1) * d0)) - np.log(a0 + 1)
                                     - np.log(-np.expm1(-a0 * d0)) + np.log(a0))
    return log_sum, (s_a, s_q, s_z, s_d)


class ParetoNBDModel(TransactionModel):
    """Pareto/NBD transaction model; params_ = {"r", "alpha", "s", "beta"}."""

    model_name = "pareto_nbd"
    label = "Pareto/NBD"
    param_names = ("r", "alpha", "s", "beta")

    def _starts(self, data: Triples) -> list[np.ndarray]:
        w = data.weight / data.weight.sum()
        mean_x, mean_T = dot(w, data.x), dot(w, data.T)
        scale = max(mean_T, 1e-3)
        alpha0 = scale / max(mean_x, 0.1)
        return [np.log([1.0, alpha0, 1.0, scale]), np.log([0.5, alpha0, 0.5, alpha0]),
                np.zeros(4)]

    def _loglik(self, theta: np.ndarray, data: Triples, gradient: bool = True
                ) -> tuple[float, np.ndarray]:
        r, alpha, s, beta = np.exp(theta)
        x, tx, T = data.x, data.tx, data.T
        ux, ix = data.ux, data.ix
        log_aT = np.log(alpha + data.uT)[data.iT]
        log_bT = np.log(beta + data.uT)[data.iT]
        alive = -(r + x) * log_aT - s * log_bT
        log_i, grad_i, _ = _log_integral(r, alpha, s, beta, x, tx, T, gradient)
        died = np.log(s) + log_i
        log_sum = np.logaddexp(alive, died)
        const = (gammaln(r + ux) - gammaln(r))[ix]
        wt = data.weight
        ll = dot(wt, const + log_sum) + float(wt.sum() * (r * np.log(alpha) + s * np.log(beta)))
        if not gradient:
            return ll, np.zeros(4)
        w1 = np.exp(alive - log_sum)
        w2 = np.exp(died - log_sum)
        d_r = (digamma(r + ux) - digamma(r))[ix] + np.log(alpha) - w1 * log_aT + w2 * grad_i[0]
        d_alpha = r / alpha - w1 * (r + x) / (alpha + T) + w2 * grad_i[1]
        d_s = np.log(beta) - w1 * log_bT + w2 * (1 / s + grad_i[2])
        d_beta = s / beta - w1 * s / (beta + T) + w2 * grad_i[3]
        grad = np.array([dot(wt, d_r) * r, dot(wt, d_alpha) * alpha, dot(wt, d_s) * s,
                         dot(wt, d_beta) * beta])
        return ll, grad

    def _check_fitted_params(self) -> None:
        p = self.params_
        ratio = max(p["alpha"], p["beta"]) / min(p["alpha"], p["beta"])
        if ratio > 500:
            raise ValueModelError(
                f"Pareto/NBD: alpha = {p['alpha']:.4g} and beta = {p['beta']:.4g} differ by a "
                f"factor of {ratio:.0f}; the purchase and dropout time scales are not "
                f"identified by these data")

    # -- predictions -------------------------------------------------------------------------
    def p_alive(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        """P(alive at T | x, t_x, T)."""
        x, tx, t_cal = check_rfm(frequency, recency, T)
        return self._p_alive(x, tx, t_cal)

    def _p_alive(self, x: np.ndarray, tx: np.ndarray, t_cal: np.ndarray) -> np.ndarray:
        p = self._params()
        r, alpha, s, beta = p["r"], p["alpha"], p["s"], p["beta"]
        data = Triples.build(x, tx, t_cal)
        log_i, _, truncated = _log_integral(r, alpha, s, beta, data.x, data.tx, data.T,
                                            gradient=False)
        if truncated:
            raise ValueModelError("Pareto/NBD: P(alive) cannot be computed accurately for "
                                  f"these parameters ({p})")
        log_odds = (np.log(s) + log_i + (r + data.x) * np.log(alpha + data.T)
                    + s * np.log(beta + data.T))
        return expit(-log_odds)[data.inverse]

    def expected_purchases_curve(self, ts: Any, frequency: Any, recency: Any, T: Any
                                 ) -> np.ndarray:
        ts = check_horizons(ts)
        x, tx, t_cal = check_rfm(frequency, recency, T)
        alive = self._p_alive(x, tx, t_cal)
        p = self._params()
        r, alpha, s, beta = p["r"], p["alpha"], p["s"], p["beta"]
        # E = P(alive) (r+x)/(alpha+T) (beta+T) [1 - ((beta+T)/(beta+T+t))^(s-1)] / (s-1);
        # the bracket over (s-1) is written with expm1 so that s = 1 is no special case.
        rate = (r + x) / (alpha + t_cal) * (beta + t_cal)
        out = np.empty((ts.size, x.size))
        c = s - 1
        for k, t in enumerate(ts):
            y = np.log1p(t / (beta + t_cal))
            factor = y if abs(c) < 1e-12 else -np.expm1(-c * y) / c
            out[k] = alive * rate * factor
        if not np.all(np.isfinite(out)):
            raise ValueModelError("Pareto/NBD: expected purchases are not finite")
        return out

    def expected_purchases_new(self, t: Any) -> np.ndarray:
        """Expected purchases in (0, t] of a customer just acquired (unconditional E[X(t)])."""
        t_arr = check_horizons(t)
        zeros = np.zeros(1)
        return self.expected_purchases_curve(t_arr, zeros, zeros, zeros)[:, 0]

    def prob_n_purchases(self, n: Any, t: Any, frequency: Any, recency: Any, T: Any
                         ) -> np.ndarray:
        """P(exactly n purchases in (T, T + t] | x, t_x, T): the *conditional* distribution.

        Given alive at T, lambda ~ Gamma(r+x, alpha+T) and mu ~ Gamma(s, beta+T). Either the
        customer outlives the period (probability ((beta+T)/(beta+T+t))^s, then n is NBD over
        t) or dies at tau < t (density s (beta+T)^s / (beta+T+tau)^(s+1), then n is NBD over
        tau); the integral over tau is done by 64-point Gauss-Legendre after the change of
        variable v = tau / (alpha+T+tau), which makes the integrand a polynomial in v times
        smooth factors. For a new customer (x = t_x = T = 0) this is P(X(t) = n).
        """
        x, tx, t_cal = check_rfm(frequency, recency, T)
        n_arr = check_counts(n)
        t_arr = np.asarray(t, dtype=np.float64)
        if not np.all(np.isfinite(t_arr)) or (t_arr < 0).any():
            raise ValueModelError("t must be finite and non-negative")
        n_arr, t_arr, x, tx, t_cal = np.broadcast_arrays(n_arr, t_arr, x, tx, t_cal)
        shape = x.shape
        n_arr, t_arr, x, tx, t_cal = (np.ravel(v) for v in (n_arr, t_arr, x, tx, t_cal))
        alive = self._p_alive(x, tx, t_cal)
        p = self._params()
        r, alpha, s, beta = p["r"], p["alpha"], p["s"], p["beta"]
        rp, ap, bp = r + x, alpha + t_cal, beta + t_cal
        log_coef = gammaln(rp + n_arr) - gammaln(rp) - gammaln(n_arr + 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            survive = (s * (np.log(bp) - np.log(bp + t_arr)) + log_coef
                       + rp * (np.log(ap) - np.log(ap + t_arr))
                       + xlogy(n_arr, t_arr / (ap + t_arr)))
        died = np.full(x.size, -np.inf)
        vt = t_arr / (ap + t_arr)
        pos = vt > 0
        for chunk in np.array_split(np.flatnonzero(pos), max(1, pos.sum() // 20_000)):
            if chunk.size == 0:
                continue
            half = vt[chunk, None] / 2
            v = half * (_NODES[None, :] + 1)
            nn, rr, aa, bb = (arr[chunk, None] for arr in (n_arr, rp, ap, bp))
            log_f = (xlogy(nn, v) + (rr + s - 1) * np.log1p(-v)
                     - (s + 1) * np.log(bb + (aa - bb) * v))
            log_int = logsumexp(log_f + np.log(_WEIGHTS)[None, :], axis=1) + np.log(half[:, 0])
            died[chunk] = (np.log(s) + s * np.log(bp[chunk]) + np.log(ap[chunk])
                           + log_coef[chunk] + log_int)
        q = np.exp(survive) + np.exp(died)
        out = alive * q + (1 - alive) * (n_arr == 0)
        if not np.all(np.isfinite(out)):
            raise ValueModelError("Pareto/NBD: P(n purchases) is not finite for these inputs")
        return np.clip(out, 0.0, 1.0).reshape(shape)
