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

import functools
from typing import Any

import numpy as np
from scipy.special import digamma, expit, gammaln, logsumexp, roots_legendre, xlogy

from kehu.value._arrays import Triples, check_rfm, dot
from kehu.value._base import TransactionModel, check_counts, check_horizons
from kehu.value.errors import ValueModelError

# Terms per customer at most in the series for I; reached only when alpha and beta differ
# by a factor of several hundred, far from any fitted optimum (see _log_integral).
MAX_TERMS = 20_000
# Terms evaluated per block: small enough for the temporaries to stay in the CPU cache.
BLOCK_TERMS = 8_192


@functools.cache
def _legendre() -> tuple[np.ndarray, np.ndarray]:
    """64-point Gauss-Legendre nodes and log weights (computed on first use, not import)."""
    nodes, weights = roots_legendre(64)
    return nodes, np.log(weights)


class TooCostly(Exception):
    """The series would need far more terms than at any plausible optimum."""


def _log_integral(r: float, alpha: float, s: float, beta: float, x: np.ndarray,
                  tx: np.ndarray, T: np.ndarray, gradient: bool = True,
                  budget: int | None = None) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """log I and d log I / d(r, alpha, s, beta) (shape (4, n)) for each customer.

    Let m = max(alpha, beta) and u = log(m + tau) - log(m + t_x). Then
        I = (m + t_x)^-A  integral_0^D exp(-A u) (1 - z exp(-u))^-q du
    with A = r + s + x, D = log((m + T) / (m + t_x)), z = |alpha - beta| / (m + t_x) in
    [0, 1), and q = s + 1 when alpha >= beta, q = r + x otherwise. Expanding the binomial,
        I = (m + t_x)^-A  sum_k (q)_k / k! z^k g(A + k),  g(c) = (1 - exp(-c D)) / c,
    a series of positive terms: it is summed in log space over a window around where
    its terms are largest (the terms follow a negative binomial in k, times g). Returns
    also whether any series had to be cut at MAX_TERMS (the answer is then a lower bound).
    Raises TooCostly when the windows would hold more than budget terms in all.
    """
    n = x.size
    log_i = np.full(n, -np.inf)
    grad = np.zeros((4, n)) if gradient else None
    a_ge_b = alpha >= beta
    base = alpha if a_ge_b else beta
    other = beta if a_ge_b else alpha
    D = np.log1p((T - tx) / (base + tx))
    live = D > 0  # I = 0 when the last purchase is at T
    if not live.any():
        return log_i, grad, False
    x, tx, T, D = x[live], tx[live], T[live], D[live]
    A = r + s + x
    q = np.full(x.shape, s + 1.0) if a_ge_b else r + x
    log0 = np.log(base + tx)
    z = (base - other) / (base + tx)

    # Window of k per customer. The terms follow a negative binomial (q, z) in k (times g,
    # which only shrinks them): a bell of width sd around the mean when q z is large, and a
    # geometric decay by z per step when it is small; the window covers both to ~1e-16.
    with np.errstate(divide="ignore"):
        mean = q * z / (1 - z)
        sd = np.sqrt(q * z) / (1 - z)
        geometric = np.where(z > 0, 37.0 / -np.log(np.maximum(z, 1e-300)), 0.0)
    lo = np.floor(np.maximum(mean - 9 * sd, 0)).astype(np.int64)
    hi = np.ceil(mean + np.maximum(9 * sd, 3 * sd + geometric) + 3).astype(np.int64)
    hi = np.where(z > 0, hi, 0)  # z = 0 (alpha = beta): only the k = 0 term
    lo = np.where(z > 0, lo, 0)
    # When the window lies inside k > 0 its terms form a smooth bell of width sd, and the
    # sum over every stride-th k times stride equals the full sum up to an error that falls
    # like exp(-2 pi^2 (sd / stride)^2), i.e. nothing for stride = sd / 4. This keeps heavy
    # buyers with alpha << beta (q = r + x large) at ~100 terms instead of thousands.
    stride = np.where(lo > 0, np.maximum(np.floor(sd / 4), 1), 1).astype(np.int64)
    length = (hi - lo) // stride + 1
    truncated = bool((length > MAX_TERMS).any())
    length = np.minimum(length, MAX_TERMS)
    if budget is not None and length.sum() > budget:
        raise TooCostly
    out_log = np.empty(x.size)
    out_grad = np.empty((4, x.size)) if gradient else None
    # Blocks of customers with similar window lengths (sorted), each padded to a matrix of
    # at most about BLOCK_TERMS terms.
    order = np.argsort(length, kind="stable")
    sorted_len = length[order]
    start = 0
    while start < x.size:
        rows_fit = max(1, BLOCK_TERMS // int(sorted_len[min(start + 1, x.size) - 1]))
        stop = min(x.size, start + rows_fit)
        # Grow while the longest window of the block still fits.
        while stop < x.size and sorted_len[stop] * (stop + 1 - start) <= BLOCK_TERMS:
            stop += 1
        sl = order[start:stop]
        lg, gr = _series(A[sl], q[sl], z[sl], D[sl], lo[sl], stride[sl], length[sl],
                         gradient)
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
            stride: np.ndarray, length: np.ndarray, gradient: bool):
    """log sum_k (q)_k/k! z^k g(A+k) over each customer's window (k = lo, lo + stride,
    ..., each term standing for stride terms), and the derivatives of that log with
    respect to A, q, z and D. One row per customer, padded to the longest window."""
    width = int(length.max())
    j = np.arange(width, dtype=np.float64)[None, :]
    valid = j < length[:, None]
    k = lo[:, None] + j * stride[:, None]
    qc = q[:, None]
    # log (q)_k / k! and psi(q+k) - psi(q): one gamma function per customer, then running
    # sums of log((q+k-1)/k) and 1/(q+k-1) along the row (about 20 times cheaper than a
    # gamma function per term). Strided rows (a few heavy buyers) take gamma functions.
    later = (j > 0) & valid  # k = lo has no step before it
    step = np.log(np.where(later, (qc + k - 1) / np.maximum(k, 1), 1.0))
    binom = (gammaln(q + lo) - gammaln(q) - gammaln(lo + 1.0))[:, None] + np.cumsum(step, axis=1)
    strided = stride > 1
    if strided.any():
        ks, qs = k[strided], qc[strided]
        binom[strided] = gammaln(qs + ks) - gammaln(qs) - gammaln(ks + 1)
    c = A[:, None] + k
    cd = c * D[:, None]
    one_minus = -np.expm1(-cd)  # 1 - exp(-c D), accurate for small c D
    with np.errstate(divide="ignore"):
        log_z = np.where(z > 0, np.log(z), 0.0)[:, None]  # z = 0: only k = 0 has weight
    log_t = np.where(valid, binom + k * log_z + np.log(one_minus) - np.log(c), -np.inf)
    peak = log_t.max(axis=1)
    e = np.exp(log_t - peak[:, None])
    total = e.sum(axis=1)
    log_sum = peak + np.log(total) + np.log(stride)
    if not gradient:
        return log_sum, None
    w = e / total[:, None]
    ratio = (1 - one_minus) / one_minus  # exp(-c D) / (1 - exp(-c D)) = 1 / expm1(c D)
    s_a = (w * (D[:, None] * ratio - 1 / c)).sum(axis=1)
    s_d = (w * (c * ratio)).sum(axis=1)
    dig_step = np.where(later, 1 / np.where(later, qc + k - 1, 1.0), 0.0)
    dig = (digamma(q + lo) - digamma(q))[:, None] + np.cumsum(dig_step, axis=1)
    if strided.any():
        dig[strided] = digamma(qc[strided] + k[strided]) - digamma(qc[strided])
    s_q = (w * dig).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        s_z = (w * k).sum(axis=1) / z
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
        try:
            # While fitting, parameters where the series gets very long (alpha and beta
            # hundreds of times apart) are far from any optimum: call them impossible rather
            # than spend seconds on them; the optimiser then steps back.
            log_i, grad_i, _ = _log_integral(r, alpha, s, beta, x, tx, T, gradient,
                                             budget=400 * x.size + 200_000)
        except TooCostly:
            return -np.inf, np.zeros(4)
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
        tau); the integral over tau is done by 64-point Gauss-Legendre in log(c + tau),
        c = min(alpha+T, beta+T), where the integrand is smooth. For a new customer
        (x = t_x = T = 0) this is P(X(t) = n).
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
        # The death time tau runs over [0, t]; in y = log(c + tau), c = min(alpha', beta'),
        # both (alpha'+tau) and (beta'+tau) are smooth however small their constants and
        # however long t is, so 64 Gauss-Legendre points suffice.
        c = np.minimum(ap, bp)
        y_end = np.log1p(t_arr / c)  # y - log c runs over [0, y_end]
        pos = y_end > 0
        nodes, log_weights = _legendre()
        for chunk in np.array_split(np.flatnonzero(pos), max(1, pos.sum() // 20_000)):
            if chunk.size == 0:
                continue
            half = y_end[chunk, None] / 2
            u = half * (nodes[None, :] + 1)
            nn, rr, aa, bb, cc = (arr[chunk, None] for arr in (n_arr, rp, ap, bp, c))
            tau = cc * np.expm1(u)
            log_f = (xlogy(nn, tau) - (rr + nn) * np.log(aa + tau)
                     - (s + 1) * np.log(bb + tau) + np.log(cc + tau))
            log_int = logsumexp(log_f + log_weights[None, :], axis=1) + np.log(half[:, 0])
            died[chunk] = (np.log(s) + s * np.log(bp[chunk]) + rp[chunk] * np.log(ap[chunk])
                           + log_coef[chunk] + log_int)
        q = np.exp(survive) + np.exp(died)
        out = alive * q + (1 - alive) * (n_arr == 0)
        if not np.all(np.isfinite(out)):
            raise ValueModelError("Pareto/NBD: P(n purchases) is not finite for these inputs")
        return np.clip(out, 0.0, 1.0).reshape(shape)
