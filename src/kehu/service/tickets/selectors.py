"""Reads of tickets, each scoped to what the user may see (a ticket is in its customer's
scope, kehu.core.permissions)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When

from kehu.core.permissions import VIEW, restrict
from kehu.service.tickets.models import (
    ACTIVE_STATUSES,
    PRIORITY_RANK,
    StatusChange,
    Ticket,
    TicketCategory,
    TicketEntry,
    parse_number,
    waiting_intervals,
)

# The queue's sorts: key -> ordering.
SORTS = {
    "priority": ("priority_rank", "opened_at", "id"),
    "oldest": ("opened_at", "id"),
    "newest": ("-opened_at", "-id"),
    "updated": ("-updated_at", "-id"),
    # Service levels (kehu.service.sla): the next target's due time, the paused clocks after
    # the running ones by the working time they have left, tickets without a clock last.
    "time_left": (F("sla__next_due").asc(nulls_last=True),
                  F("sla__minutes_left").asc(nulls_last=True), "opened_at", "id"),
}
# The queue's filter by service level: key -> condition on the ticket's clock.
SLA_FILTERS = {
    "breached": Q(sla__first_response_state="breached") | Q(sla__resolution_state="breached"),
    "at_risk": Q(sla__first_response_state="at_risk") | Q(sla__resolution_state="at_risk"),
    "paused": Q(sla__paused=True),
    "missed": Q(sla__first_response_state="missed") | Q(sla__resolution_state="missed"),
}


@dataclass
class TicketFilters:
    q: str = ""  # subject, customer name or the ticket's number (T-00042)
    status: str = ""  # a TicketStatus, "active" (new, in progress, waiting) or "" (all)
    kind: str = ""
    priority: str = ""
    category: int | None = None
    assignee: int | None = None  # a user's id
    unassigned: bool = False
    mine: bool = False
    customer: int | None = None
    sort: str = "priority"
    sla: str = ""  # a key of SLA_FILTERS: breached, about to breach, paused, missed


def tickets(user, action: str = VIEW) -> QuerySet[Ticket]:
    return restrict(Ticket.objects.select_related("customer", "contact", "category",
                                                  "assignee", "sla"), user, action)


def ticket(user, pk: int, action: str = VIEW) -> Ticket:
    """One ticket the user may see (Ticket.DoesNotExist otherwise, which views turn into 404)."""
    return tickets(user, action).select_related("created_by", "updated_by").get(pk=pk)


def _ranked(qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return qs.annotate(priority_rank=Case(
        *[When(priority=p, then=Value(r)) for p, r in PRIORITY_RANK.items()],
        default=Value(9), output_field=IntegerField()))


def queue(user, filters: TicketFilters) -> QuerySet[Ticket]:
    """The tickets a user works through, filtered and sorted."""
    qs = _ranked(tickets(user))
    if filters.q:
        number = parse_number(filters.q)
        text = Q(subject__icontains=filters.q) | Q(customer__name__icontains=filters.q)
        if number is not None:
            text |= Q(pk=number)
        elif filters.q.strip().isdigit():
            text |= Q(pk=int(filters.q.strip()))
        qs = qs.filter(text)
    if filters.status == "active":
        qs = qs.filter(status__in=ACTIVE_STATUSES)
    elif filters.status:
        qs = qs.filter(status=filters.status)
    for field in ("kind", "priority"):
        if getattr(filters, field):
            qs = qs.filter(**{field: getattr(filters, field)})
    if filters.category:
        qs = qs.filter(category_id=filters.category)
    if filters.unassigned:
        qs = qs.filter(assignee__isnull=True)
    elif filters.mine:
        qs = qs.filter(assignee_id=user.pk)
    elif filters.assignee:
        qs = qs.filter(assignee_id=filters.assignee)
    if filters.customer:
        qs = qs.filter(customer_id=filters.customer)
    if filters.sla in SLA_FILTERS:
        qs = qs.filter(SLA_FILTERS[filters.sla])
    return qs.order_by(*SORTS.get(filters.sort, SORTS["priority"]))


def customer_tickets(user, customer, *, limit: int | None = None) -> list[Ticket]:
    """A customer's tickets, newest first (the card's Service tab, the agent view)."""
    qs = tickets(user).filter(customer=customer).order_by("-opened_at", "-id")
    return list(qs[:limit] if limit else qs)


def entries(user, ticket_obj: Ticket) -> list[TicketEntry]:
    return list(restrict(TicketEntry.objects.filter(ticket=ticket_obj), user, VIEW)
                .select_related("author").order_by("at", "id"))


def status_history(user, ticket_obj: Ticket) -> list[StatusChange]:
    return list(restrict(StatusChange.objects.filter(ticket=ticket_obj), user, VIEW)
                .select_related("by").order_by("at", "id"))


def pauses(user, ticket_obj: Ticket, until: dt.datetime | None = None
           ) -> list[tuple[dt.datetime, dt.datetime | None]]:
    """When the ticket waited for the customer (the service clocks stop meanwhile)."""
    return waiting_intervals(status_history(user, ticket_obj), until)


def categories(user) -> list[TicketCategory]:
    """The firm's ticket categories (a list every signed-in user may read)."""
    return list(TicketCategory.objects.order_by("order", "id")) if user.is_authenticated else []


def ticket_counts(user, customer) -> dict[str, int]:
    """How many tickets the customer has had: all, still open, complaints."""
    from django.db.models import Count

    from kehu.service.tickets.models import TicketKind

    return tickets(user).filter(customer=customer).aggregate(
        total=Count("id"), active=Count("id", filter=Q(status__in=ACTIVE_STATUSES)),
        complaints=Count("id", filter=Q(kind=TicketKind.COMPLAINT)))
