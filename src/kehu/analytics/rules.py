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
    # Used only for customers without a P(alive) (the purchase model could not be fitted).
    churn_inactive_days: int = 365
    loyal_min_index: float = 65.0
    loyal_min_purchase_days: int = 4
    loyal_min_tenure_days: int = 180


def churned(purchase_days: np.ndarray, p_alive: np.ndarray, rules: StateRules,
            days_since_last: np.ndarray | None = None) -> np.ndarray:
    """Buyers who are lost (流失): P(alive) below the threshold. The state and the P(alive)
    the card shows are one figure, so no churned customer has a P(alive) above it. Only a
    customer without a P(alive) (no model could be fitted) is judged by the days since
    their last purchase."""
    bought = np.asarray(purchase_days) > 0
    p = np.asarray(p_alive, dtype=float)
    known = np.isfinite(p)
    out = bought & known & (np.where(known, p, 1.0) < rules.churn_p_alive)
    if days_since_last is not None and rules.churn_inactive_days:
        out |= bought & ~known & (np.asarray(days_since_last) > rules.churn_inactive_days)
    return out


def derive_states(purchase_days: np.ndarray, tenure_days: np.ndarray, p_alive: np.ndarray,
                  loyalty_index: np.ndarray, rules: StateRules,
                  days_since_last: np.ndarray | None = None) -> np.ndarray:
    """Index into STATES for each customer, NO_PURCHASE for those who never bought.

    Churned when lost (see `churned`); else loyal when the loyalty index (behaviour and
    attitude, not size) reaches the firm's threshold, having bought on enough days and been
    a customer long enough; else repeat with two or more purchase days; else first.
    """
    days = np.asarray(purchase_days)
    bought = days > 0
    state = np.full(days.shape, NO_PURCHASE, dtype=np.int8)
    state[bought] = np.where(days[bought] >= 2, STATES.index("repeat"), STATES.index("first"))
    index = np.nan_to_num(np.asarray(loyalty_index, dtype=float), nan=0.0)
    loyal = (bought & (index >= rules.loyal_min_index)
             & (days >= rules.loyal_min_purchase_days)
             & (np.asarray(tenure_days) >= rules.loyal_min_tenure_days))
    state[loyal] = STATES.index("loyal")
    state[churned(days, p_alive, rules, days_since_last)] = STATES.index("churned")
    return state


# Loyalty (忠诚度) ------------------------------------------------------------------------------

# Behaviour: each part 0-1, weighted; a part that is unknown (share of wallet nobody asked)
# drops out and the others' weights are scaled up.
BEHAVIOUR_WEIGHTS = {"repeat": 0.30, "regularity": 0.25, "tenure": 0.15, "wallet": 0.15,
                     "referrals": 0.15}
ATTITUDE_WEIGHT = 0.25  # of the index, when the customer's attitude is known
TENURE_FULL_DAYS = 730  # a customer for two years has the full tenure part
OVERDUE_ZERO = 3.0  # three of their usual gaps without a purchase: no regularity left
AT_RISK_OVERDUE = 2.0  # twice their usual gap without a purchase: slipping


def overdue(purchase_days: np.ndarray, tenure_days: np.ndarray,
            days_since_last: np.ndarray) -> np.ndarray:
    """Days since the last purchase over the customer's own mean days between purchases
    (1 = on rhythm, 2 = a whole gap late); NaN for customers with fewer than two purchase
    days, who have no rhythm yet."""
    days = np.asarray(purchase_days, dtype=float)
    since = np.asarray(days_since_last, dtype=float)
    span = np.asarray(tenure_days, dtype=float) - since  # first to last purchase
    out = np.full(days.shape, np.nan)
    rhythm = days >= 2
    gap = np.maximum(span[rhythm] / (days[rhythm] - 1), 1.0)
    out[rhythm] = since[rhythm] / gap
    return out


