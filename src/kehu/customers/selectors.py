"""Every read of customer files a user can trigger; each one restricted to what the user
may see."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Exists, FloatField, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from kehu.core.pagination import Page, keyset_page
from kehu.core.permissions import VIEW, restrict
from kehu.customers import list_counts
from kehu.customers.models import (
    SENSITIVE_CONTACT_FIELDS,
    SENSITIVE_CUSTOMER_FIELDS,
    Contact,
    Customer,
    LifecycleTransition,
    OwnerAssignment,
    StateLock,
    Transaction,
)
from kehu.customers.search_index import (
    READ_AND_SORT_CLUSTERED,
    READ_AND_SORT_SCATTERED,
    matches_read_first,
    matching,
)

SORTS = {
    "name": "name_sort",  # pinyin order for Chinese names (customers.search.sort_key)
    "created": "created_at",
    "updated": "updated_at",
    "state": "lifecycle_state",
    "city": "city",
    "clv": "sort_clv",
    "p_alive": "sort_p_alive",
    "loyalty": "sort_loyalty",
}
# Sorts in which the matches of a search cluster: names, and cities (in companies' names).
CLUSTERED_SORTS = {"name_sort", "city"}
# Sorts by a figure of the customer's value scores (the `value` relation kehu.analytics
# adds). Keyset pagination needs a sort key that is never null: a customer without the
# figure (not yet scored, never bought, no model) sorts as -1, below every real value
# (CLV, P(alive) and the loyalty index are never negative) — last from the highest down,
# first from the lowest up.
VALUE_SORTS = {"sort_clv": "value__clv", "sort_p_alive": "value__p_alive",
               "sort_loyalty": "value__loyalty_index"}
NO_FIGURE = -1.0


@dataclass
class CustomerFilters:
    q: str = ""
    state: str = ""
    owner: int | None = None
    team: int | None = None
    nature: str = ""
    service_group: str = ""
    stale: bool = False
    # By value scores (kehu.analytics): the lists marketing and sales target.
    segment: str = ""
    quadrant: str = ""
    p_alive_min: float | None = None
    p_alive_max: float | None = None
    clv_min: Decimal | None = None
    clv_max: Decimal | None = None
    at_risk: bool = False
    extra: dict = field(default_factory=dict)


def value_choices(name: str) -> list[tuple[str, str]]:
    """The choices of a field of the customer's value scores (the `value` relation the
    customer-value app adds: segment, quadrant), for the list's filters and the API. Asked
    of the relation, so that this app imports nothing from the one above it."""
    scores = Customer._meta.get_field("value").related_model
    return list(scores._meta.get_field(name).choices)


def customers(user, action: str = VIEW) -> QuerySet[Customer]:
    return restrict(Customer.objects.all(), user, action)


def customer_names(user, ids: list[int]) -> tuple[dict[int, str], set[int]]:
    """The names of those of `ids` the user may see, and which of `ids` exist at all (an
    audit page names the first, labels the others neutrally; kehu.audit.naming)."""
    visible = dict(customers(user).filter(pk__in=ids).values_list("pk", "name"))
    existing = set(Customer.objects.filter(pk__in=ids).values_list("pk", flat=True))
    return visible, existing


def search_customers(user, q: str, *, action: str = VIEW) -> QuerySet[Customer]:
    """Customers the user may take `action` on whose search keys contain what they typed."""
    return matching(customers(user, action), q)


def filter_customers(user, f: CustomerFilters, *, action: str = VIEW) -> QuerySet[Customer]:
    """Customers the user may take `action` on that pass the filters."""
    qs = customers(user, action)
    if f.q.strip():
        qs = matching(qs, f.q)
    if f.state:
        qs = qs.filter(lifecycle_state=f.state)
    if f.owner:
        qs = qs.filter(owner_id=f.owner)
    if f.team:
        qs = qs.filter(team_id=f.team)
    if f.nature:
        qs = qs.filter(nature=f.nature)
    if f.service_group:
        qs = qs.filter(service_group=f.service_group)
    if f.stale:
        qs = qs.filter(stale_q())
    for lookup, value in (("value__segment", f.segment), ("value__quadrant", f.quadrant),
                          ("value__p_alive__gte", f.p_alive_min),
                          ("value__p_alive__lte", f.p_alive_max),
                          ("value__clv__gte", f.clv_min), ("value__clv__lte", f.clv_max)):
        if value not in (None, ""):
            qs = qs.filter(**{lookup: value})
    if f.at_risk:
        qs = qs.filter(value__at_risk=True)
    return qs


# Stale data (过期数据) -------------------------------------------------------------------------

def stale_cutoff(now: datetime | None = None) -> datetime:
    """Cards whose key facts were last confirmed before this are stale."""
    return (now or timezone.now()) - timedelta(days=settings.KEHU_STALE_AFTER_DAYS)


def stale_q(now: datetime | None = None) -> Q:
    """Confirmed before the cutoff, or never confirmed and created before it (two indexed
    comparisons, so that the list can filter a million cards by it)."""
    cutoff = stale_cutoff(now)
    return Q(confirmed_at__lt=cutoff) | Q(confirmed_at__isnull=True, created_at__lt=cutoff)


def is_stale(customer: Customer, now: datetime | None = None) -> bool:
    checked = customer.confirmed_at or customer.created_at
    return checked is not None and checked < stale_cutoff(now)


def customer_page(user, filters: CustomerFilters, *, sort: str = "name",
                  descending: bool = False, cursor: str | None = None, limit: int = 50,
                  action: str = VIEW) -> Page:
    # Owners and teams come in a second, tiny query: joined into the page query, they can
    # lead the planner to read customers by owner and sort them all instead of walking the
    # sort column's index for one page.
    filtered = filter_customers(user, filters, action=action)
    qs = filtered.prefetch_related("owner", "team", "value")
    key = SORTS.get(sort, SORTS["name"])
    page = functools.partial(
        keyset_page, sort_key(qs, key).annotate(state_locked_now=Exists(_open_locks())),
        sort=key, descending=descending, cursor=cursor, limit=limit)
    if not filters.q.strip() or key in VALUE_SORTS:
        return page(counter=lambda _page: list_counts.exact_count(filtered))
    # A search: its exact count, which the page shows anyway, tells how to read the page.
    # (Sorts by a value figure join the scores and are left to the planner.)
    # Only the page's keys are found that way; its rows are then read by primary key.
    count = list_counts.exact_count(filtered)
    return page(counter=lambda _page: count, keys_within=functools.partial(
        matches_read_first, filtered, count, at_most=READ_AND_SORT_CLUSTERED
        if key in CLUSTERED_SORTS else READ_AND_SORT_SCATTERED))


def sort_key(queryset: QuerySet[Customer], key: str) -> QuerySet[Customer]:
    """`queryset` with what keyset pagination sorts by for `key` (a value of SORTS): a
    field needs nothing; a value figure is annotated, never null (VALUE_SORTS)."""
    if key not in VALUE_SORTS:
        return queryset
    return queryset.annotate(**{key: Coalesce(Cast(VALUE_SORTS[key], FloatField()),
                                              Value(NO_FIGURE), output_field=FloatField())})


def value_scores(customer: Customer):
    """The customer's value scores (the `value` relation), or None when not yet scored.
    For templates: a missing relation raises there, and Django's template engine answers
    every failed lookup with a dir() of the whole model, 1-2 ms a row of a list."""
    return getattr(customer, "value", None)


def get_customer(user, pk, action: str = VIEW) -> Customer:
    """The customer if the user may take `action` on it; Customer.DoesNotExist otherwise,
    so that callers answer 404 for customers that exist but are out of reach."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Customer.DoesNotExist from None
    return customers(user, action).select_related("owner", "team").get(pk=pk)


