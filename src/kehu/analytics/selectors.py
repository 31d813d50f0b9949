"""Every read of value figures a user can trigger, limited to the customers they may see.

Per-customer figures come from CustomerValue joined to the customers the user may view;
the equity trend, its breakdowns and the Markov migration come from the refresh's
EquitySnapshot rows (one per owner and segment), summed over the owners and teams in the
user's reach, so that a manager's dashboard is their team's and nobody else's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum, Window
from django.db.models.functions import Mod, RowNumber
from django.utils import timezone

from kehu.analytics import affinity, rules
from kehu.analytics import dashboard as figures_store
from kehu.analytics.models import (
    SEGMENT_SHORT,
    CustomerValue,
    CustomerValueSnapshot,
    EquitySnapshot,
    LoyaltyStatement,
    Quadrant,
    Referral,
    RefreshStatus,
    ValueRefresh,
    ValueSegment,
    ValueSettings,
)
from kehu.core.permissions import VIEW, customer_filter, restrict
from kehu.customers.models import Customer
from kehu.value.markov import MarkovChain

FORECAST_MONTHS = 12
WHALE_POINTS = figures_store.WHALE_POINTS
SCATTER_POINTS = figures_store.SCATTER_POINTS


def latest_refresh() -> ValueRefresh | None:
    return ValueRefresh.objects.filter(status=RefreshStatus.DONE).order_by(
        "-finished_at", "-id").first()


def is_stale(run: ValueRefresh | None) -> bool:
    """No refresh yet, or the latest is older than the firm's limit."""
    if run is None:
        return True
    return (timezone.localdate() - run.as_of).days > ValueSettings.current().stale_after_days


def values(user, action: str = VIEW) -> QuerySet[CustomerValue]:
    """Scores of the customers the user may take `action` on, in their own scope: the
    dashboard adds up the user's book, and a customer lent to them (kehu.loans) is one file
    to read, not part of it."""
    condition = customer_filter(user, action, "customer__", loans=False)
    qs = CustomerValue.objects.all()
    return qs if condition is None else qs.filter(condition)


def _equity_rows(user, run: ValueRefresh) -> QuerySet[EquitySnapshot]:
    """The refresh's equity rows of the owners whose customers the user may see. Rows are
    by owner and team, so the customer scope translates to them directly."""
    qs = EquitySnapshot.objects.filter(refresh=run)
    # The user's own scope: a customer lent to them is one file to read, not its owner's
    # whole book.
    condition = customer_filter(user, VIEW, loans=False)
    if condition is None:
        return qs
    scope = Customer.objects.filter(condition)
    owners = scope.values("owner_id").distinct()
    return qs.filter(owner_id__in=owners)


@dataclass
class ValuePanel:
    value: CustomerValue | None
    trend: list[tuple[dt.date, float]]  # CLV by refresh, oldest first
    refresh: ValueRefresh | None


def panel(user, customer: Customer) -> ValuePanel:
    """The card's value panel: empty for a customer the user may not see."""
    value = values(user).filter(customer=customer).select_related("refresh").first()
    if value is None:
        return ValuePanel(None, [], None)
    # Only refreshes whose CLV was profit: a trend must not join spend to profit.
    snaps = list(CustomerValueSnapshot.objects.filter(customer=customer,
                                                      refresh__clv_basis="profit")
                 .order_by("-as_of", "-id").values_list("as_of", "clv")[:12])
    trend = [(d, float(c or 0)) for d, c in reversed(snaps)]
    return ValuePanel(value, trend, value.refresh)


# The dashboard --------------------------------------------------------------------------------

def equity_trend(user, run: ValueRefresh) -> list[dict]:
    rows = (_equity_rows(user, run).values("as_of").order_by("as_of")
            .annotate(equity=Sum("equity"), customers=Sum("customers")))
    return [{"month": r["as_of"], "equity": float(r["equity"] or 0),
             "customers": int(r["customers"] or 0)} for r in rows]


