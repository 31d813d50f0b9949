"""Reads of leads, each limited to the leads in the user's scope (a salesperson their own,
a manager the team's, an admin all), and the funnel built from them."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Min, QuerySet
from django.utils import timezone

from kehu.core.pagination import Page, keyset_page
from kehu.core.permissions import VIEW, restrict
from kehu.customers.models import Customer, Transaction, TransactionKind
from kehu.sales.leads import man
from kehu.sales.leads.models import Lead, LeadStatus, ManJudgement

SORTS = ("created_at", "score", "name")


def leads(user, action: str = VIEW) -> QuerySet[Lead]:
    return restrict(Lead.objects.select_related("owner", "referrer", "customer"), user, action)


def get_lead(user, pk: int, action: str = VIEW) -> Lead:
    """The lead if the user may see it; Lead.DoesNotExist (404) otherwise."""
    return leads(user, action).get(pk=pk)


@dataclass
class LeadFilters:
    q: str = ""
    action: str = ""
    status: str = ""
    source: str = ""
    owner: int | None = None


def filtered(user, filters: LeadFilters) -> QuerySet[Lead]:
    qs = leads(user)
    if filters.q:
        qs = qs.filter(name__icontains=filters.q) | qs.filter(
            contact_name__icontains=filters.q)
    if filters.action:
        qs = qs.filter(action=filters.action)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.source:
        qs = qs.filter(source=filters.source)
    if filters.owner:
        qs = qs.filter(owner_id=filters.owner)
    return qs


def lead_page(user, filters: LeadFilters, *, sort: str = "created_at",
              descending: bool = True, cursor: str | None = None, limit: int = 50) -> Page:
    return keyset_page(filtered(user, filters), sort=sort, descending=descending,
                       cursor=cursor, limit=limit)


def queue_counts(user, *, open_only: bool = True) -> dict[str, int]:
    """How many leads of the user's scope wait in each action's queue (converted leads have
    left the queues)."""
    qs = leads(user)
    if open_only:
        qs = qs.exclude(status=LeadStatus.CONVERTED)
    counts = dict(qs.values("action").annotate(n=Count("pk")).values_list("action", "n")
                  .order_by())
    return {code: counts.get(code, 0) for code in man.QUEUE_ORDER}


def judgements(user, lead: Lead) -> QuerySet[ManJudgement]:
    """The lead's judgement history, newest first (the lead must be in the user's scope)."""
    return ManJudgement.objects.filter(lead__in=leads(user).filter(pk=lead.pk)).select_related(
        "judged_by")


# The funnel -------------------------------------------------------------------------------

STEPS = ("leads", "qualified", "converted", "first_purchase")


@dataclass
class FunnelRow:
    """One source, owner or month: how many leads reached each step, and the median days
    between the steps."""

    key: str
    label: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STEPS, 0))
    days: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def rate(self, step: str) -> float | None:
        """The share of the previous step that reached `step` (percent)."""
        i = STEPS.index(step)
        before = self.counts[STEPS[i - 1]]
        return None if not before else 100.0 * self.counts[step] / before

    @property
    def overall(self) -> float | None:
        return None if not self.counts["leads"] else (
            100.0 * self.counts["first_purchase"] / self.counts["leads"])

    def median_days(self, step: str) -> float | None:
        values = self.days.get(step) or []
        return statistics.median(values) if values else None

    @property
    def steps(self) -> list[dict]:
        return [{"step": s, "count": self.counts[s],
                 "rate": self.rate(s) if i else None,
                 "median_days": self.median_days(s) if i else None}
                for i, s in enumerate(STEPS)]


@dataclass
class Funnel:
    by: str
    total: FunnelRow
    rows: list[FunnelRow]


def _days(a: dt.datetime | dt.date, b: dt.datetime | dt.date) -> float:
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return max(0.0, (b - a).total_seconds() / 86400)
    da = timezone.localdate(a) if isinstance(a, dt.datetime) else a
    db = timezone.localdate(b) if isinstance(b, dt.datetime) else b
    return float(max(0, (db - da).days))


def funnel(user, *, by: str = "source", since: dt.date | None = None,
           until: dt.date | None = None) -> Funnel:
    """Leads of the user's scope created in [since, until], grouped by source, owner or month
    of creation: how many were ever qualified, converted into a (target) customer, and made
    a first purchase (the customer's first order on or after the conversion), the rate from
    each step to the next and the median days between them."""
    from kehu.sales.leads.models import LeadSource

    qs = leads(user)
    if since:
        qs = qs.filter(created_at__date__gte=since)
    if until:
        qs = qs.filter(created_at__date__lte=until)
    rows = list(qs.values("pk", "source", "owner_id", "owner__username", "created_at",
                          "qualified_at", "converted_at", "customer_id"))
    customer_ids = [r["customer_id"] for r in rows if r["customer_id"]]
    first_order = dict(Transaction.objects.filter(
        customer_id__in=customer_ids, kind=TransactionKind.ORDER).values("customer_id")
        .annotate(first=Min("date")).values_list("customer_id", "first").order_by())
    sources = dict(LeadSource.choices)
    total = FunnelRow("", "")
    groups: dict[str, FunnelRow] = {}
    for r in rows:
        if by == "owner":
            key, label = str(r["owner_id"]), r["owner__username"]
        elif by == "month":
            key = timezone.localtime(r["created_at"]).strftime("%Y-%m")
            label = key
        else:
            key, label = r["source"], str(sources.get(r["source"], r["source"]))
        group = groups.setdefault(key, FunnelRow(key, label))
        first = first_order.get(r["customer_id"])
        converted = r["converted_at"]
        if first is not None and converted is not None and first < timezone.localdate(
                converted):
            first = None  # bought before it was ours: not a purchase of the lead
        for target in (group, total):
            target.counts["leads"] += 1
            if r["qualified_at"]:
                target.counts["qualified"] += 1
                target.days["qualified"].append(_days(r["created_at"], r["qualified_at"]))
            if converted:
                target.counts["converted"] += 1
                target.days["converted"].append(
                    _days(r["qualified_at"] or r["created_at"], converted))
            if first is not None:
                target.counts["first_purchase"] += 1
                target.days["first_purchase"].append(_days(converted, first))
    ordered = sorted(groups.values(), key=lambda g: g.key if by == "month"
                     else (-g.counts["leads"], g.label))
    return Funnel(by=by, total=total, rows=ordered)


def sources_count(user) -> Counter:
    return Counter(dict(leads(user).values("source").annotate(n=Count("pk"))
                        .values_list("source", "n").order_by()))


def shown_relations(user, lead: Lead) -> tuple[Customer | None, Customer | None]:
    """The customer who referred the lead and the customer it became, each only if the user
    may see that customer: one out of reach is never named on the lead's pages."""
    ids = [i for i in (lead.referrer_id, lead.customer_id) if i]
    visible = set(restrict(Customer.objects.filter(pk__in=ids), user, VIEW)
                  .values_list("pk", flat=True)) if ids else set()
    return (lead.referrer if lead.referrer_id in visible else None,
            lead.customer if lead.customer_id in visible else None)
