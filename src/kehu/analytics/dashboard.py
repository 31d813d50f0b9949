"""The value dashboard's aggregates, stored per scope at the end of each value refresh.

Adding up the base on every visit of /value/ (the whale curve reads every customer's current
value, the value matrix numbers the whole scope, the mixes and the grid count it) takes
seconds at a million customers. The figures only change when a refresh rewrites the scores,
so the refresh stores them once per scope a dashboard is shown for: the firm (an
administrator, an analyst), each team (its manager) and each sales user's own customers.
A reader whose scope is exactly one of those reads its row (kehu.analytics.selectors.
dashboard); anyone else, and everyone before the first snapshot, gets the figures computed
on the spot from the same definitions.

A snapshot holds sums, counts and the ids of the value matrix's sample, never a name: the
names, and the lists of customers (at risk, unprofitable, the grid's cells), are read live
within the reader's scope, so a customer moved to another owner drops out of the old
owner's matrix at once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from django.db import connection, transaction
from django.db.models import Q

from kehu.analytics import rules
from kehu.analytics.models import (
    CustomerValue,
    DashboardSnapshot,
    EquitySnapshot,
    ValueRefresh,
)
from kehu.core.permissions import VIEW, customer_filter
from kehu.customers.models import Customer

log = logging.getLogger(__name__)

FIRM, TEAM, OWNER = "firm", "team", "owner"
WHALE_POINTS = 101
SCATTER_POINTS = 1500
INTENTION_HIGH = 7  # of 10: "will buy again / recommend" (the top of the scale)
BEHAVIOUR_HIGH = 50.0  # of 100: loyal behaviour index
GRID_ITEMS = 10  # customers the page lists in each cell of the intention grid


@dataclass(frozen=True)
class Scope:
    """The customers a dashboard adds up: the firm's, a team's or an owner's."""

    kind: str
    key: int = 0

    def condition(self, prefix: str = "") -> Q | None:
        if self.kind == FIRM:
            return None
        return Q(**{f"{prefix}{self.kind}_id": self.key})


def scope_of(user) -> Scope | None:
    """The stored scope whose customers are exactly the user's own scope (without loans: a
    customer lent to them is one file to read, not part of their book), or None when the
    user's scope is none of them (customers of their own and their team's together)."""
    condition = customer_filter(user, VIEW, loans=False)
    if condition is None:
        return Scope(FIRM)
    if condition == Q(owner_id=user.pk):
        return Scope(OWNER, user.pk)
    if user.team_id is not None and condition == Q(team_id=user.team_id):
        return Scope(TEAM, user.team_id)
    return None


def stored(run: ValueRefresh, scope: Scope) -> dict | None:
    row = (DashboardSnapshot.objects.filter(refresh=run, scope=scope.kind, scope_id=scope.key)
           .values_list("figures", flat=True).first())
    return row


# -- the figures of one scope, from arrays ---------------------------------------------------

@dataclass
class Base:
    """Every scored customer's columns the dashboard adds up, as arrays."""

    id: np.ndarray
    owner: np.ndarray  # -1: nobody
    team: np.ndarray  # -1: no team
    profit: np.ndarray  # current value: net contribution of the last 12 months
    potential: np.ndarray  # 0 when unknown
    segment: np.ndarray  # str; "" when not segmented
    quadrant: np.ndarray
    rank: np.ndarray  # value rank; +inf when none
    attitude: np.ndarray  # NaN when the customer said nothing
    behaviour: np.ndarray  # NaN when unknown


def read_base() -> Base:
    """Every scored customer's figures, read as plainly as the database allows: money as
    floating point in SQL (the same doubles float(Decimal) gives, without a Decimal per
    value) and no model row per customer, which a million customers notice."""
    real = "DOUBLE PRECISION" if connection.vendor == "postgresql" else "REAL"
    sql = ("SELECT v.customer_id, c.owner_id, COALESCE(c.team_id, -1), "  # noqa: S608
           f"CAST(v.net_contribution_12m AS {real}), CAST(v.potential_value AS {real}), "
           "v.segment, v.quadrant, v.value_rank, v.loyalty_attitude, v.loyalty_behaviour "
           f"FROM {CustomerValue._meta.db_table} v "
           f"JOIN {Customer._meta.db_table} c ON c.id = v.customer_id "
           "ORDER BY v.customer_id")
    # None becomes NaN in a float array: NULL is the only way a score is missing, and each
    # column's NaN is then replaced by what stands for missing in it.
    dtypes = [np.int64, np.int64, np.int64, *[float] * 2, object, object, *[float] * 3]
    parts: list[list[np.ndarray]] = [[] for _ in dtypes]
    with connection.cursor() as cursor:
        cursor.execute(sql)
        while rows := cursor.fetchmany(20_000):
            for i, values in enumerate(zip(*rows, strict=True)):
                parts[i].append(np.array(values, dtype=dtypes[i]))
    cols = [np.concatenate(p) if p else np.empty(0, dtype=d)
            for p, d in zip(parts, dtypes, strict=True)]

    def numbers(values: np.ndarray, missing: float) -> np.ndarray:
        values[np.isnan(values)] = missing
        return values

    return Base(id=cols[0], owner=cols[1], team=cols[2],
                profit=numbers(cols[3], 0.0), potential=numbers(cols[4], 0.0),
                segment=cols[5], quadrant=cols[6], rank=numbers(cols[7], np.inf),
                attitude=numbers(cols[8], np.nan), behaviour=numbers(cols[9], np.nan))