def contacts(user, action: str = VIEW) -> QuerySet[Contact]:
    return restrict(Contact.objects.select_related("customer"), user, action)


def transactions(user, action: str = VIEW) -> QuerySet[Transaction]:
    return restrict(Transaction.objects.select_related("customer"), user, action)


def lifecycle_history(user, customer: Customer) -> QuerySet[LifecycleTransition]:
    return restrict(customer.lifecycle_transitions.select_related("by"), user, VIEW)


def owner_history(user, customer: Customer) -> QuerySet[OwnerAssignment]:
    return restrict(customer.owner_assignments.select_related("owner", "assigned_by"), user,
                    VIEW)


def change_history(user, customer: Customer, limit: int = 200) -> list[dict]:
    """Field-level changes of the card, newest first, without sensitive values for users
    outside the sensitive tier."""
    hidden = set() if user.sees_sensitive else set(SENSITIVE_CUSTOMER_FIELDS)
    records = list(customer.history.select_related("history_user")
                   .order_by("-history_date", "-history_id")[:limit + 1])
    out = []
    for newer, older in zip(records, records[1:] + [None], strict=False):
        entry = {"at": newer.history_date, "user": newer.history_user,
                 "reason": newer.history_change_reason or "", "type": newer.history_type,
                 "changes": []}
        if older is not None:
            delta = newer.diff_against(older)
            for change in delta.changes:
                if change.field in {"version", "updated_by", "search_text"}:
                    continue
                sensitive = change.field in hidden
                entry["changes"].append({
                    "field": Customer._meta.get_field(change.field).verbose_name,
                    "old": None if sensitive else change.old,
                    "new": None if sensitive else change.new,
                    "hidden": sensitive,
                })
        out.append(entry)
    return out[:limit]


def visible_contact_fields(user) -> set[str]:
    return set() if user.sees_sensitive else set(SENSITIVE_CONTACT_FIELDS)


def _open_locks():
    return (StateLock.objects.filter(customer=OuterRef("pk"), unlocked_at__isnull=True)
            .exclude(until__lt=timezone.localdate()))


def state_locked(user, customer: Customer) -> bool:
    """Whether the customer's lifecycle state is locked today (a page of the list carries
    the answer already)."""
    known = getattr(customer, "state_locked_now", None)
    if known is not None:
        return bool(known)
    return state_lock(user, customer) is not None


def state_lock(user, customer: Customer) -> StateLock | None:
    """The lock on the customer's lifecycle state in force today, if the user may see the
    customer."""
    return (restrict(StateLock.objects.filter(customer=customer, unlocked_at__isnull=True)
                     .exclude(until__lt=timezone.localdate()), user, VIEW)
            .select_related("locked_by").first())
