"""Every read of owner continuity and the service–profit chain, limited to the customers
the user may see in their own scope (a customer lent to them is one file to read, not part
of the figures)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from kehu.analytics.key_accounts import key_customers
from kehu.analytics.models import CustomerValue
from kehu.core.permissions import VIEW, customer_filter
from kehu.customers.models import Customer, LifecycleState, OwnerAssignment
from kehu.service.chain import continuity, figures
from kehu.service.chain.models import ChainSettings
from kehu.service.sla.models import SlaTarget
from kehu.service.surveys.models import SurveyResponse
from kehu.service.tickets.models import ACTIVE_STATUSES, Ticket, TicketKind, TicketStatus
from kehu.service.tickets.selectors import SLA_FILTERS

WINDOW_DAYS = 730  # "the last two years"
SATISFIED_CSAT = 4  # of 5: "satisfied" or "very satisfied"
BUYER_STATES = (LifecycleState.FIRST_PURCHASE, LifecycleState.REPEAT_PURCHASE,
                LifecycleState.LOYAL, LifecycleState.CHURNED)


def _scope(user, prefix: str = "") -> Q:
    condition = customer_filter(user, VIEW, prefix, loans=False)
    return Q() if condition is None else condition


def _service_handlers(customer_q: Q, since: dt.datetime) -> dict[int, list[tuple]]:
    """Each customer's tickets opened in the window as (opened at, assignee id): the person
    handling them is the customer's service contact."""
    out: dict[int, list[tuple]] = defaultdict(list)
    rows = (Ticket.objects.filter(customer_q, opened_at__gt=since, assignee__isnull=False)
            .values_list("customer_id", "opened_at", "assignee_id"))
    for customer_id, opened_at, assignee_id in rows:
        out[customer_id].append((opened_at, assignee_id))
    return out


def _satisfaction(customer_q: Q) -> dict[int, bool]:
    """Each customer's latest answer to the satisfaction question: satisfied (4 or 5 of 5)
    or not."""
    out: dict[int, bool] = {}
    rows = (SurveyResponse.objects.filter(customer_q, csat__isnull=False)
            .order_by("customer_id", "answered_at", "id").values_list("customer_id", "csat"))
    for customer_id, csat in rows:
        out[customer_id] = csat >= SATISFIED_CSAT  # the latest answer wins
    return out


def customer_facts(user, *, now: dt.datetime | None = None) -> list[figures.Facts]:
    """The facts of every customer in the user's own scope that the chain is made of."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=WINDOW_DAYS)
    customer_q = _scope(user, "customer__")
    periods = continuity.periods(customer_q, since)
    handlers = _service_handlers(customer_q, since)
    satisfied = _satisfaction(customer_q)
    values = {pk: (value, clv) for pk, value, clv in CustomerValue.objects.filter(customer_q)
              .values_list("customer_id", "net_contribution_12m", "clv")}
    out = []
    for pk, state in Customer.objects.filter(_scope(user)).values_list("pk",
                                                                       "lifecycle_state"):
        own = periods.get(pk, [])
        current = max((p[0] for p in own), default=now)
        value, clv = values.get(pk, (None, None))
        out.append(figures.Facts(
            customer_id=pk,
            owner_changes=figures.owner_changes(own, since),
            service_changes=figures.contact_changes(handlers.get(pk, []), since),
            tenure_days=max(0, (now - current).days),
            bought=state in BUYER_STATES,
            retained=state in BUYER_STATES and state != LifecycleState.CHURNED,
            satisfied=satisfied.get(pk),
            value=float(value) if value is not None else None,
            clv=float(clv) if clv is not None else None))
    return out


@dataclass
class Chain:
    continuity: list[figures.Band]
    tenure: list[figures.Band]
    customers: int
    answered: int  # customers with a survey answer

    def band(self, key: str) -> figures.Band:
        return next(b for b in self.continuity + self.tenure if b.key == key)


def chain_figures(user, *, now: dt.datetime | None = None) -> Chain:
    facts = customer_facts(user, now=now)
    return Chain(continuity=figures.by_continuity(facts), tenure=figures.by_tenure(facts),
                 customers=len(facts), answered=sum(f.satisfied is not None for f in facts))


@dataclass
class Flag:
    customer: Customer
    changes: int
    periods: list[OwnerAssignment]
    why_key: str


def continuity_flags(user, *, now: dt.datetime | None = None,
                     customer: Customer | None = None) -> list[Flag]:
    """Key customers in the user's own scope whose owner changed at least twice in the last
    twelve months, the most changes first (or only `customer`'s flag, if it has one)."""
    now = now or timezone.now()
    customer_q = _scope(user, "customer__")
    if customer is not None:
        customer_q &= Q(customer_id=customer.pk)
    changes = continuity.changes_in_year(customer_q, now)
    if not changes:
        return []
    keys = key_customers(Customer.objects.filter(pk__in=list(changes)))
    if not keys:
        return []
    since = now - dt.timedelta(days=continuity.FLAG_WINDOW_DAYS)
    periods: dict[int, list[OwnerAssignment]] = defaultdict(list)
    for period in (OwnerAssignment.objects.filter(customer_id__in=list(keys))
                   .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=since))
                   .select_related("owner", "assigned_by").order_by("started_at", "id")):
        periods[period.customer_id].append(period)
    customers = Customer.objects.filter(pk__in=list(keys)).select_related("owner", "team")
    flags = [Flag(customer=c, changes=changes[c.pk], periods=periods[c.pk], why_key=keys[c.pk])
             for c in customers]
    flags.sort(key=lambda f: (-f.changes, f.customer.name_sort, f.customer.pk))
    return flags


