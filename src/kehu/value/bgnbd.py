"""BG/NBD: Fader, Hardie & Lee (2005), "Counting your customers" the easy way.

While alive a customer buys at rate lambda (Poisson); after each purchase they drop out
with probability p. Across customers lambda ~ Gamma(r, alpha) and p ~ Beta(a, b).

Numerics: the likelihood is written as log-sum-exp of its two terms, so (alpha + T)^(r+x)
never overflows (lifetimes' "#NUM!"); the conditional expectation uses Euler's transform
of its hypergeometric function, 2F1(r+x, b+x; a+b+x-1; z) (1-z)^(r+x) =
(1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z), whose parameters no longer grow with x, so a
customer with thousands of purchases gets a finite answer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import betainc, betaln, digamma, expit, gammaln, hyp2f1, xlogy

from kehu.value._arrays import Triples, check_rfm, dot, factorize
from kehu.value._base import TransactionModel, check_counts, check_horizons
from kehu.value._threads import map_slices
from kehu.value.errors import ValueModelError


def _hyp2f1(a: float, b: float, c: np.ndarray, z: np.ndarray) -> np.ndarray:
    """2F1(a, b; c; z), taking Gauss's series where scipy gives up: close to z = 1 with a
    large c (many purchases over a short time) scipy returns inf although the series
    converges there (c - a - b > 0) and its terms fall fast."""
    f = np.asarray(hyp2f1(a, b, c, z), dtype=float)
    bad = ~np.isfinite(f)
    if not bad.any():
        return f
    f = f.copy()
    cb = np.broadcast_to(c, f.shape)[bad]
    zb = np.broadcast_to(z, f.shape)[bad]
    term, total = np.ones_like(cb), np.ones_like(cb)
    # Where the series diverges too (c - a - b <= 0 at z = 1) it overflows to inf, as the
    # function does, and the caller says so.
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(100_000):
            term = term * ((a + k) * (b + k) / ((cb + k) * (k + 1)) * zb)
            total += term
            if np.all((np.abs(term) <= 1e-17 * np.abs(total)) | ~np.isfinite(total)):
                break
    f[bad] = total
    return f

class BetaGeoModel(TransactionModel):
    """BG/NBD transaction model; params_ = {"r", "alpha", "a", "b"}."""

    model_name = "bgnbd"
    label = "BG/NBD"
    param_names = ("r", "alpha", "a", "b")
    # Coin flips a living customer with x repeat purchases has survived: x in BG/NBD, x + 1
    # in MBG/NBD (which also flips right after the first purchase). Given alive, the
    # dropout probability is then Beta(a, b + x + _flips_extra) in both.
    _flips_extra = 0

    def _starts(self, data: Triples) -> list[np.ndarray]:
        w = data.weight / data.weight.sum()
        mean_x, mean_T = dot(w, data.x), dot(w, data.T)
        # A purchase rate near the observed one, then the usual unit start.
        alpha0 = max(mean_T, 1e-3) / max(mean_x, 0.1)
        return [np.log([1.0, alpha0, 1.0, 1.0]), np.zeros(4), np.log([0.1, 1.0, 0.1, 0.1])]

    def _loglik(self, theta: np.ndarray, data: Triples, gradient: bool = True
                ) -> tuple[float, np.ndarray]:
        r, alpha, a, b = np.exp(theta)
        ux, ix, iT, itx = data.ux, data.ix, data.iT, data.itx
        s = self._flips_extra
        # Dropped out right after the last purchase: possible once a flip has been made
        # (after a repeat purchase; in MBG/NBD also after the first).
        can_drop = (ux > 0) | (s > 0)
        # Terms of the distinct x values, T values and t_x values, then per triple.
        lbab = betaln(a, b)
        log_gamma = gammaln(r + ux) - gammaln(r)
        log_beta_a = betaln(a, b + ux + s) - lbab  # alive at T: survived every flip
        log_beta_b = np.full(ux.shape, -np.inf)
        log_beta_b[can_drop] = betaln(a + 1, b + ux[can_drop] - 1 + s) - lbab
        log_aT = np.log(alpha + data.uT)
        log_atx = np.log(alpha + data.utx)
        if gradient:
            psi_ab, psi_abx = digamma(a + b), digamma(a + b + ux + s)
            da_a = psi_ab - psi_abx
            db_a = digamma(b + ux + s) - psi_abx - digamma(b) + psi_ab
            da_b = digamma(a + 1) - psi_abx - digamma(a) + psi_ab
            db_b = np.zeros(ux.shape)
            db_b[can_drop] = (digamma(b + ux[can_drop] - 1 + s) - psi_abx[can_drop]
                              - digamma(b) + psi_ab)
            d_gamma = digamma(r + ux) - digamma(r)
            alpha_T, alpha_tx = alpha + data.uT, alpha + data.utx
        # The terms of each triple, slices of them on the machine's cores at once (numpy
        # releases the GIL); the sums over triples are taken afterwards over whole arrays,
        # so that they are the same to the last bit as on one thread.
        terms = np.empty(len(data))
        grads = np.empty((4, len(data))) if gradient else None

        def fill(sl: slice) -> None:
            ixs, iTs, itxs = ix[sl], iT[sl], itx[sl]
            rx = r + data.x[sl]
            term_a = log_beta_a[ixs] - rx * log_aT[iTs]
            term_b = log_beta_b[ixs] - rx * log_atx[itxs]
            log_sum = np.logaddexp(term_a, term_b)
            terms[sl] = log_gamma[ixs] + log_sum
            if grads is None:
                return
            w_a = np.exp(term_a - log_sum)
            w_b = np.exp(term_b - log_sum)
            grads[0, sl] = d_gamma[ixs] + np.log(alpha) - w_a * log_aT[iTs] - w_b * log_atx[itxs]
            grads[1, sl] = r / alpha - rx * (w_a / alpha_T[iTs] + w_b / alpha_tx[itxs])
            grads[2, sl] = w_a * da_a[ixs] + w_b * da_b[ixs]
            grads[3, sl] = w_a * db_a[ixs] + w_b * db_b[ixs]

        map_slices(fill, len(data))
        wt = data.weight
        ll = dot(wt, terms) + float(wt.sum() * r * np.log(alpha))
        if grads is None:
            return ll, np.zeros(4)
        grad = np.array([dot(wt, grads[0]) * r, dot(wt, grads[1]) * alpha,
                         dot(wt, grads[2]) * a, dot(wt, grads[3]) * b])
        return ll, grad

    # -- predictions -------------------------------------------------------------------------
    def p_alive(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        """P(alive at T | x, t_x, T). In BG/NBD it is 1 for customers without a repeat
        purchase (a customer drops out only right after a repeat purchase); in MBG/NBD it
        falls for them too."""
        x, tx, t_cal = check_rfm(frequency, recency, T)
        return self._p_alive(x, tx, t_cal)

    def _p_alive(self, x: np.ndarray, tx: np.ndarray, t_cal: np.ndarray) -> np.ndarray:
        p = self._params()
        r, alpha, a, b = p["r"], p["alpha"], p["a"], p["b"]
        s = self._flips_extra
        can_drop = (x > 0) | (s > 0)  # nobody can have dropped out before a flip
        out = np.ones(x.shape)
        xd = x[can_drop]
        log_odds = (np.log(a) - np.log(b + xd - 1 + s)
                    + (r + xd) * np.log1p((t_cal[can_drop] - tx[can_drop])
                                          / (alpha + tx[can_drop])))
        out[can_drop] = expit(-log_odds)
        return out

    def expected_purchases_curve(self, ts: Any, frequency: Any, recency: Any, T: Any
                                 ) -> np.ndarray:
        ts = check_horizons(ts)
        x, tx, t_cal = check_rfm(frequency, recency, T)
        alive = self._p_alive(x, tx, t_cal)
        p = self._params()
        r, alpha, a, b = p["r"], p["alpha"], p["a"], p["b"]
        if abs(a - 1) < 1e-9:  # removable singularity of the closed form at a = 1
            a = 1 + 1e-9
        # The hypergeometric part depends on (x, T) only: evaluate it per distinct pair.
        ux, ix = factorize(x)
        uT, iT = factorize(t_cal)
        pairs, inverse = factorize(ix.astype(np.int64) * uT.size + iT)
        px, pT = ux[pairs // uT.size], uT[pairs % uT.size]
        out = np.empty((ts.size, x.size))
        c = a + b + px - 1 + self._flips_extra  # 2F1(r+x, b+x+extra; c; z), Euler-transformed
        for k, t in enumerate(ts):
            z = t / (alpha + pT + t)
            f = _hyp2f1(a + b - 1 + self._flips_extra - r, a - 1, c, z)
            with np.errstate(invalid="ignore", divide="ignore"):
                bracket = np.where(f > 0, -np.expm1((a - 1) * np.log1p(-z) + np.log(f)),
                                   1 - np.exp((a - 1) * np.log1p(-z)) * f)
            g = c / (a - 1) * bracket
            out[k] = alive * g[inverse]
        if not np.all(np.isfinite(out)):
            raise ValueModelError(f"{self.label}: expected purchases are not finite for these "
                                  f"inputs (params {self.params_})")
        return np.maximum(out, 0.0)

    def expected_purchases_new(self, t: Any) -> np.ndarray:
        """Expected purchases in (0, t] of a customer just acquired (unconditional E[X(t)])."""
        t_arr = check_horizons(t)
        zeros = np.zeros(1)
        return self.expected_purchases_curve(t_arr, zeros, zeros, zeros)[:, 0]

    def prob_n_purchases(self, n: Any, t: Any, frequency: Any, recency: Any, T: Any
                         ) -> np.ndarray:
        """P(exactly n purchases in (T, T + t] | x, t_x, T): the *conditional* distribution.

        Given alive at T, lambda ~ Gamma(r+x, alpha+T) and p ~ Beta(a, b+x) (b+x+1 in
        MBG/NBD) independently,
        and P(X = n | lambda, p) = (1-p)^(n-1) [p P(N >= n) + (1-p) P(N = n)] for n >= 1,
        P(X = 0) = P(N = 0), with N ~ Poisson(lambda t). For a new customer (x = t_x = T
        = 0) this is the unconditional P(X(t) = n) of Fader, Hardie & Lee (2005), eq. 8.
        """
        x, tx, t_cal = check_rfm(frequency, recency, T)
        n_arr = check_counts(n)
        t_arr = check_horizons(t) if np.ndim(t) else np.asarray(float(t))
        if (np.asarray(t_arr) < 0).any():
            raise ValueModelError("t must be non-negative")
        n_arr, t_arr, x, tx, t_cal = np.broadcast_arrays(n_arr, t_arr, x, tx, t_cal)
        alive = self._p_alive(x, tx, t_cal)
        p = self._params()
        r, alpha, a, b = p["r"], p["alpha"], p["a"], p["b"]
        rp, ap = r + x, alpha + t_cal
        bx = b + x + self._flips_extra
        q_dead = t_arr / (ap + t_arr)  # P(a Gamma-Poisson arrival happens "per trial")
        with np.errstate(divide="ignore", invalid="ignore"):
            log_nbd = (gammaln(rp + n_arr) - gammaln(rp) - gammaln(n_arr + 1)
                       + rp * (np.log(ap) - np.log(ap + t_arr)) + xlogy(n_arr, q_dead))
            log_stay = betaln(a, bx + n_arr) - betaln(a, bx)
            pos = n_arr >= 1
            log_drop = np.where(pos, betaln(a + 1, bx + n_arr - 1) - betaln(a, bx), -np.inf)
            tail = np.where(pos, betainc(np.maximum(n_arr, 1), rp, q_dead), 0.0)
            q = np.exp(log_stay + log_nbd) + np.where(pos, np.exp(log_drop) * tail, 0.0)
        out = alive * q + (1 - alive) * (n_arr == 0)
        if not np.all(np.isfinite(out)):
            raise ValueModelError(f"{self.label}: P(n purchases) is not finite for these inputs")
        return np.clip(out, 0.0, 1.0)


class ModifiedBetaGeoModel(BetaGeoModel):
    """MBG/NBD: Batislam, Denizel & Filiztekin (2007). As BG/NBD, but a customer may also
    drop out right after the first purchase, so P(alive) falls for one-time buyers who stay
    away (in BG/NBD it is 1 for them). params_ = {"r", "alpha", "a", "b"}.

    L = B(a, b+x+1)/B(a, b) Γ(r+x) α^r / Γ(r) [(α+T)^-(r+x) + a/(b+x) (α+t_x)^-(r+x)].
    """

    model_name = "mbgnbd"
    label = "MBG/NBD"
    _flips_extra = 1  # the likelihood and every prediction of BG/NBD follow from it
