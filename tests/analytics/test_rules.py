"""The value rules, checked on cases worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from kehu.analytics import rules
from kehu.analytics.rules import NO_PURCHASE, QUADRANTS, SEGMENTS, STATES

ALL = np.ones(10, dtype=bool)


def test_top_share_takes_ties_at_the_cut_and_never_zero_or_less():
    values = np.array([10, 9, 8, 8, 1, 0, 0, 0, -5, 3.0])
    assert rules.top_share(values, 0.3).tolist() == [True, True, True, True] + [False] * 6
    assert rules.top_share(np.zeros(5), 0.5).tolist() == [False] * 5


def test_quintiles_give_equal_values_equal_scores():
    values = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10.0])
    assert rules.quintiles(values, ALL).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert rules.quintiles(np.ones(10), ALL).tolist() == [3] * 10  # all alike: the middle
    eligible = np.array([True] * 5 + [False] * 5)
    assert rules.quintiles(values, eligible).tolist() == [1, 2, 3, 4, 5, 0, 0, 0, 0, 0]


def test_states_follow_the_rules_in_their_order():
    r = rules.StateRules(churn_p_alive=0.3, churn_inactive_days=365, loyal_min_index=60,
                         loyal_min_purchase_days=4, loyal_min_tenure_days=100)
    days = np.array([0, 1, 2, 5, 5, 5, 6])
    tenure = np.array([0, 10, 50, 200, 50, 200, 300])
    p_alive = np.array([np.nan, 0.9, 0.9, 0.9, 0.9, 0.9, 0.1])
    index = np.array([np.nan, 20, 30, 80, 80, 40, 90.0])
    got = rules.derive_states(days, tenure, p_alive, index, r)
    want = [NO_PURCHASE, STATES.index("first"), STATES.index("repeat"), STATES.index("loyal"),
            STATES.index("repeat"),  # too new to be loyal
            STATES.index("repeat"),  # loyalty index too low
            STATES.index("churned")]  # loyal by its index, but P(alive) 0.1: lost
    assert got.tolist() == want
    # Days without a purchase decide only where there is no P(alive).
    idle = np.array([0, 400, 10, 10, 10, 10, 10])
    assert rules.derive_states(days, tenure, p_alive, index, r,
                               days_since_last=idle).tolist() == want
    no_model = np.full(7, np.nan)
    got = rules.derive_states(days, tenure, no_model, index, r, days_since_last=idle)
    assert got[1] == STATES.index("churned") and got[2] == STATES.index("repeat")


def test_no_lost_customer_has_a_p_alive_above_the_threshold():
    rng = np.random.default_rng(1)
    n = 2000
    days = rng.integers(0, 12, n)
    p_alive = np.where(rng.random(n) < 0.1, np.nan, rng.random(n))
    r = rules.StateRules()
    state = rules.derive_states(days, rng.integers(0, 900, n), p_alive, rng.random(n) * 100,
                                r, days_since_last=rng.integers(0, 900, n))
    lost = state == STATES.index("churned")
    assert lost.any()
    assert not (np.nan_to_num(p_alive[lost]) >= r.churn_p_alive).any()


def test_loyalty_is_behaviour_and_attitude_not_size():
    nan = np.nan
    # A: 10 purchases over two years, on rhythm, one referral, says 9 and 10.
    # B: 10 purchases, 3 gaps late. C: bought once. D: never bought, says 10 and 10.
    days = np.array([10, 10, 1, 0])
    tenure = np.array([730, 730, 400, 0])
    since = np.array([30, 300, 400, 0])
    out = rules.loyalty(days, tenure, since, np.array([1, 0, 0, 0]),
                        np.array([nan, nan, nan, nan]), np.array([9, nan, nan, 10.0]),
                        np.array([10, nan, nan, 10.0]))
    assert out["repeat"][0] == pytest.approx(90) and out["regularity"][0] == 100
    assert out["regularity"][1] == 0  # (730 - 300) / 9 = 48 days a gap; 300 is > 3 gaps
    assert out["referrals"][0] == 50 and out["tenure"][0] == 100
    assert np.isnan(out["wallet"]).all()  # unknown: its weight goes to the other parts
    behaviour_a = (0.3 * 0.9 + 0.25 * 1 + 0.15 * 1 + 0.15 * 0.5) / 0.85
    assert out["behaviour"][0] == pytest.approx(100 * behaviour_a)
    assert out["attitude"][0] == pytest.approx(95)
    assert out["index"][0] == pytest.approx(100 * (0.75 * behaviour_a + 0.25 * 0.95))
    assert out["index"][0] > out["index"][1] > out["index"][2]
    assert np.isnan(out["attitude"][1])  # nothing said: the index is behaviour alone
    assert out["index"][1] == pytest.approx(out["behaviour"][1])
    # Intention that never became a purchase is worth little.
    assert out["index"][3] == pytest.approx(25)
    # A known share of wallet counts.
    low_wallet = rules.loyalty(days[:1], tenure[:1], since[:1], np.array([1]),
                               np.array([0.1]), np.array([9.0]), np.array([10.0]))
    assert low_wallet["index"][0] < out["index"][0]


def test_at_risk_is_slipping_and_never_already_lost():
    days = np.array([5, 5, 5, 5, 1])
    state = np.array([STATES.index("repeat"), STATES.index("churned"), STATES.index("repeat"),
                      STATES.index("repeat"), STATES.index("first")])
    value = np.array([100, 100, 100, 100, 100.0])
    now = np.array([0.6, 0.1, 0.9, 0.9, 0.8])
    before = np.array([0.9, 0.9, 0.9, 0.9, nan := np.nan])
    late = np.array([1.0, 5.0, 2.5, 1.0, nan])
    got = rules.at_risk(days, state, value, now, before, late, top=1.0, drop=0.1)
    # fell 0.3 / lost (never at risk) / overdue 2.5 gaps / steady / no history
    assert got.tolist() == [True, False, True, False, False]


def test_segments_and_quadrants_by_hand():
    current = np.array([10, 10, 0, 0, 5.0])
    potential = np.array([10, 0, 10, 0, 5.0])
    eligible = np.array([True, True, True, True, False])
    seg = rules.segments(current, potential, eligible, 0.5, 0.5)
    assert [SEGMENTS[i] if i >= 0 else "" for i in seg] == [
        "invest", "maintain", "develop", "minimise", ""]
    lost = np.array([False, False, False, False, False])
    quad = rules.quadrants(np.array([100, 100, 1, 1, 0.0]), np.array([90, 20, 90, 20, 100]),
                           lost, eligible, 0.5, 50)
    assert [QUADRANTS[i] if i >= 0 else "" for i in quad] == [
        "protect", "control", "nurture", "phase_out", ""]
    # A lost customer is not loyal whatever their past.
    quad = rules.quadrants(np.array([100.0]), np.array([90.0]), np.array([True]),
                           np.array([True]), 0.5, 50)
    assert QUADRANTS[quad[0]] == "control"


def test_lookalikes_score_the_traits_loyal_customers_share():
    # Trait 0 = industry: loyal customers are all in industry 1.
    features = np.array([[1], [1], [1], [0], [0], [0], [1], [0]])
    loyal = np.array([True, True, True, False, False, False, False, False])
    candidates = np.array([False] * 6 + [True, True])
    score = rules.lookalike(features, loyal, candidates)
    assert np.isnan(score[:6]).all()
    assert score[6] > 50 > score[7]


# The first array drawn sets up numpy's strategies, which takes over a second on a machine
# busy with other work: that is no fault of the test.
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrays(float, 30, elements=st.floats(-1e6, 1e6)), st.floats(0.01, 0.99))
def test_top_share_is_at_least_the_share_of_positive_values(values, share):
    top = rules.top_share(values, share)
    assert (values[top] > 0).all()
    if (values > 0).sum() >= len(values) * share + 1:
        assert top.sum() >= np.floor(len(values) * share)