def chain_settings(user) -> ChainSettings:
    """The chain's settings (the silent-dissatisfied factor): firm-wide, no customer's."""
    return ChainSettings.current()


# The service dashboard ----------------------------------------------------------------------

DASHBOARD_MONTHS = 12
FCR_DAYS = 90


@dataclass
class Month:
    month: dt.date
    tickets: int = 0
    complaints: int = 0
    silent: int = 0  # complaints × the factor
    csat: float | None = None  # share of answers satisfied (4 or 5 of 5), in per cent
    nps: float | None = None  # promoters minus detractors, in per cent


@dataclass
class Dashboard:
    open_tickets: int
    waiting: int
    unassigned: int
    open_complaints: int
    complaints_30d: int
    complaints_12m: int
    factor: int
    resolved_90d: int
    first_contact_90d: int
    flags: int
    months: list[Month]
    # Tickets past their service-level targets (None: no targets are kept).
    breaching: int | None = None
    has_surveys: bool = False

    @property
    def silent_30d(self) -> int:
        return self.complaints_30d * self.factor

    @property
    def silent_12m(self) -> int:
        return self.complaints_12m * self.factor

    @property
    def first_contact_rate(self) -> float | None:
        return figures.pct(self.first_contact_90d, self.resolved_90d)


def _month_starts(today: dt.date, n: int) -> list[dt.date]:
    first = today.replace(day=1)
    out = []
    for _i in range(n):
        out.append(first)
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return out[::-1]


def service_dashboard(user, *, now: dt.datetime | None = None) -> Dashboard:
    """What a manager reads about the service of their own scope: the tickets being worked,
    the complaints and the silent dissatisfied customers they stand for (complaints × the
    admin's factor, seed 000), first-contact resolution, and the months' trend."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    tickets = Ticket.objects.filter(_scope(user, "customer__"))
    active = tickets.filter(status__in=ACTIVE_STATUSES).aggregate(
        open=Count("pk"), waiting=Count("pk", filter=Q(status=TicketStatus.WAITING)),
        unassigned=Count("pk", filter=Q(assignee__isnull=True)),
        complaints=Count("pk", filter=Q(kind=TicketKind.COMPLAINT)),
        breaching=Count("pk", filter=SLA_FILTERS["breached"]))
    months = _month_starts(today, DASHBOARD_MONTHS)
    start = timezone.make_aware(dt.datetime.combine(months[0], dt.time()))
    by_month = {m: Month(m) for m in months}
    rows = (tickets.filter(opened_at__gte=start)
            .annotate(month=TruncMonth("opened_at", tzinfo=timezone.get_current_timezone()))
            .values("month").annotate(n=Count("pk"),
                                      complaints=Count("pk", filter=Q(kind=TicketKind.COMPLAINT)))
            .values_list("month", "n", "complaints"))
    factor = ChainSettings.current().silent_factor
    for month, n, complaints in rows:
        day = month.date() if isinstance(month, dt.datetime) else month
        if day in by_month:
            by_month[day].tickets += n
            by_month[day].complaints += complaints
    for m in by_month.values():
        m.silent = m.complaints * factor
    recent = tickets.filter(kind=TicketKind.COMPLAINT).aggregate(
        d30=Count("pk", filter=Q(opened_at__gt=now - dt.timedelta(days=30))),
        y1=Count("pk", filter=Q(opened_at__gt=now - dt.timedelta(days=365))))
    answers = (SurveyResponse.objects.filter(_scope(user, "customer__"), answered_at__gte=start)
               .annotate(month=TruncMonth("answered_at",
                                          tzinfo=timezone.get_current_timezone()))
               .values("month")
               .annotate(rated=Count("pk", filter=Q(csat__isnull=False)),
                         satisfied=Count("pk", filter=Q(csat__gte=SATISFIED_CSAT)),
                         scored=Count("pk", filter=Q(nps__isnull=False)),
                         promoters=Count("pk", filter=Q(nps__gte=9)),
                         detractors=Count("pk", filter=Q(nps__lte=6)))
               .values_list("month", "rated", "satisfied", "scored", "promoters",
                            "detractors"))
    has_surveys = False
    for month, rated, satisfied, scored, promoters, detractors in answers:
        day = month.date() if isinstance(month, dt.datetime) else month
        if day in by_month:
            has_surveys = has_surveys or bool(rated or scored)
            by_month[day].csat = figures.pct(satisfied, rated)
            if scored:
                by_month[day].nps = round(100.0 * (promoters - detractors) / scored, 1)
    resolved = tickets.filter(resolved_at__gt=now - dt.timedelta(days=FCR_DAYS)).aggregate(
        n=Count("pk"), first=Count("pk", filter=Q(first_contact_resolution=True)))
    return Dashboard(
        open_tickets=active["open"], waiting=active["waiting"],
        unassigned=active["unassigned"], open_complaints=active["complaints"],
        complaints_30d=recent["d30"], complaints_12m=recent["y1"], factor=factor,
        resolved_90d=resolved["n"], first_contact_90d=resolved["first"],
        flags=len(continuity_flags(user, now=now)), months=list(by_month.values()),
        breaching=active["breaching"] if SlaTarget.objects.exists() else None,
        has_surveys=has_surveys)
