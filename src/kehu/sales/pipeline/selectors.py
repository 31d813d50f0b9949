"""Reads of the pipeline, each scoped to what the user may see (an opportunity is in its
customer's scope)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Greatest

from kehu.core.permissions import VIEW, customer_filter, restrict
from kehu.sales.models import Activity, Competitor
from kehu.sales.pipeline.models import Opportunity, PipelineSettings, Stage, StageChange

# Cards shown per column of the board; the column's totals count them all.
BOARD_CARDS = 60
MONEY = DecimalField(max_digits=20, decimal_places=2)


@dataclass
class OpportunityFilters:
    owner: int | None = None
    team: int | None = None
    stage: int | None = None
    close_month: str = ""  # "YYYY-MM" of the expected close date
    status: str = ""  # "", "open", "won", "lost"
    customer: int | None = None


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """The first and the last day of "YYYY-MM" (ValueError if it is not one)."""
    year, mon = (int(p) for p in month.split("-"))
    start = dt.date(year, mon, 1)
    # December 9999 has no month after it to count back from.
    last = dt.date(year, 12, 31) if mon == 12 else dt.date(year, mon + 1, 1) - dt.timedelta(1)
    return start, last


def opportunities(user, action: str = VIEW) -> QuerySet[Opportunity]:
    return restrict(Opportunity.objects.select_related("customer", "stage", "owner",
                                                       "owner__team"), user, action)


def own_opportunities(user) -> QuerySet[Opportunity]:
    """The opportunities of the user's own scope, loans left out: whose figures add up in a
    forecast (a salesperson's own, a manager's team, an admin's firm)."""
    qs = Opportunity.objects.select_related("customer", "stage", "owner", "owner__team")
    condition = customer_filter(user, VIEW, "customer__", loans=False)
    return qs if condition is None else qs.filter(condition)


def filter_opportunities(user, qs: QuerySet[Opportunity], filters: OpportunityFilters
                         ) -> QuerySet[Opportunity]:
    """`qs` (already scoped to `user`) narrowed to the filters."""
    if filters.owner:
        qs = qs.filter(owner_id=filters.owner)
    if filters.team:
        qs = qs.filter(owner__team_id=filters.team)
    if filters.stage:
        qs = qs.filter(stage_id=filters.stage)
    if filters.customer:
        qs = qs.filter(customer_id=filters.customer)
    if filters.close_month:
        start, end = month_bounds(filters.close_month)
        qs = qs.filter(expected_close__gte=start, expected_close__lte=end)
    if filters.status == "open":
        qs = qs.filter(stage__kind="open")
    elif filters.status in ("won", "lost"):
        qs = qs.filter(stage__kind=filters.status)
    return qs


def stages(user) -> QuerySet[Stage]:
    """Every stage, open ones in order, then won and lost (the same for everybody)."""
    return Stage.objects.order_by("order", "id")


def pipeline_settings(user) -> PipelineSettings:
    return PipelineSettings.current()


def competitors(user) -> QuerySet[Competitor]:
    """The firm's list of competitors (the same for everybody), with how many opportunities
    of the user's scope name each."""
    return Competitor.objects.order_by("name")


def stage_history(user, opportunity: Opportunity) -> QuerySet[StageChange]:
    return restrict(StageChange.objects.filter(opportunity=opportunity), user, VIEW) \
        .select_related("from_stage", "to_stage", "by").order_by("-at", "-id")


def with_weighted(qs: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
    return qs.annotate(weighted=ExpressionWrapper(
        F("amount") * F("stage__probability") / Value(Decimal(100)), output_field=MONEY))


def last_activity(qs: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
    """Each opportunity with `last_touch`: its own last change or the customer's latest
    activity, whichever is later."""
    latest = Activity.objects.filter(customer=OuterRef("customer_id")).order_by() \
        .values("customer_id").annotate(m=Max("occurred_at")).values("m")
    return qs.annotate(last_activity=Subquery(latest)).annotate(
        last_touch=Greatest(F("touched_at"), Coalesce(F("last_activity"), F("touched_at"))))


@dataclass
class Column:
    stage: Stage
    cards: list[Opportunity]
    count: int
    amount: Decimal
    weighted: Decimal

    @property
    def more(self) -> int:
        return self.count - len(self.cards)


def board(user, filters: OpportunityFilters, stale_days: int | None = None) -> list[Column]:
    """The board: one column per stage with its cards (BOARD_CARDS at most, the soonest to
    close first) and the totals of all the column's opportunities."""
    qs = filter_opportunities(user, opportunities(user), OpportunityFilters(
        **{**filters.__dict__, "stage": None}))
    totals = {row["stage_id"]: row for row in qs.order_by().values("stage_id").annotate(
        n=Count("id"), amount=Sum("amount"))}
    columns = []
    for stage in stages(user):
        if filters.stage and stage.pk != filters.stage:
            continue
        t = totals.get(stage.pk, {"n": 0, "amount": Decimal(0)})
        amount = t["amount"] or Decimal(0)
        cards = list(last_activity(qs.filter(stage=stage))
                     .order_by("expected_close", "id")[:BOARD_CARDS])
        columns.append(Column(stage, cards, t["n"], amount,
                              (amount * stage.probability / 100).quantize(Decimal("0.01"))))
    return columns


def customer_open_opportunities(user, customer) -> QuerySet[Opportunity]:
    return opportunities(user).filter(customer=customer, stage__kind="open") \
        .order_by("expected_close", "id")


def open_amount(user, customer) -> Decimal:
    """What the customer's open opportunities add up to: what credit control weighs against
    the customer's credit limit."""
    total = opportunities(user).filter(customer=customer, stage__kind="open") \
        .aggregate(s=Sum("amount"))["s"]
    return total or Decimal(0)