def equity_by(user, run: ValueRefresh, field: str) -> list[dict]:
    """Equity as of the refresh by "segment", "team__name" or "owner"."""
    key = {"segment": "segment", "team": "team__name", "owner": "owner_id"}[field]
    rows = (_equity_rows(user, run).filter(as_of=run.as_of).values(key)
            .annotate(equity=Sum("equity"), customers=Sum("customers")).order_by("-equity"))
    out = []
    if field == "owner":
        from kehu.accounts.models import User

        names = {u.pk: str(u) for u in User.objects.filter(pk__in=[r[key] for r in rows])}
    for r in rows:
        if field == "segment":
            label = str(SEGMENT_SHORT[r[key]]) if r[key] else "—"
        elif field == "owner":
            label = names.get(r[key], "—")
        else:
            label = r[key] or "—"
        out.append({"key": r[key], "label": label, "equity": float(r["equity"] or 0),
                    "customers": int(r["customers"] or 0)})
    return out


def segment_mix(user) -> list[dict]:
    counts = dict(values(user).exclude(segment="").values_list("segment")
                  .annotate(n=Count("pk")).values_list("segment", "n"))
    return [{"key": s.value, "label": str(s.label), "customers": counts.get(s.value, 0)}
            for s in ValueSegment]


def quadrant_mix(user) -> list[dict]:
    counts = dict(values(user).exclude(quadrant="").values_list("quadrant")
                  .annotate(n=Count("pk")).values_list("quadrant", "n"))
    return [{"key": q.value, "label": str(q.label), "customers": counts.get(q.value, 0)}
            for q in Quadrant]


