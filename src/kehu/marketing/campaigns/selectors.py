"""Reads of campaigns and target lists, each limited to the user's scope: the campaigns and
lists of the owners whose customers the user sees (kehu.core.permissions OWNED_PATHS), and
of a list's members only the customers the user may see. Results add up the campaign's
contacts and what they bought within the attribution window."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from kehu.core.pagination import Page, keyset_page
from kehu.core.permissions import VIEW, customer_filter, owned_filter, restrict
from kehu.customers.models import Customer, Transaction, TransactionKind
from kehu.marketing.campaigns import criteria as criteria_module
from kehu.marketing.campaigns import uplift
from kehu.marketing.campaigns.models import (
    Campaign,
    CampaignContact,
    CampaignStatus,
    ContactGroup,
    ContactOutcome,
    ListKind,
    TargetList,
    TargetListMember,
)
from kehu.marketing.consent.models import MarketingSend
from kehu.marketing.offers.selectors import redemption_counts
from kehu.sales.models import Activity, ActivityKind

# What the campaigns' e-mails are recorded as in the send service (MarketingSend.origin).
SEND_ORIGIN = "campaign"

# Activities that are a conversation with the customer: a response to a campaign when it
# falls in the attribution window (notes and to-dos are not).
CONVERSATIONS = (ActivityKind.CALL, ActivityKind.VISIT, ActivityKind.MEETING,
                 ActivityKind.EMAIL)
LIST_SORTS = ("created_at", "name")
CAMPAIGN_SORTS = ("starts_on", "name", "created_at")


def _reaching(model, user, rows: QuerySet, field: str) -> QuerySet:
    """The records of `model` the user sees: those of the owners in the user's scope (like
    a lead's), and those that hold a customer of the user's own scope (`rows`: the contacts
    or members, `field`: their record) — a salesperson sees the campaigns that reached
    their customers."""
    owned = owned_filter(user, VIEW)
    if owned is None:
        return model.objects.all()
    reach = customer_filter(user, VIEW, "customer__", loans=False)
    reached = rows if reach is None else rows.filter(reach)
    return model.objects.filter(owned | Q(pk__in=reached.values(field)))


def campaigns(user, action: str = VIEW) -> QuerySet[Campaign]:
    """Campaigns the user may read (VIEW), or those whose customers' scope they act on."""
    qs = (_reaching(Campaign, user, CampaignContact.objects.all(), "campaign_id")
          if action == VIEW else restrict(Campaign.objects.all(), user, action))
    return qs.select_related("owner", "target_list", "team")


def get_campaign(user, pk: int) -> Campaign:
    """The campaign if the user may see it; Campaign.DoesNotExist (404) otherwise."""
    return campaigns(user).get(pk=pk)


def target_lists(user, action: str = VIEW) -> QuerySet[TargetList]:
    """Target lists the user may read: their owner's scope, or (frozen) holding a customer
    of the user's scope."""
    qs = (_reaching(TargetList, user, TargetListMember.objects.all(), "target_list_id")
          if action == VIEW else restrict(TargetList.objects.all(), user, action))
    return qs.select_related("owner", "team")


def get_target_list(user, pk: int) -> TargetList:
    return target_lists(user).get(pk=pk)


@dataclass
class CampaignFilters:
    q: str = ""
    kind: str = ""
    status: str = ""
    owner: int | None = None


def campaign_page(user, filters: CampaignFilters, *, sort: str = "starts_on",
                  descending: bool = True, cursor: str | None = None,
                  limit: int = 50) -> Page:
    qs = campaigns(user)
    if filters.q.strip():
        qs = qs.filter(name__icontains=filters.q.strip())
    for name in ("kind", "status"):
        if getattr(filters, name):
            qs = qs.filter(**{name: getattr(filters, name)})
    if filters.owner:
        qs = qs.filter(owner_id=filters.owner)
    return keyset_page(qs, sort=sort if sort in CAMPAIGN_SORTS else "starts_on",
                       descending=descending, cursor=cursor, limit=limit)


@dataclass
class ListFilters:
    q: str = ""
    kind: str = ""
    owner: int | None = None


def target_list_page(user, filters: ListFilters, *, sort: str = "created_at",
                     descending: bool = True, cursor: str | None = None,
                     limit: int = 50) -> Page:
    qs = target_lists(user)
    if filters.q.strip():
        qs = qs.filter(name__icontains=filters.q.strip())
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.owner:
        qs = qs.filter(owner_id=filters.owner)
    return keyset_page(qs, sort=sort if sort in LIST_SORTS else "created_at",
                       descending=descending, cursor=cursor, limit=limit)


# Members ---------------------------------------------------------------------------------

