"""What tickets register with the apps below service (called from ServiceConfig.ready()):
the task text of a complaint, the hours spent on tickets as a cost the value refresh counts,
the customers an open complaint keeps at risk, and the card's Service tab."""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.db.models import Case, IntegerField, Sum, When
from django.utils.translation import gettext_lazy as _

from kehu.service.tickets.models import ACTIVE_STATUSES, Ticket, TicketEntry, TicketKind

# The ActivityCost kind that holds the hourly cost of ticket work.
COST_KIND = "ticket"


def ticket_hours(as_of: dt.datetime, since: dt.datetime
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per customer (sorted ids): hours logged on their tickets up to `as_of`, and since
    `since`."""
    rows = (TicketEntry.objects.filter(at__lte=as_of, minutes__gt=0)
            .values("ticket__customer_id")
            .annotate(total=Sum("minutes"),
                      recent=Sum(Case(When(at__gt=since, then="minutes"), default=0,
                                      output_field=IntegerField())))
            .order_by("ticket__customer_id")
            .values_list("ticket__customer_id", "total", "recent"))
    rows = list(rows)
    if not rows:
        empty = np.empty(0)
        return np.empty(0, dtype=np.int64), empty, empty
    ids, total, recent = (np.asarray(c) for c in zip(*rows, strict=True))
    return ids.astype(np.int64), total.astype(float) / 60.0, recent.astype(float) / 60.0


def active_complaint_customers() -> list[int]:
    """The customers with a complaint still being worked: the value refresh keeps a valuable
    one at risk meanwhile."""
    return list(Ticket.objects.filter(kind=TicketKind.COMPLAINT, status__in=ACTIVE_STATUSES)
                .values_list("customer_id", flat=True).distinct())


def register() -> None:
    from kehu.analytics import sources
    from kehu.service.tickets import card
    from kehu.tasks.models import register_rule

    card.register()

    register_rule("ticket_complaint:*", _("Call the customer about their complaint"),
                  _("A valuable customer complained: call them, hear them out and agree what "
                    "happens next with the service colleague who has the ticket."))
    sources.register_hours(sources.HoursSource(COST_KIND, _("Ticket work (per hour)"),
                                               ticket_hours))
    sources.register_risk(active_complaint_customers)
