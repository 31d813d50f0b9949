"""The sales forecast (销售预测): the weighted pipeline (Σ amount × the stage's win
probability) by expected close month, by owner and by team, beside what was actually won in
each month, and beside what the existing customers are expected to buy (the installed base).

The installed base comes from the value engine (kehu.analytics), which sits above sales:
sales cannot ask it, so analytics registers a provider here from its AppConfig.ready()."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kehu.core.permissions import VIEW, customer_filter
from kehu.customers.models import Customer
from kehu.sales.pipeline import selectors
from kehu.sales.pipeline.selectors import OpportunityFilters

CENT = Decimal("0.01")


@dataclass
class InstalledBase:
    """What existing customers are expected to buy in each month: the number of purchases
    and their value (expected purchases × each customer's expected spend)."""

    purchases: list[float]  # one per month asked for
    revenue: list[Decimal]
    as_of: dt.date | None = None  # the value refresh the figures come from
    customers: int = 0  # customers whose purchases are expected
    note: str = ""  # why there are no figures, when there are none


# (user, customers, months) -> InstalledBase. `customers` is a queryset of the customers
# the forecast covers; `months` the first day of each month.
Provider = Callable[[object, QuerySet, list[dt.date]], InstalledBase | None]
_PROVIDERS: list[Provider] = []


def register_installed_base(provider: Provider) -> None:
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def month_starts(first: dt.date, count: int) -> list[dt.date]:
    out, day = [], first.replace(day=1)
    for _i in range(count):
        out.append(day)
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return out


@dataclass
class MonthRow:
    month: dt.date
    open_count: int = 0
    pipeline: Decimal = Decimal(0)  # open opportunities' amounts
    weighted: Decimal = Decimal(0)  # Σ amount × probability
    won_count: int = 0
    won: Decimal = Decimal(0)  # closed as won in the month
    base_purchases: float | None = None
    base_revenue: Decimal | None = None

    @property
    def outlook(self) -> Decimal:
        """New business (weighted) plus the installed base's expected revenue."""
        return self.weighted + (self.base_revenue or Decimal(0))


@dataclass
class PersonRow:
    key: int | None
    name: str
    open_count: int = 0
    pipeline: Decimal = Decimal(0)
    weighted: Decimal = Decimal(0)
    won_count: int = 0
    won: Decimal = Decimal(0)


@dataclass
class Forecast:
    months: list[MonthRow]
    owners: list[PersonRow]
    teams: list[PersonRow]
    base: InstalledBase | None
    totals: MonthRow = field(default_factory=lambda: MonthRow(dt.date.min))


def _weighted(amount: Decimal, probability: int) -> Decimal:
    return (amount * probability / 100).quantize(CENT)


def forecast(user, filters: OpportunityFilters, months: list[dt.date]) -> Forecast:
    """The forecast over `months` (first days), for the opportunities and customers of the
    user's own scope, narrowed by owner and team (stage and close month do not apply: the
    forecast is by month over every stage)."""
    start, end = months[0], (months[-1] + dt.timedelta(days=32)).replace(day=1)
    scope = selectors.filter_opportunities(
        user, selectors.own_opportunities(user),
        OpportunityFilters(owner=filters.owner, team=filters.team))
    rows = {m: MonthRow(m) for m in months}
    owners: dict[int, PersonRow] = {}
    teams: dict[int | None, PersonRow] = {}

    def person(table, key, name) -> PersonRow:
        if key not in table:
            table[key] = PersonRow(key, name)
        return table[key]

    def add(opp, month_key, won: bool) -> None:
        row = rows[month_key]
        who = person(owners, opp.owner_id, str(opp.owner))
        team = person(teams, opp.owner.team_id,
                      str(opp.owner.team) if opp.owner.team_id else _("No team"))
        for target in (row, who, team):
            if won:
                target.won_count += 1
                target.won += opp.amount
            else:
                w = _weighted(opp.amount, opp.stage.probability)
                target.open_count += 1
                target.pipeline += opp.amount
                target.weighted += w

    for opp in scope.filter(stage__kind="open", expected_close__gte=start,
                            expected_close__lt=end):
        add(opp, opp.expected_close.replace(day=1), False)
    for opp in scope.filter(stage__kind="won", closed_on__gte=start, closed_on__lt=end):
        add(opp, opp.closed_on.replace(day=1), True)

    base = installed_base(user, filters, months)
    if base is not None and len(base.purchases) == len(months):
        for i, m in enumerate(months):
            rows[m].base_purchases = base.purchases[i]
            rows[m].base_revenue = base.revenue[i]
    out = Forecast(list(rows.values()),
                   sorted(owners.values(), key=lambda r: (-r.weighted, r.name)),
                   sorted(teams.values(), key=lambda r: (-r.weighted, r.name)), base)
    t = out.totals
    for r in out.months:
        t.open_count += r.open_count
        t.pipeline += r.pipeline
        t.weighted += r.weighted
        t.won_count += r.won_count
        t.won += r.won
        if r.base_revenue is not None:
            t.base_revenue = (t.base_revenue or Decimal(0)) + r.base_revenue
            t.base_purchases = (t.base_purchases or 0.0) + (r.base_purchases or 0.0)
    return out


def forecast_customers(user, filters: OpportunityFilters) -> QuerySet[Customer]:
    """The existing customers the forecast covers: the user's own scope, narrowed to the
    owner or team asked for."""
    qs = Customer.objects.all()
    condition = customer_filter(user, VIEW, loans=False)
    if condition is not None:
        qs = qs.filter(condition)
    if filters.owner:
        qs = qs.filter(owner_id=filters.owner)
    if filters.team:
        qs = qs.filter(team_id=filters.team)
    return qs


def installed_base(user, filters: OpportunityFilters, months: list[dt.date]
                   ) -> InstalledBase | None:
    customers = forecast_customers(user, filters)
    for provider in _PROVIDERS:
        result = provider(user, customers, months)
        if result is not None:
            return result
    return None


def chart_data(result: Forecast, money: dict) -> dict:
    """What the forecast chart draws (as text and numbers: the tooltips show text)."""
    return {
        "money": money,
        "labels": [r.month.strftime("%Y-%m") for r in result.months],
        "series": [
            {"key": "weighted", "name": _("Weighted pipeline"),
             "values": [float(r.weighted) for r in result.months]},
            {"key": "won", "name": _("Won"), "values": [float(r.won) for r in result.months]},
            {"key": "base", "name": _("Installed base (expected revenue)"),
             "values": [None if r.base_revenue is None else float(r.base_revenue)
                        for r in result.months]},
        ],
    }
