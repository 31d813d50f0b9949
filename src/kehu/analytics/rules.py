"""The firm's rules for turning value figures into standing: lifecycle states, segments,
quadrants, RFM scores and look-alike scores. Arrays in, arrays out (numpy only), so that each
rule is tested by hand and runs over a million customers at once.

Codes used here and stored by the refresh:
  states: see STATES; segments: see SEGMENTS; quadrants: see QUADRANTS; "" = none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

STATES = ("first", "repeat", "loyal", "churned")  # the states behaviour decides (DOMAIN §2)
SEGMENTS = ("invest", "develop", "maintain", "minimise")
QUADRANTS = ("protect", "nurture", "control", "phase_out")
NO_PURCHASE = -1


def top_share(values: np.ndarray, share: float, eligible: np.ndarray | None = None
              ) -> np.ndarray:
    """Customers in the top `share` of `values` among the eligible ones. Ties at the cut
    are all in; nobody with a value of zero or less is ever "top"."""
    values = np.asarray(values, dtype=float)
    ok = np.isfinite(values) if eligible is None else (eligible & np.isfinite(values))
    out = np.zeros(values.shape, dtype=bool)
    if not ok.any():
        return out
    cut = np.quantile(values[ok], 1.0 - share, method="higher")
    out[ok] = (values[ok] >= cut) & (values[ok] > 0)
    return out


def quintiles(values: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """1 (lowest fifth) to 5 (highest fifth) among the eligible; 0 for the others. Equal
    values get equal scores."""
    values = np.asarray(values, dtype=float)
    out = np.zeros(values.shape, dtype=np.int8)
    if eligible.any():
        pct = rankdata(values[eligible], method="average") / eligible.sum()
        out[eligible] = np.clip(np.ceil(pct * 5), 1, 5).astype(np.int8)
    return out


@dataclass(frozen=True)
class StateRules:
    churn_p_alive: float = 0.3
    churn_inactive_days: int = 365
    loyal_top_share: float = 0.1
    loyal_min_purchase_days: int = 4
    loyal_min_tenure_days: int = 180


def derive_states(purchase_days: np.ndarray, tenure_days: np.ndarray, p_alive: np.ndarray,
                  value: np.ndarray, rules: StateRules,
                  days_since_last: np.ndarray | None = None) -> np.ndarray:
    """Index into STATES for each customer, NO_PURCHASE for those who never bought.

    Churned when P(alive) is below the threshold or nothing was bought for too long (BG/NBD
    holds a customer who never came back alive for ever, so P(alive) alone never churns a
    one-time buyer); else loyal when at the top of the value ranking, buying on enough days
    and long enough a customer; else repeat with two or more purchase days; else first.
    """
    days = np.asarray(purchase_days)
    bought = days > 0
    state = np.full(days.shape, NO_PURCHASE, dtype=np.int8)
    state[bought] = np.where(days[bought] >= 2, STATES.index("repeat"), STATES.index("first"))
    top = top_share(value, rules.loyal_top_share, eligible=bought)
    loyal = (bought & top & (days >= rules.loyal_min_purchase_days)
             & (np.asarray(tenure_days) >= rules.loyal_min_tenure_days))
    state[loyal] = STATES.index("loyal")
    churned = bought & (np.nan_to_num(np.asarray(p_alive, dtype=float), nan=1.0)
                        < rules.churn_p_alive)
    if days_since_last is not None and rules.churn_inactive_days:
        churned |= bought & (np.asarray(days_since_last) > rules.churn_inactive_days)
    state[churned] = STATES.index("churned")
    return state


def segments(current: np.ndarray, potential: np.ndarray, eligible: np.ndarray,
             current_share: float, potential_share: float) -> np.ndarray:
    """Index into SEGMENTS (current value × potential value), -1 where not eligible."""
    high_c = top_share(current, current_share, eligible)
    high_p = top_share(potential, potential_share, eligible)
    out = np.full(np.shape(current), -1, dtype=np.int8)
    out[eligible & high_c & high_p] = SEGMENTS.index("invest")
    out[eligible & ~high_c & high_p] = SEGMENTS.index("develop")
    out[eligible & high_c & ~high_p] = SEGMENTS.index("maintain")
    out[eligible & ~high_c & ~high_p] = SEGMENTS.index("minimise")
    return out


def quadrants(volume: np.ndarray, p_alive: np.ndarray, purchase_days: np.ndarray,
              eligible: np.ndarray, large_share: float, loyal_p_alive: float,
              loyal_min_days: int) -> np.ndarray:
    """Index into QUADRANTS (volume × loyalty), -1 where not eligible. Loyalty is behaviour:
    still alive by the model and buying again, not what a customer says."""
    large = top_share(volume, large_share, eligible)
    alive = np.nan_to_num(np.asarray(p_alive, dtype=float), nan=0.0) >= loyal_p_alive
    loyal = alive & (np.asarray(purchase_days) >= loyal_min_days)
    out = np.full(np.shape(volume), -1, dtype=np.int8)
    out[eligible & large & loyal] = QUADRANTS.index("protect")
    out[eligible & ~large & loyal] = QUADRANTS.index("nurture")
    out[eligible & large & ~loyal] = QUADRANTS.index("control")
    out[eligible & ~large & ~loyal] = QUADRANTS.index("phase_out")
    return out


def lookalike(features: np.ndarray, loyal: np.ndarray, candidates: np.ndarray
              ) -> np.ndarray:
    """How much each candidate resembles the loyal customers, 0–100 (NaN for others).

    `features` holds integer codes, one column per trait (industry, size, region, early
    behaviour...). Each trait value's weight of evidence is log(share among loyal /
    share among all others), smoothed; a candidate's score is the logistic of the sum of
    its traits' weights, so 50 means "no more like the loyal customers than anyone else".
    """
    features = np.asarray(features, dtype=np.int64)
    out = np.full(features.shape[0], np.nan)
    others = ~loyal
    if not loyal.any() or not others.any() or not candidates.any():
        return out
    evidence = np.zeros(features.shape[0])
    for col in features.T:
        k = int(col.max()) + 1 if col.size else 1
        in_loyal = np.bincount(col[loyal], minlength=k) + 1.0
        in_others = np.bincount(col[others], minlength=k) + 1.0
        weight = np.log((in_loyal / in_loyal.sum()) / (in_others / in_others.sum()))
        evidence += weight[col]
    out[candidates] = 100.0 / (1.0 + np.exp(-evidence[candidates]))
    return out
