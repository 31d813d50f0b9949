"""Maximum likelihood on the log scale, with the checks lifetimes leaves out.

Every model maximises a sum of per-customer log-likelihoods over positive parameters.
Optimising their logarithms keeps them positive without constraints and puts parameters
of very different sizes (alpha in days may be 1000 times r) on one footing. The objective
is the *mean* negative log-likelihood so that gradient tolerances do not depend on how
many customers there are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from kehu.value.errors import ValueModelError

# The optimiser is walled off beyond [e^-LOG_BOUND, e^LOG_BOUND] (see _guarded), where gamma
# functions and powers overflow; fits heading there are refused long before (RUNAWAY).
LOG_BOUND = 18.0
GRADIENT_TOLERANCE = 1e-5
MAX_STEP = 2.0

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


def maximise(objective: Objective, starts: Sequence[np.ndarray], names: Sequence[str],
             model: str, n_customers: float, inverse_hessian: np.ndarray | None = None,
             check: bool = True, hessian: np.ndarray | None = None
             ) -> tuple[np.ndarray, float, np.ndarray]:
    """Minimise objective(log_params) -> (mean negative log-likelihood, gradient) from the
    first start, trying the next ones only if it fails.

    Returns (log_params, mean negative log-likelihood, Hessian of it). Raises
    ValueModelError when no start converges or (with check) when the optimum does not pin
    the parameters down (see _check_identified). inverse_hessian, if known (from a fit on a
    sample), saves BFGS from learning the curvature again; hessian, if known (the same
    sample's), is used for the identification check instead of computing it again.
    """
    attempts = []
    for start in starts:
        start = np.asarray(start, dtype=np.float64)
        h0 = inverse_hessian if inverse_hessian is not None else _curvature(objective, start)
        with np.errstate(all="ignore"):
            result = bfgs(_guarded(objective), start, h0=h0)
        grad_norm = float(np.max(np.abs(result.jac), initial=0.0))
        attempts.append((result, grad_norm))
        # The line search stops making progress once the optimum is reached to machine
        # precision; a small gradient is what convergence means.
        if np.isfinite(result.fun) and grad_norm < GRADIENT_TOLERANCE:
            break
        inverse_hessian = None  # it did not help this start; the next ones start afresh
    else:
        result, grad_norm = min(attempts, key=lambda a: a[0].fun)
        far = np.abs(result.x) > RUNAWAY
        if far.any():
            raise ValueModelError(_runaway_message(model, names, result.x, far))
        raise ValueModelError(
            f"{model}: the optimiser did not converge from {len(attempts)} starting points "
            f"(best: {result.message}, largest gradient {grad_norm:.3g}). The data may not "
            f"fit the model.")
    known = hessian is not None and len(attempts) == 1  # it belongs to the first start
    hess = hessian if known else _hessian(objective, result.x, model)
    if check:
        _check_identified(hess, result.x, names, model, n_customers)
    return result.x, float(result.fun), hess


@dataclass
class Result:
    x: np.ndarray
    fun: float
    jac: np.ndarray
    message: str


def bfgs(objective: Objective, x0: np.ndarray, gtol: float = 1e-6, max_iter: int = 1000,
         h0: np.ndarray | None = None) -> Result:
    """Quasi-Newton minimisation (BFGS with a backtracking Armijo line search).

    Written out because the problems are tiny (3 or 4 parameters, smooth, gradient known)
    and scipy.optimize costs more to import (it pulls in scipy.sparse, linalg and spatial,
    ~250 modules) than a fit of 100k customers takes: `kehu value` is a command-line tool,
    where start-up time is part of the user's wait. h0: a starting inverse Hessian.
    """
    x = np.array(x0, dtype=np.float64)
    n = x.size
    fx, g = objective(x)
    # First steps of at most ~1 in log-parameter space (a factor e), then BFGS learns scale.
    h = np.eye(n) / max(1.0, float(np.max(np.abs(g)))) if h0 is None else np.array(h0)
    stalled = 0
    for _ in range(max_iter):
        if float(np.max(np.abs(g))) < gtol:
            return Result(x, fx, g, "converged")
        direction = -h @ g
        if not float(g @ direction) < 0:  # lost the descent direction: restart
            h = np.eye(n) / max(1.0, float(np.max(np.abs(g))))
            direction = -h @ g
        # At most a factor e^2 per parameter per step: a wild step into a region where the
        # likelihood is extreme costs far more to evaluate than a few more iterations.
        direction *= min(1.0, MAX_STEP / float(np.max(np.abs(direction))))
        slope = float(g @ direction)
        step = 1.0
        while True:
            x_new = x + step * direction
            f_new, g_new = objective(x_new)
            if np.isfinite(f_new) and f_new <= fx + 1e-4 * step * slope:
                break
            step *= 0.5
            # Backtracking this far from a Newton-like direction means the change in the
            # objective is below its rounding noise: the optimum, as exact as it can be.
            if step < 1e-4:
                return Result(x, fx, g, "no further decrease (precision limit)")
        s, y = x_new - x, g_new - g
        if fx - f_new <= 1e-15 * max(abs(fx), 1.0):
            stalled += 1
            if stalled == 2:  # no real decrease twice: at the optimum, to precision
                return Result(x_new, f_new, g_new, "no further decrease (precision limit)")
        else:
            stalled = 0
        sy = float(s @ y)
        if sy > 1e-12 * float(np.linalg.norm(s) * np.linalg.norm(y)):
            rho = 1.0 / sy
            left = np.eye(n) - rho * np.outer(s, y)
            h = left @ h @ left.T + rho * np.outer(s, s)
        x, fx, g = x_new, f_new, g_new
    return Result(x, fx, g, f"no convergence in {max_iter} iterations")


def _curvature(objective: Objective, start: np.ndarray) -> np.ndarray | None:
    """The inverse Hessian at the start, if it is positive definite there: BFGS then steps
    like Newton from the first iteration (Gamma-Gamma's p and v are so correlated that BFGS
    from the identity needs ~200 steps; from here, ~15)."""
    try:
        hess = _hessian(objective, start, "")
    except ValueModelError:
        return None
    values, vectors = np.linalg.eigh(hess)
    if not np.all(values > 1e-12 * max(values.max(), 1e-300)):
        return None
    return (vectors / values) @ vectors.T


def _hessian(objective: Objective, theta: np.ndarray, model: str) -> np.ndarray:
    """Finite-difference Hessian of the analytic gradient (forward differences: k + 1
    gradients; the uses below need no more than a few digits)."""
    k = theta.size
    h = 1e-5
    hess = np.empty((k, k))
    with np.errstate(all="ignore"):
        grad = objective(theta)[1]
        for i in range(k):
            step = np.zeros(k)
            step[i] = h
            hess[i] = (objective(theta + step)[1] - grad) / h
    hess = (hess + hess.T) / 2
    if not np.all(np.isfinite(hess)):
        raise ValueModelError(f"{model}: the likelihood is not finite around the optimum")
    return hess


# A log-parameter beyond this (a parameter above 1e5 or below 1e-5 in the units of the data)
# is one the optimiser is chasing to 0 or infinity.
RUNAWAY = 11.5
# A fit is refused when some combination of log-parameters has a standard error above this:
# the data then say nothing about it (e^5 ~ 150-fold either way).
MAX_LOG_SE = 5.0


def runaway_message(model: str, names: Sequence[str], theta: np.ndarray) -> str | None:
    """The refusal for a fit whose parameters ran towards 0 or infinity, or None."""
    far = np.abs(theta) > RUNAWAY
    return _runaway_message(model, names, theta, far) if far.any() else None


def _runaway_message(model: str, names: Sequence[str], theta: np.ndarray,
                     far: np.ndarray) -> str:
    which = ", ".join(f"{names[i]} = {np.exp(theta[i]):.3g} (heading to "
                      f"{'0' if theta[i] < 0 else 'infinity'})" for i in np.flatnonzero(far))
    return (f"{model}: the data cannot identify the model: {which}. Typical causes: no "
            f"spread between customers, nobody dropping out, or too short a history.")


def _check_identified(hess: np.ndarray, theta: np.ndarray, names: Sequence[str],
                      model: str, n_customers: float) -> None:
    """Refuse an optimum along which the likelihood is (nearly) flat.

    The curvature of the mean negative log-likelihood (hess) gives the standard errors of
    the log-parameters. An optimum at infinity shows up as a direction of almost zero
    curvature: those parameters are not determined by the data, and predictions would rest
    on an arbitrary stopping point.
    """
    values, vectors = np.linalg.eigh(hess * n_customers)
    worst = int(np.argmin(values))
    se = np.inf if values[worst] <= 0 else 1 / np.sqrt(values[worst])
    far = np.abs(theta) > RUNAWAY
    if se > MAX_LOG_SE:
        if far.any():
            raise ValueModelError(_runaway_message(model, names, theta, far))
        direction = vectors[:, worst]
        main = np.flatnonzero(np.abs(direction) >= 0.3 * np.abs(direction).max())
        which = ", ".join(f"{names[i]} = {np.exp(theta[i]):.3g}" for i in main)
        raise ValueModelError(
            f"{model}: the data cannot identify the model: the likelihood is flat in "
            f"{which} (standard error of their logarithm {se:.3g}); more customers or a "
            f"longer history are needed.")


def _guarded(objective: Objective) -> Objective:
    """The objective, made finite everywhere: beyond LOG_BOUND (where gamma functions and
    powers overflow) and wherever it is not finite, a steep wall that points back inside.
    The optimiser then never sees NaN; a fit that ends on the wall is reported as not
    identified."""

    def wrapped(theta: np.ndarray) -> tuple[float, np.ndarray]:
        outside = np.abs(theta) > LOG_BOUND
        inner = np.clip(theta, -LOG_BOUND, LOG_BOUND)
        value, grad = objective(inner)
        if not (np.isfinite(value) and np.all(np.isfinite(grad))):
            return 1e10 + float(np.sum(inner**2)), 2 * inner
        excess = theta - inner
        if outside.any():
            value = value + 1e3 * float(np.sum(excess * excess))
            grad = np.where(outside, 2e3 * excess, grad)
        return value, grad

    return wrapped


def check_positive_params(params: dict[str, float], names: Sequence[str], model: str) -> None:
    missing = [n for n in names if n not in params]
    if missing:
        raise ValueModelError(f"{model}: parameters {', '.join(missing)} are missing")
    for n in names:
        v = params[n]
        if not (isinstance(v, int | float | np.floating) and np.isfinite(v) and v > 0):
            raise ValueModelError(f"{model}: parameter {n} must be a positive number, got {v!r}")