def scope(user) -> QuerySet[Customer]:
    """The customers of the user's own scope (a customer lent to the user is one file to
    read, never a campaign's audience)."""
    condition = customer_filter(user, VIEW, loans=False)
    qs = Customer.objects.all()
    return qs if condition is None else qs.filter(condition)


def matching(user, criteria: dict) -> QuerySet[Customer]:
    """The customers of the user's scope a (cleaned) filter matches."""
    return criteria_module.matching(scope(user), criteria)


def members(user, target_list: TargetList) -> QuerySet[Customer]:
    """The list's customers that the user may see: a dynamic list's whoever matches its
    filter now, a frozen list's those stored when it was frozen."""
    if target_list.kind == ListKind.FROZEN:
        return scope(user).filter(target_list_memberships__target_list=target_list)
    return matching(user, target_list.criteria)


def count(user, target_list: TargetList) -> int:
    """The exact number of the list's customers the user may see."""
    return members(user, target_list).count()


def counts(user, target_lists) -> dict[int, int]:
    """count() of each list, by id, in one query whatever the number of lists: a page of
    lists counts its members at the cost of one list."""
    lists = list(target_lists)
    if not lists:
        return {}
    sums = {}
    for tl in lists:
        condition = (Q(pk__in=TargetListMember.objects.filter(target_list_id=tl.pk)
                       .values("customer_id"))
                     if tl.kind == ListKind.FROZEN else criteria_module.condition(tl.criteria))
        # A dynamic list without a filter holds the whole scope.
        sums[f"list_{tl.pk}"] = Count("pk", filter=condition) if condition else Count("pk")
    found = scope(user).aggregate(**sums)
    return {tl.pk: found[f"list_{tl.pk}"] for tl in lists}


def member_page(user, target_list: TargetList, *, cursor: str | None = None,
                limit: int = 50) -> Page:
    qs = members(user, target_list).select_related("owner", "value")
    return keyset_page(qs, sort="name_sort", cursor=cursor, limit=limit)


def contacts(user, campaign: Campaign) -> QuerySet[CampaignContact]:
    """The campaign's contacts whose customers the user may see."""
    return restrict(CampaignContact.objects.filter(campaign=campaign), user, VIEW)


def contact_page(user, campaign: Campaign, *, cursor: str | None = None,
                 limit: int = 50) -> Page:
    qs = contacts(user, campaign).select_related("customer", "task")
    return keyset_page(qs, sort="id", cursor=cursor, limit=limit)


def campaigns_of(user, customer: Customer) -> QuerySet[CampaignContact]:
    """The campaigns that reached one customer (the user may see), newest first."""
    return (restrict(CampaignContact.objects.filter(customer=customer), user, VIEW)
            .filter(campaign__in=campaigns(user)).select_related("campaign")
            .order_by("-contacted_at", "-id"))


# Results ---------------------------------------------------------------------------------

@dataclass
class GroupFigures:
    customers: int
    responses: int
    conversions: int
    revenue: Decimal
    coupons: int = 0  # coupons (kehu.marketing.offers) redeemed within the window
    discount: Decimal = Decimal(0)  # what those coupons took off

    @property
    def response_rate(self) -> float | None:
        return self.responses / self.customers if self.customers else None

    @property
    def conversion_rate(self) -> float | None:
        return self.conversions / self.customers if self.customers else None

    @property
    def revenue_per_customer(self) -> Decimal | None:
        return (self.revenue / self.customers).quantize(Decimal("0.01")) \
            if self.customers else None


@dataclass
class Results:
    campaign: Campaign
    window_start: dt.date
    window_end: dt.date
    window_open: bool  # the window has not ended yet: figures may still grow
    treated: GroupFigures
    holdout: GroupFigures
    outcomes: dict[str, int]  # ContactOutcome -> contacts
    cost: Decimal
    conversion_uplift: uplift.Interval | None
    response_uplift: uplift.Interval | None
    revenue_uplift: uplift.Interval | None  # per customer
    sends: dict[str, int]  # the campaign's e-mails by send status (consent.SendStatus)

    @property
    def cost_per_response(self) -> Decimal | None:
        if not self.treated.responses:
            return None
        return (self.cost / self.treated.responses).quantize(Decimal("0.01"))

    @property
    def roi(self) -> float | None:
        """(Revenue attributed to the contacted − cost) / cost."""
        if not self.cost:
            return None
        return float((self.treated.revenue - self.cost) / self.cost)

    @property
    def incremental_revenue(self) -> Decimal | None:
        """Revenue the campaign caused: the revenue uplift per customer times the customers
        contacted."""
        if self.revenue_uplift is None:
            return None
        return Decimal(str(round(self.revenue_uplift.estimate * self.treated.customers, 2)))

    @property
    def incremental_roi(self) -> float | None:
        """(Incremental revenue − cost) / cost: the return the campaign caused."""
        if not self.cost or self.incremental_revenue is None:
            return None
        return float((self.incremental_revenue - self.cost) / self.cost)


