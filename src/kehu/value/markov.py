"""Markov migration of customers between lifecycle states (seed 001: statistical models of
customer behaviour): a monthly transition matrix estimated from observed state sequences,
its n-step forecast of the customer base, and of customer equity.

Pure numpy: states are integer codes 0..k-1, and -1 marks a month in which a customer was
not yet (or no longer) in the base, so that month's transitions are not counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

ABSENT = -1


@dataclass(frozen=True)
class MarkovChain:
    states: tuple[str, ...]
    counts: np.ndarray  # counts[i, j]: observed moves from state i to state j in one month
    matrix: np.ndarray  # row-stochastic estimate of P(next month = j | this month = i)
    observed: np.ndarray  # whether row i rests on observations (else the state is kept)

    @classmethod
    def estimate(cls, sequences: np.ndarray, states: Sequence[str]) -> MarkovChain:
        """From `sequences[customer, month]` state codes (ABSENT where not in the base).

        A state never left in the data (no observed move out of it) keeps its customers:
        a row of the identity, flagged as unobserved, rather than a guess.
        """
        seq = np.asarray(sequences, dtype=np.int64)
        if seq.ndim != 2:
            raise ValueError("sequences must be a 2-d array: customers × months")
        k = len(states)
        if seq.size and (seq.max() >= k or seq.min() < ABSENT):
            raise ValueError(f"state codes must lie in 0..{k - 1} or be {ABSENT}")
        here, there = seq[:, :-1].ravel(), seq[:, 1:].ravel()
        both = (here != ABSENT) & (there != ABSENT)
        counts = np.bincount(here[both] * k + there[both], minlength=k * k).reshape(k, k)
        totals = counts.sum(axis=1)
        observed = totals > 0
        matrix = np.eye(k)
        matrix[observed] = counts[observed] / totals[observed, None]
        return cls(tuple(states), counts, matrix, observed)

    def forecast(self, start: np.ndarray, steps: int) -> np.ndarray:
        """Expected number of customers in each state for months 0..steps."""
        if steps < 0:
            raise ValueError("steps must be 0 or more")
        out = np.empty((steps + 1, len(self.states)))
        out[0] = np.asarray(start, dtype=float)
        for m in range(1, steps + 1):
            out[m] = out[m - 1] @ self.matrix
        return out

    def equity(
        self,
        start: np.ndarray,
        value_per_customer: np.ndarray,
        steps: int,
        monthly_discount: float = 0.0,
    ) -> np.ndarray:
        """Customer equity for months 0..steps: the forecast base valued at each state's
        value per customer, discounted by (1 + d)^month."""
        base = self.forecast(start, steps)
        discount = (1.0 + monthly_discount) ** -np.arange(steps + 1)
        return base @ np.asarray(value_per_customer, dtype=float) * discount

    def churn_rates(self, churned: str) -> np.ndarray:
        """P(churned next month) from each state."""
        return self.matrix[:, self.states.index(churned)]