def loyalty(purchase_days: np.ndarray, tenure_days: np.ndarray, days_since_last: np.ndarray,
            referrals_made: np.ndarray, wallet_share: np.ndarray, buy_again: np.ndarray,
            recommend: np.ndarray) -> dict[str, np.ndarray]:
    """The loyalty index (0-100) and its parts (0-100, NaN where unknown).

    Behaviour (seed 004: buys again, rarely from competitors, recommends us):
      repeat      share of purchase days that were repeat purchases, 1 - 1/days;
      regularity  on their own rhythm: 100 while the days since the last purchase are
                  within their usual gap, falling to 0 at three gaps (none for one purchase);
      tenure      time as a customer, full at two years;
      wallet      the share of their purchases in our line they buy from us, where known;
      referrals   customers they brought, 1 - 1/2^n.
    Attitude: the stated intention to buy again and to recommend us (0-10 each), where
    recorded. The index is behaviour, with attitude weighing a quarter when it is known:
    intention that never becomes purchase is worth little (seed 001), so a customer who has
    never bought gets an index only from what they said, at most 25.
    `wallet_share` is 0-1, `buy_again` and `recommend` 0-10, NaN where unknown.
    """
    days = np.asarray(purchase_days, dtype=float)
    n = days.size
    bought = days > 0
    parts = {
        "repeat": np.where(bought, 1.0 - 1.0 / np.maximum(days, 1.0), 0.0),
        "tenure": np.where(bought, np.clip(np.asarray(tenure_days, dtype=float)
                                           / TENURE_FULL_DAYS, 0.0, 1.0), 0.0),
        "wallet": np.asarray(wallet_share, dtype=float),
        "referrals": 1.0 - 0.5 ** np.asarray(referrals_made, dtype=float),
    }
    late = overdue(days, tenure_days, days_since_last)
    parts["regularity"] = np.where(
        np.isfinite(late),
        np.clip((OVERDUE_ZERO - np.nan_to_num(late)) / (OVERDUE_ZERO - 1.0), 0.0, 1.0), 0.0)
    total = np.zeros(n)
    weight = np.zeros(n)
    for name, w in BEHAVIOUR_WEIGHTS.items():
        known = np.isfinite(parts[name])
        total += np.where(known, parts[name], 0.0) * w
        weight += known * w
    behaviour = total / weight
    said = np.column_stack([np.asarray(buy_again, dtype=float),
                            np.asarray(recommend, dtype=float)]).reshape(n, 2) / 10.0
    known = np.isfinite(said)
    attitude = np.divide(np.where(known, said, 0.0).sum(axis=1), known.sum(axis=1),
                         out=np.full(n, np.nan), where=known.any(axis=1))
    has_attitude = np.isfinite(attitude)
    index = np.where(has_attitude,
                     (1 - ATTITUDE_WEIGHT) * behaviour + ATTITUDE_WEIGHT
                     * np.nan_to_num(attitude), behaviour)
    index[~bought & ~has_attitude] = np.nan
    out = {name: 100.0 * values for name, values in parts.items()}
    for name in ("repeat", "regularity", "tenure"):
        out[name][~bought] = np.nan
    out.update(index=100.0 * index, behaviour=100.0 * behaviour, attitude=100.0 * attitude)
    return out


def at_risk(purchase_days: np.ndarray, state: np.ndarray, value: np.ndarray,
            p_alive_now: np.ndarray, p_alive_before: np.ndarray, late: np.ndarray,
            top: float, drop: float) -> np.ndarray:
    """Valuable customers slipping away, and not yet lost: in the top `top` share by value,
    not churned, and either their P(alive) fell by `drop` or more since the last refresh or
    they are overdue against their own rhythm (AT_RISK_OVERDUE of their usual gaps)."""
    bought = np.asarray(purchase_days) > 0
    fell = np.nan_to_num(np.asarray(p_alive_before, dtype=float)
                         - np.asarray(p_alive_now, dtype=float), nan=0.0) >= drop
    slipping = fell | (np.nan_to_num(np.asarray(late, dtype=float)) >= AT_RISK_OVERDUE)
    return (bought & (np.asarray(state) != STATES.index("churned"))
            & top_share(value, top, bought) & slipping)


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


def quadrants(volume: np.ndarray, loyalty_index: np.ndarray, lost: np.ndarray,
              eligible: np.ndarray, large_share: float, loyal_index: float) -> np.ndarray:
    """Index into QUADRANTS (volume × loyalty), -1 where not eligible. Loyal = a loyalty
    index of at least `loyal_index` and not lost: behaviour and attitude, never size, so a
    small customer can be loyal and a large one disloyal."""
    large = top_share(volume, large_share, eligible)
    index = np.nan_to_num(np.asarray(loyalty_index, dtype=float), nan=0.0)
    loyal = (index >= loyal_index) & ~np.asarray(lost, dtype=bool)
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
