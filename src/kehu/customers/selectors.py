"""Every read of customer files a user can trigger; each one restricted to what the user
may see."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connections
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from kehu.accounts.permissions import VIEW, restrict
from kehu.core.pagination import Page, keyset_page
from kehu.customers.models import (
    SENSITIVE_CONTACT_FIELDS,
    SENSITIVE_CUSTOMER_FIELDS,
    Contact,
    Customer,
    LifecycleTransition,
    OwnerAssignment,
    Transaction,
)
from kehu.customers.search import index_term, is_word_start, query_key

SORTS = {
    "name": "name",
    "created": "created_at",
    "updated": "updated_at",
    "state": "lifecycle_state",
    "city": "city",
}


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


def customers(user, action: str = VIEW) -> QuerySet[Customer]:
    return restrict(Customer.objects.all(), user, action)


def search_customers(qs: QuerySet[Customer], q: str) -> QuerySet[Customer]:
    """Customers whose search keys contain what the user typed, found through the trigram
    index (see migration customers 0002) and then checked exactly."""
    key = query_key(q)
    if not key:
        return qs
    return index_lookup(qs, key).filter(search_text__contains=key)


def fts_phrase(text: str) -> str:
    """`text` as an FTS5 string: matched literally, whatever characters it holds."""
    return '"' + text.replace('"', '""') + '"'


def index_lookup(qs: QuerySet[Customer], key: str) -> QuerySet[Customer]:
    """Narrow `qs` through the database's search index to the customers whose search keys
    may contain `key` (never losing one); search_customers checks them exactly."""
    vendor = connections[qs.db].vendor
    term = index_term(key)
    if term is not None:
        if vendor == "sqlite":
            # The trigram table matches the term as one quoted phrase: consecutive trigrams,
            # i.e. a substring, with no wildcard in it (only " is special, written twice).
            # LIKE would read % and _ as wildcards, and LIKE ... ESCAPE bypasses the index.
            return qs.filter(pk__in=RawSQL(
                "SELECT rowid FROM customers_customer_fts WHERE customers_customer_fts "
                "MATCH %s", (fts_phrase(term),)))
        # PostgreSQL's pg_trgm index answers the exact check (LIKE) itself.
        return qs if term == key else qs.filter(search_text__contains=term)
    if not is_word_start(key):
        return qs  # e.g. "@x": scanned, there is no index for it
    if vendor == "sqlite":
        return qs.filter(pk__in=RawSQL(
            "SELECT rowid FROM customers_customer_words WHERE customers_customer_words "
            "MATCH %s", (f'"{key}"*',)))
    if vendor == "postgresql":
        return qs.filter(RawSQL("to_tsvector('simple'::regconfig, search_text) @@ "
                                "to_tsquery('simple'::regconfig, %s)", (f"{key}:*",),
                                output_field=BooleanField()))
    return qs


def filter_customers(qs: QuerySet[Customer], f: CustomerFilters) -> QuerySet[Customer]:
    if f.q.strip():
        qs = search_customers(qs, f.q)
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
    qs = filter_customers(customers(user, action), filters).prefetch_related("owner", "team",
                                                                             "value")
    return keyset_page(qs, sort=SORTS.get(sort, "name"), descending=descending, cursor=cursor,
                       limit=limit)


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


def lifecycle_history(customer: Customer) -> QuerySet[LifecycleTransition]:
    return customer.lifecycle_transitions.select_related("by")


def owner_history(customer: Customer) -> QuerySet[OwnerAssignment]:
    return customer.owner_assignments.select_related("owner", "assigned_by")


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
