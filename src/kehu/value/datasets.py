"""Simulated customers and transaction logs from known parameters.

For tests (fit the simulated data and get the parameters back) and benchmarks (millions
of transactions in seconds). Time is continuous, in the unit the parameters are given in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kehu.value.errors import ValueModelError
from kehu.value.rfm import to_day, unit_days

MODELS = ("bgnbd", "mbgnbd", "pareto_nbd")


@dataclass(frozen=True)
class SimulatedRFM:
    frequency: np.ndarray
    recency: np.ndarray
    T: np.ndarray


@dataclass(frozen=True)
class TransactionLog:
    """One row per purchase, sorted by date: integer customer ids, dates, amounts."""

    customer_id: np.ndarray
    date: np.ndarray  # datetime64[D]
    amount: np.ndarray

    def __len__(self) -> int:
        return int(self.customer_id.size)


def _purchase_times(model: str, params: dict[str, float], T: np.ndarray,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(customer index, time) of every repeat purchase in (0, T_i] for each customer."""
    n = T.size
    if model in ("bgnbd", "mbgnbd"):
        lam = rng.gamma(params["r"], 1 / params["alpha"], n)
        p = rng.beta(params["a"], params["b"], n)
        who, when = [], []
        t = np.zeros(n)
        active = np.arange(n)
        if model == "mbgnbd":  # MBG/NBD: a first chance to drop out right after the first purchase
            active = active[rng.random(n) >= p]
        # One round per purchase: every active customer waits an exponential time; those
        # still inside their window buy, then drop out with probability p.
        while active.size:
            t_next = t[active] + rng.exponential(1.0, active.size) / lam[active]
            bought = t_next <= T[active]
            buyers = active[bought]
            t[buyers] = t_next[bought]
            who.append(buyers)
            when.append(t_next[bought])
            active = buyers[rng.random(buyers.size) >= p[buyers]]
        return np.concatenate(who), np.concatenate(when)
    if model == "pareto_nbd":
        lam = rng.gamma(params["r"], 1 / params["alpha"], n)
        mu = rng.gamma(params["s"], 1 / params["beta"], n)
        horizon = np.minimum(rng.exponential(1.0, n) / mu, T)
        count = rng.poisson(lam * horizon)
        who = np.repeat(np.arange(n), count)
        return who, rng.random(who.size) * horizon[who]
    raise ValueModelError(f"model must be one of {MODELS}, got {model!r}")


def _check_params(model: str, params: dict[str, float]) -> None:
    names = {"bgnbd": ("r", "alpha", "a", "b"), "mbgnbd": ("r", "alpha", "a", "b"),
             "pareto_nbd": ("r", "alpha", "s", "beta")}
    if model not in names:
        raise ValueModelError(f"model must be one of {MODELS}, got {model!r}")
    for name in names[model]:
        if not params.get(name, 0) > 0:
            raise ValueModelError(f"{model}: parameter {name} must be positive")


def simulate_rfm(model: str, params: dict[str, float], n_customers: int, T: Any,
                 seed: int | None = None) -> SimulatedRFM:
    """Frequency, recency and T of n customers drawn from a BG/NBD, MBG/NBD or Pareto/NBD
    model.

    T: the observation length of each customer (a number or an array of n_customers).
    """
    _check_params(model, params)
    rng = np.random.default_rng(seed)
    T_arr = np.broadcast_to(np.asarray(T, dtype=np.float64), (n_customers,)).copy()
    who, when = _purchase_times(model, params, T_arr, rng)
    frequency = np.bincount(who, minlength=n_customers).astype(np.float64)
    recency = np.zeros(n_customers)
    np.maximum.at(recency, who, when)
    return SimulatedRFM(frequency, recency, T_arr)


def simulate_transactions(n_customers: int, *, model: str = "bgnbd",
                          params: dict[str, float] | None = None,
                          spend: dict[str, float] | None = None, start: Any = "2020-01-01",
                          acquisition_days: int = 365, as_of: Any = "2021-12-31",
                          time_unit: str = "W", seed: int | None = None) -> TransactionLog:
    """A transaction log: customers 1..n make their first purchase on a day spread evenly
    over acquisition_days from start, then buy as the model says until as_of; each purchase
    amount is Gamma-Gamma distributed (spend = {"p", "q", "v"}), rounded to cents.

    The default parameters (weekly rates) give about 17 purchases per customer over the
    default two years, like the benchmark's 100k customers / 1.7M rows.
    """
    params = params or {"r": 2.0, "alpha": 5.3, "a": 0.8, "b": 12.0}
    spend = spend or {"p": 6.25, "q": 3.74, "v": 15.44}
    _check_params(model, params)
    rng = np.random.default_rng(seed)
    first = to_day(start, "start")
    end = to_day(as_of, "as_of")
    if end - first < acquisition_days:
        raise ValueModelError("as_of must be at least acquisition_days after start")
    birth = first + rng.integers(0, acquisition_days, n_customers)
    unit = unit_days(time_unit)
    T = (end - birth) / unit
    who, when = _purchase_times(model, params, T, rng)
    # The first purchase is at time 0 for everyone, then the repeat purchases.
    who = np.concatenate([np.arange(n_customers), who])
    days = birth[who] + np.floor(np.concatenate([np.zeros(n_customers), when]) * unit
                                 ).astype(np.int64)
    days = np.minimum(days, end)
    nu = rng.gamma(spend["q"], 1 / spend["v"], n_customers)
    amount = np.maximum(np.round(rng.gamma(spend["p"], 1.0, who.size) / nu[who], 2), 0.01)
    order = np.argsort(days, kind="stable")
    return TransactionLog(customer_id=(who[order] + 1).astype(np.int64),
                          date=days[order].astype("datetime64[D]"), amount=amount[order])