def whale_of(profits: np.ndarray) -> dict:
    """Cumulative share of current value by customers ranked from most to least profitable
    (80/20/30), with the unprofitable tail; `profits` from the most profitable down."""
    n = profits.size
    if not n:
        return {"points": [], "customers": 0, "total": 0.0, "peak": 0.0, "top20": 0.0,
                "unprofitable": 0, "unprofitable_share": 0.0, "loss": 0.0}
    total = float(profits.sum())
    cumulative = np.concatenate([[0.0], np.cumsum(profits)])
    at = np.linspace(0, n, WHALE_POINTS).round().astype(int)
    scale = total if total > 0 else float(np.abs(profits).sum() or 1)
    loss = float(profits[profits < 0].sum())
    return {
        "points": [{"customers_pct": round(100 * i / n, 1),
                    "profit_pct": round(100 * cumulative[i] / scale, 1)} for i in at],
        "customers": n, "total": total, "peak": float(cumulative.max()),
        "top20": float(cumulative[int(np.ceil(0.2 * n))] / scale * 100),
        "unprofitable": int((profits < 0).sum()),
        "unprofitable_share": float((profits < 0).mean() * 100), "loss": loss}


def matrix_sample(ranked: np.ndarray) -> np.ndarray:
    """The value matrix's customers among `ranked` (positions, by value rank): the most
    valuable half of the sample, then every stride-th customer after them."""
    half = SCATTER_POINTS // 2
    top = ranked[:half]
    if top.size < half:
        return top
    stride = max(ranked.size // half, 1)
    return np.concatenate([top, ranked[half::stride][:half]])


def _counts(labels: np.ndarray, codes: np.ndarray) -> dict[str, int]:
    """How many of each text but the empty one (a customer not segmented), by text."""
    counts = np.bincount(codes, minlength=labels.size)
    return {str(k): int(n) for k, n in zip(labels, counts, strict=True) if n and k != ""}


def whole_base(base: Base) -> dict[str, np.ndarray]:
    """What customer_figures asks of every customer, worked out once for all the scopes:
    who is segmented, segments and quadrants as codes, and the intention grid's cells."""
    said = ~np.isnan(base.attitude)
    with np.errstate(invalid="ignore"):
        high_i = base.attitude >= INTENTION_HIGH * 10
        high_b = base.behaviour >= BEHAVIOUR_HIGH
    # As codes (each text's place among the distinct ones), so that each scope counts
    # small integers instead of sorting its texts.
    segments, segment_codes = np.unique(base.segment.astype(str), return_inverse=True)
    quadrants, quadrant_codes = np.unique(base.quadrant.astype(str), return_inverse=True)
    return {"segmented": base.segment != "",
            "segments": segments, "segment_codes": segment_codes,
            "quadrants": quadrants, "quadrant_codes": quadrant_codes,
            "convert": said & high_i & ~high_b, "loyal": said & high_i & high_b,
            "hidden_risk": said & ~high_i & high_b, "detached": said & ~high_i & ~high_b}


def customer_figures(base: Base, at: np.ndarray,
                     whole: dict[str, np.ndarray] | None = None) -> dict:
    """The figures over the customers at positions `at` of the base (ascending) that come
    from their scores (`whole`: whole_base(base), when several scopes are added up)."""
    whole = whole if whole is not None else whole_base(base)
    profits = np.sort(base.profit[at])[::-1]
    segmented = at[whole["segmented"][at]]
    ranked = segmented[np.lexsort((base.id[segmented], base.rank[segmented]))]
    sample = matrix_sample(ranked)
    cells = {key: at[whole[key][at]] for key in ("convert", "loyal", "hidden_risk",
                                                 "detached")}
    return {
        "segments": _counts(whole["segments"], whole["segment_codes"][at]),
        "quadrants": _counts(whole["quadrants"], whole["quadrant_codes"][at]),
        "whale": whale_of(profits),
        "matrix": [[int(base.id[i]), float(base.profit[i]), float(base.potential[i]),
                    str(base.segment[i])] for i in sample],
        "intention": {key: int(cell.size) for key, cell in cells.items()},
        # The first customers of each cell by value rank, as the page lists them: who said
        # what only changes with a refresh.
        "intention_ids": {key: _first(base, cell, GRID_ITEMS) for key, cell in cells.items()},
    }


def _first(base: Base, positions: np.ndarray, n: int) -> list[int]:
    ranked = positions[np.lexsort((base.id[positions], base.rank[positions]))]
    return [int(base.id[i]) for i in ranked[:n]]


def positions_by(keys: np.ndarray) -> dict[int, np.ndarray]:
    """The positions of each key's customers in the base, ascending: one sort for all the
    owners (or teams), instead of a pass over the whole base for each."""
    if not keys.size:
        return {}
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    return {int(ordered[start]): part
            for start, part in zip(starts, np.split(order, starts[1:]), strict=True)}


# -- the figures of one scope, from the refresh's equity rows --------------------------------

def _money(value: Decimal) -> float:
    return float(value or 0)


def equity_figures(rows: list[tuple], as_of) -> dict:
    """The equity trend, its breakdowns as of the refresh and the Markov counts by segment,
    from the refresh's equity rows of the scope (as_of, owner, team name, segment,
    customers, equity, moves, states)."""
    trend: dict = defaultdict(lambda: [Decimal(0), 0])
    by = {"segment": defaultdict(lambda: [Decimal(0), 0]),
          "team": defaultdict(lambda: [Decimal(0), 0]),
          "owner": defaultdict(lambda: [Decimal(0), 0])}
    k = len(rules.STATES)
    markov: dict[str, list] = {}
    for day, owner, team, segment, customers, equity, moves, states in rows:
        trend[day][0] += equity or 0
        trend[day][1] += customers or 0
        if day != as_of:
            continue
        for field, key in (("segment", segment), ("team", team), ("owner", owner)):
            by[field][key][0] += equity or 0
            by[field][key][1] += customers or 0
        entry = markov.setdefault(segment, [np.zeros(k * k, dtype=np.int64),
                                            {s: {"customers": 0, "clv": 0.0}
                                             for s in rules.STATES}])
        if moves:
            entry[0] += np.asarray(moves, dtype=np.int64).reshape(k * k)
        for name, figures in (states or {}).items():
            if name in entry[1]:
                entry[1][name]["customers"] += figures.get("customers", 0)
                entry[1][name]["clv"] += figures.get("clv", 0.0)
    return {
        "trend": [[day.isoformat(), _money(e), int(n)] for day, (e, n) in sorted(trend.items())],
        "by": {field: sorted(([key, _money(e), int(n)] for key, (e, n) in groups.items()),
                             key=lambda r: -r[1])
               for field, groups in by.items()},
        "markov": [[segment, [int(x) for x in moves], states]
                   for segment, (moves, states) in markov.items()],
    }


def _equity_rows(run: ValueRefresh) -> list[tuple]:
    return list(EquitySnapshot.objects.filter(refresh=run).values_list(
        "as_of", "owner_id", "team__name", "segment", "customers", "equity", "moves",
        "states"))


def _scopes() -> list[Scope]:
    """Every scope a dashboard is shown for now: each user who may see it, by their own
    scope (the firm once)."""
    from kehu.accounts.models import User
    from kehu.core import policy

    seen: dict[Scope, None] = {Scope(FIRM): None}
    for user in User.objects.filter(is_active=True).select_related("team"):
        if policy.may_see_value_dashboard(user):
            scope = scope_of(user)
            if scope is not None:
                seen[scope] = None
    return list(seen)


def store(run: ValueRefresh) -> int:
    """Compute and store the dashboard's figures of every scope for the refresh `run` (the
    latest); returns how many scopes. Older refreshes' snapshots go: only the latest is
    read."""
    scopes = _scopes()
    base = read_base()
    equity = _equity_rows(run)
    whole = whole_base(base)
    by_owner, by_team = positions_by(base.owner), positions_by(base.team)
    none = np.empty(0, dtype=np.int64)
    # A team's equity is that of the owners with a customer in the team, as the live
    # figures read it: the owners of every team in one query.
    team_owners: dict[int, set] = defaultdict(set)
    teams = [scope.key for scope in scopes if scope.kind == TEAM]
    if teams:
        for team, owner in (Customer.objects.filter(team_id__in=teams).order_by()
                            .values_list("team_id", "owner_id").distinct()):
            team_owners[team].add(owner)
    snapshots = []
    for scope in scopes:
        if scope.kind == FIRM:
            at = np.arange(base.id.size)
            rows = equity
        elif scope.kind == OWNER:
            at = by_owner.get(scope.key, none)
            rows = [r for r in equity if r[1] == scope.key]
        else:
            at = by_team.get(scope.key, none)
            owners = team_owners[scope.key]
            rows = [r for r in equity if r[1] is not None and r[1] in owners]
        figures = {**customer_figures(base, at, whole), **equity_figures(rows, run.as_of)}
        snapshots.append(DashboardSnapshot(refresh=run, scope=scope.kind, scope_id=scope.key,
                                           figures=figures))
    with transaction.atomic():
        DashboardSnapshot.objects.exclude(refresh=run).delete()
        DashboardSnapshot.objects.filter(refresh=run).delete()
        DashboardSnapshot.objects.bulk_create(snapshots, batch_size=200)
    return len(snapshots)


def store_after_refresh(run: ValueRefresh) -> None:
    """The refresh's last step. A failure here leaves the scores as they are: the dashboard
    then computes its figures on the spot until the next refresh stores them."""
    try:
        store(run)
    except Exception:
        log.exception("the value dashboard's figures of refresh %s were not stored", run.pk)