def _attribution_window(campaign: Campaign) -> tuple[dt.date, dt.date] | None:
    """The days whose purchases count for the campaign: from the day of the contact to
    `attribution_days` after it, both included; None before it is launched."""
    if campaign.launched_at is None:
        return None
    start = timezone.localdate(campaign.launched_at)
    return start, start + dt.timedelta(days=campaign.attribution_days)


def results(user, campaign: Campaign, *, today: dt.date | None = None) -> Results | None:
    """The campaign's results (it must be one the user may see), or None before launch.

    Figures add up all the campaign's contacts — counts and sums, never names — so that
    everyone who may read the campaign reads the same results. A customer converts when
    they buy (an order or invoice of a positive amount) within the window; they respond
    when they buy, return or have a conversation with us (a call, visit, meeting or
    e-mail on their timeline) within it. Revenue is the sum of their transactions in the
    window, returns subtracted."""
    window = _attribution_window(campaign)
    if window is None:
        return None
    campaigns(user).get(pk=campaign.pk)  # the user must see the campaign
    start, end = window
    rows = list(CampaignContact.objects.filter(campaign=campaign)
                .values_list("customer_id", "group", "outcome"))
    ids = [r[0] for r in rows]
    revenue: dict[int, Decimal] = {}
    bought: set[int] = set()
    talked: set[int] = set()
    chunk = 5000
    for i in range(0, len(ids), chunk):
        part = ids[i:i + chunk]
        for cid, total, orders in (
                Transaction.objects.filter(customer_id__in=part, date__gte=start,
                                           date__lte=end)
                .values("customer_id").order_by()
                .annotate(total=Sum("amount"),
                          orders=Count("pk", filter=Q(
                              amount__gt=0, kind__in=[TransactionKind.ORDER,
                                                      TransactionKind.INVOICE])))
                .values_list("customer_id", "total", "orders")):
            revenue[cid] = (total or Decimal(0)).quantize(Decimal("0.01"))
            if orders:
                bought.add(cid)
        end_time = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1),
                                                           dt.time()))
        talked.update(Activity.objects.filter(
            customer_id__in=part, kind__in=CONVERSATIONS,
            occurred_at__gte=campaign.launched_at, occurred_at__lt=end_time)
            .values_list("customer_id", flat=True).distinct())
    coupons = redemption_counts(user, ids, start, end)
    groups: dict[str, list[int]] = {ContactGroup.TREATED: [], ContactGroup.HOLDOUT: []}
    outcomes: dict[str, int] = {}
    for cid, group, outcome in rows:
        groups[group].append(cid)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1

    def figures(members: list[int]) -> GroupFigures:
        return GroupFigures(
            customers=len(members),
            responses=sum(1 for c in members if c in revenue or c in talked),
            conversions=sum(1 for c in members if c in bought),
            revenue=sum((revenue.get(c, Decimal(0)) for c in members), Decimal(0)),
            coupons=sum(coupons[c][0] for c in members if c in coupons),
            discount=sum((coupons[c][1] for c in members if c in coupons), Decimal(0)))

    treated = figures(groups[ContactGroup.TREATED])
    holdout = figures(groups[ContactGroup.HOLDOUT])
    today = today or timezone.localdate()
    cost = campaign.cost if campaign.cost is not None else campaign.budget
    return Results(
        campaign=campaign, window_start=start, window_end=end, window_open=today <= end,
        treated=treated, holdout=holdout,
        outcomes={o.value: outcomes.get(o.value, 0) for o in ContactOutcome},
        sends=send_counts(user, campaign),
        cost=cost or Decimal(0),
        conversion_uplift=uplift.rate_difference(treated.conversions, treated.customers,
                                                 holdout.conversions, holdout.customers),
        response_uplift=uplift.rate_difference(treated.responses, treated.customers,
                                               holdout.responses, holdout.customers),
        revenue_uplift=uplift.mean_difference(
            [float(revenue.get(c, 0)) for c in groups[ContactGroup.TREATED]],
            [float(revenue.get(c, 0)) for c in groups[ContactGroup.HOLDOUT]]))


def send_counts(user, campaign: Campaign) -> dict[str, int]:
    """The campaign's e-mails by what became of them when the send service sent them
    (sent, or held back and why): counts, never names, like the results."""
    campaigns(user).get(pk=campaign.pk)  # the user must see the campaign
    return dict(MarketingSend.objects.filter(origin=SEND_ORIGIN, origin_id=campaign.pk)
                .values("status").order_by().annotate(n=Count("pk"))
                .values_list("status", "n"))


def running(user) -> QuerySet[Campaign]:
    return campaigns(user).filter(status=CampaignStatus.RUNNING)
