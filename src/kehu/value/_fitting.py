"""Maximum likelihood on the log scale, with the checks lifetimes leaves out.

Every model maximises a sum of per-customer log-likelihoods over positive parameters.
Optimising their logarithms keeps them positive without constraints and puts parameters
of very different sizes (alpha in days may be 1000 times r) on one footing. The objective
is the *mean* negative log-likelihood so that gradient tolerances do not depend on how
many customers there are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.optimize import minimize

from kehu.value.errors import ValueModelError

# A fit whose parameter ends outside [e^-LOG_BOUND, e^LOG_BOUND] (or is walled off there, see
# _guarded) is one where the data push a parameter to 0 or infinity: not identified.
LOG_BOUND = 18.0
GRADIENT_TOLERANCE = 1e-5

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


def maximise(objective: Objective, starts: Sequence[np.ndarray], names: Sequence[str],
             model: str) -> tuple[np.ndarray, float]:
    """Minimise objective(log_params) -> (mean negative log-likelihood, gradient) from the
    first start, trying the next ones only if it fails; (log_params, mean negative
    log-likelihood)."""
    best = None
    failures = []
    for start in starts:
        with np.errstate(all="ignore"):
            # BFGS rather than L-BFGS-B: with 3 or 4 parameters scipy's L-BFGS-B spends ~5 ms
            # per iteration in overhead, more than the likelihood of 100k customers costs.
            result = minimize(_guarded(objective), np.asarray(start, dtype=np.float64),
                              jac=True, method="BFGS", options={"maxiter": 2000, "gtol": 1e-9})
        grad = np.asarray(result.jac, dtype=np.float64)
        grad_norm = float(np.max(np.abs(grad), initial=0.0))
        # BFGS often stops on "precision loss" once it is at the optimum to machine
        # precision; a small gradient is what convergence means.
        if np.isfinite(result.fun) and np.all(np.isfinite(result.x)) and (
                grad_norm < GRADIENT_TOLERANCE):
            best = result
            break
        else:
            failures.append(f"{result.message} (largest gradient {grad_norm:.3g})")
    if best is None:
        raise ValueModelError(
            f"{model}: the optimiser did not converge from any starting point: "
            f"{'; '.join(failures)}. The data may not fit the model.")
    at_edge = np.abs(best.x) >= LOG_BOUND
    if at_edge.any():
        i = int(np.flatnonzero(at_edge)[0])
        value = float(np.exp(best.x[i]))
        raise ValueModelError(
            f"{model}: the data cannot identify the model: parameter {names[i]} ran to "
            f"{value:.3g}, the edge of the search range (a rate or dispersion of 0 or "
            f"infinity). Too few customers, too short a history, or nobody dropping out "
            f"or repeating can cause this.")
    return best.x, float(best.fun)


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