def value_matrix(user) -> list[dict]:
    """Current value (net contribution, 12 months) against potential value, a sample of
    customers for the scatter plot: the most valuable and a spread of the rest."""
    half = SCATTER_POINTS // 2
    qs = values(user).exclude(segment="").order_by("value_rank")
    fields = ("customer_id", "customer__name", "net_contribution_12m", "potential_value",
              "segment")
    top = list(qs.values_list(*fields)[:half])
    rest = []
    if len(top) == half:
        # Every stride-th customer after the top, numbered by the database: a slice with a
        # step would load the whole base into Python to skip most of it.
        stride = max(qs.count() // half, 1)
        numbered = qs.annotate(row=Window(RowNumber(), order_by=F("value_rank").asc()))
        rest = list(numbered.annotate(pick=Mod(F("row") - half - 1, stride))
                    .filter(row__gt=half, pick=0).values_list(*fields)[:half])
    return [{"id": cid, "name": name, "current": float(current),
             "potential": float(potential or 0), "segment": segment}
            for cid, name, current, potential, segment in top + rest]


def whale_curve(user) -> dict:
    """Cumulative share of current value (net contribution of the last 12 months) by
    customers ranked from most to least profitable (80/20/30), with the unprofitable tail."""
    return figures_store.whale_of(np.asarray(
        values(user).order_by("-net_contribution_12m")
        .values_list("net_contribution_12m", flat=True), dtype=float))


def unprofitable_tail(user, limit: int | None = 50) -> list[CustomerValue]:
    """Customers whose current value (last 12 months) is a loss, the worst first."""
    qs = (values(user).filter(net_contribution_12m__lt=0).select_related("customer")
          .order_by("net_contribution_12m"))
    return list(qs[:limit] if limit else qs)


def at_risk(user, limit: int | None = 20) -> list[CustomerValue]:
    qs = (values(user).filter(at_risk=True).select_related("customer", "customer__owner")
          .order_by("value_rank"))
    return list(qs[:limit] if limit else qs)


@dataclass
class Migration:
    chain: MarkovChain
    start: np.ndarray  # customers in each state now
    forecast: np.ndarray  # months 0..FORECAST_MONTHS × states
    equity: np.ndarray  # forecast equity by month
    churn_by_segment: list[dict]


def migration(user, run: ValueRefresh) -> Migration | None:
    return _migration_of(_equity_rows(user, run).filter(as_of=run.as_of)
                         .values_list("segment", "moves", "states"))


def _migration_of(rows) -> Migration | None:
    """The Markov migration from equity rows (segment, moves, states), one per owner and
    segment or already summed by segment."""
    states = rules.STATES
    k = len(states)
    total = np.zeros((k, k))
    start = np.zeros(k)
    clv = np.zeros(k)
    by_segment: dict[str, np.ndarray] = {}
    for segment, moves, counts in rows:
        m = np.asarray(moves, dtype=float).reshape(k, k) if moves else np.zeros((k, k))
        total += m
        by_segment[segment] = by_segment.get(segment, np.zeros((k, k))) + m
        for i, name in enumerate(states):
            entry = (counts or {}).get(name, {})
            start[i] += entry.get("customers", 0)
            clv[i] += entry.get("clv", 0.0)
    if not total.sum():
        return None
    chain = _chain(total, states)
    per_customer = np.divide(clv, start, out=np.zeros(k), where=start > 0)
    monthly = float(ValueSettings.current().monthly_discount)
    churned = states.index("churned")
    churn = []
    for segment in [s.value for s in ValueSegment]:
        m = by_segment.get(segment)
        if m is None:
            continue
        active = [i for i in range(k) if i != churned]
        moves_out = m[active].sum()
        churn.append({"segment": segment, "label": str(ValueSegment(segment).label),
                      "rate": float(m[active, churned].sum() / moves_out) if moves_out else None,
                      "moves": int(moves_out)})
    return Migration(chain, start, chain.forecast(start, FORECAST_MONTHS),
                     chain.equity(start, per_customer, FORECAST_MONTHS, monthly), churn)


def _chain(counts: np.ndarray, states) -> MarkovChain:
    totals = counts.sum(axis=1)
    observed = totals > 0
    matrix = np.eye(len(states))
    matrix[observed] = counts[observed] / totals[observed, None]
    return MarkovChain(tuple(states), counts.astype(np.int64), matrix, observed)


@dataclass
class DashboardFigures:
    """The value dashboard's aggregates over the user's own scope."""

    trend: list[dict]  # equity_trend
    by: dict[str, list[dict]]  # equity_by, by "segment", "team" and "owner"
    segments: list[dict]  # segment_mix
    quadrants: list[dict]  # quadrant_mix
    matrix: list[dict]  # value_matrix
    whale: dict  # whale_curve
    migration: Migration | None
    intention: dict[str, int]  # customers in each cell of the intention grid
    intention_ids: dict[str, list[int]] | None  # the first of each cell, when stored
    stored: bool  # read from the refresh's snapshot (else computed now)


def dashboard_figures(user, run: ValueRefresh) -> DashboardFigures:
    """The dashboard's figures over the user's own scope: the refresh's stored snapshot of
    that scope when there is one (kehu.analytics.dashboard), else computed now. Either way
    the same figures; the value matrix names only customers the user may see now."""
    scope = figures_store.scope_of(user)
    figures = figures_store.stored(run, scope) if scope is not None else None
    stored = figures is not None
    if figures is None:
        figures = _live_figures(user, run)
    return _present(user, figures, stored)


def _live_figures(user, run: ValueRefresh) -> dict:
    """The figures in the stored snapshot's form, computed now."""
    said = values(user).filter(loyalty_attitude__isnull=False)
    high_i = Q(loyalty_attitude__gte=INTENTION_HIGH * 10)
    high_b = Q(loyalty_behaviour__gte=BEHAVIOUR_HIGH)
    conditions = {"convert": high_i & ~high_b, "loyal": high_i & high_b,
                  "hidden_risk": ~high_i & high_b, "detached": ~high_i & ~high_b}
    return {
        "trend": [[r["month"].isoformat(), r["equity"], r["customers"]]
                  for r in equity_trend(user, run)],
        "by": {field: [[r["key"], r["equity"], r["customers"]]
                       for r in equity_by(user, run, field)]
               for field in ("segment", "team", "owner")},
        "segments": {r["key"]: r["customers"] for r in segment_mix(user) if r["customers"]},
        "quadrants": {r["key"]: r["customers"] for r in quadrant_mix(user) if r["customers"]},
        "matrix": [[p["id"], p["current"], p["potential"], p["segment"], p["name"]]
                   for p in value_matrix(user)],
        "whale": whale_curve(user),
        "markov": list(_equity_rows(user, run).filter(as_of=run.as_of)
                       .values_list("segment", "moves", "states")),
        "intention": {key: said.filter(condition).count()
                      for key, condition in conditions.items()},
    }


def _present(user, figures: dict, stored: bool) -> DashboardFigures:
    by = {}
    owners = [key for key, _equity, _n in figures["by"]["owner"] if key is not None]
    if owners:
        from kehu.accounts.models import User

        names = {u.pk: str(u) for u in User.objects.filter(pk__in=owners)}
    for field, rows in figures["by"].items():
        out = []
        for key, equity, customers in rows:
            if field == "segment":
                label = str(SEGMENT_SHORT[key]) if key else "—"
            elif field == "owner":
                label = names.get(key, "—")
            else:
                label = key or "—"
            out.append({"key": key, "label": label, "equity": equity, "customers": customers})
        by[field] = out
    points = figures["matrix"]
    if points and len(points[0]) < 5:
        # A snapshot keeps ids: the names are read now, of the customers the user may
        # still see in their own scope.
        condition = customer_filter(user, VIEW, loans=False)
        scope = Customer.objects.all() if condition is None else Customer.objects.filter(
            condition)
        names = dict(scope.filter(pk__in=[p[0] for p in points]).values_list("pk", "name"))
        points = [[*p, names[p[0]]] for p in points if p[0] in names]
    return DashboardFigures(
        trend=[{"month": dt.date.fromisoformat(day), "equity": equity, "customers": n}
               for day, equity, n in figures["trend"]],
        by=by,
        segments=[{"key": s.value, "label": str(s.label),
                   "customers": figures["segments"].get(s.value, 0)} for s in ValueSegment],
        quadrants=[{"key": q.value, "label": str(q.label),
                    "customers": figures["quadrants"].get(q.value, 0)} for q in Quadrant],
        matrix=[{"id": cid, "name": name, "current": current, "potential": potential,
                 "segment": segment} for cid, current, potential, segment, name in points],
        whale=figures["whale"],
        migration=_migration_of(figures["markov"]),
        intention=figures["intention"],
        intention_ids=figures.get("intention_ids"),
        stored=stored)


@dataclass
class ReferralLine:
    """One referral as a user sees it: the other customer is None when it is out of the
    user's reach, so that its name and card are never shown."""

    referral: Referral
    customer: Customer | None

    @property
    def referred_on(self) -> dt.date:
        return self.referral.referred_on

    @property
    def note(self) -> str:
        return self.referral.note


def referrals_of(user, customer: Customer) -> dict:
    """Who referred the customer and whom it brought, as the user may see them: another
    customer out of the user's reach is counted, without its name or link."""
    referred_by = (Referral.objects.filter(referred=customer).select_related("referrer")
                   .first())
    brought = list(customer.referrals_made.select_related("referred")
                   .order_by("-referred_on", "-id")[:50])
    others = {r.referred_id for r in brought}
    if referred_by is not None:
        others.add(referred_by.referrer_id)
    visible = set(restrict(Customer.objects.filter(pk__in=others), user, VIEW)
                  .values_list("pk", flat=True))

    def line(referral: Referral, other: Customer) -> ReferralLine:
        return ReferralLine(referral, other if other.pk in visible else None)

    return {"referred_by": line(referred_by, referred_by.referrer) if referred_by else None,
            "brought": [line(r, r.referred) for r in brought]}


# Loyalty (忠诚度) ------------------------------------------------------------------------------

@dataclass
class LoyaltyCard:
    value: CustomerValue | None
    statements: list[LoyaltyStatement]  # newest first; the first one counts
    settings: ValueSettings


def loyalty_of(user, customer: Customer, limit: int = 10) -> LoyaltyCard:
    """The customer's loyalty index with its parts, and what they said, newest first; empty
    for a customer the user may not see."""
    if not restrict(Customer.objects.filter(pk=customer.pk), user, VIEW).exists():
        return LoyaltyCard(None, [], ValueSettings.current())
    value = CustomerValue.objects.filter(customer=customer).first()
    statements = list(LoyaltyStatement.objects.filter(customer=customer)
                      .select_related("created_by")[:limit])
    return LoyaltyCard(value, statements, ValueSettings.current())


def offers_for(user, customer: Customer) -> affinity.Offers | None:
    """Cross-sell and up-sell candidates for the customer from what similar customers buy
    (products only, never the customers who bought them); None for a customer the user may
    not see."""
    if not restrict(Customer.objects.filter(pk=customer.pk), user, VIEW).exists():
        return None
    return affinity.candidates_for(customer.pk)


INTENTION_HIGH = figures_store.INTENTION_HIGH
BEHAVIOUR_HIGH = figures_store.BEHAVIOUR_HIGH


@dataclass
class GridCell:
    key: str
    intention: str  # "high" | "low"
    behaviour: str  # "high" | "low"
    count: int
    items: list[CustomerValue]


def intention_grid(user, limit: int | None = 10, counts: dict[str, int] | None = None,
                   first: dict[str, list[int]] | None = None) -> list[GridCell]:
    """Stated intention × loyal behaviour (seed 001: move customers from intention to
    purchase), over the customers the user may see who said something. High intention is
    a stated intention to buy again or to recommend of INTENTION_HIGH or more out of 10
    (attitude ≥ 70); high behaviour a behaviour index of BEHAVIOUR_HIGH or more. Each cell
    counts its customers and lists the first `limit` (all with None), by value rank; with
    `counts` (a snapshot's, by cell) it does not count them again, and with `first` (the
    snapshot's first customers of each cell) it reads those instead of searching the cell;
    either way only customers in the user's scope."""
    said = values(user).filter(loyalty_attitude__isnull=False)
    high_i = Q(loyalty_attitude__gte=INTENTION_HIGH * 10)
    high_b = Q(loyalty_behaviour__gte=BEHAVIOUR_HIGH)
    cells = []
    for key, intention, behaviour, condition in (
            ("convert", "high", "low", high_i & ~high_b),
            ("loyal", "high", "high", high_i & high_b),
            ("hidden_risk", "low", "high", ~high_i & high_b),
            ("detached", "low", "low", ~high_i & ~high_b)):
        qs = said.filter(condition).select_related("customer", "customer__owner").order_by(
            "value_rank", "customer_id")
        count = counts.get(key, 0) if counts is not None else qs.count()
        if first is not None and limit is not None and limit <= figures_store.GRID_ITEMS:
            items = list(qs.filter(customer_id__in=first.get(key, []))[:limit]) \
                if first.get(key) else []
        else:
            items = list(qs[:limit] if limit else qs)
        cells.append(GridCell(key, intention, behaviour, count, items))
    return cells


def customer_values(user, *, state: str = "", segment: str = "") -> QuerySet[CustomerValue]:
    """The value scores of the customers the user may see (a customer on loan included:
    one file to read), by customer id, optionally of one lifecycle state or value segment,
    with whether each customer's state is locked (`state_locked_now`)."""
    from kehu.customers.models import StateLock

    qs = restrict(CustomerValue.objects.all(), user, VIEW)
    if state:
        qs = qs.filter(customer__lifecycle_state=state)
    if segment:
        qs = qs.filter(segment=segment)
    locks = (StateLock.objects.filter(customer=OuterRef("customer_id"),
                                      unlocked_at__isnull=True)
             .exclude(until__lt=timezone.localdate()))
    return (qs.select_related("customer").annotate(state_locked_now=Exists(locks))
            .order_by("customer_id"))
