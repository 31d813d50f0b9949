"""The agent view: a customer's whole picture at a glance for whoever answers them (seed
002: quick access to a problem customer's data) — value segment, loyalty index, the owner,
past tickets, open opportunities, recent purchases, and the panels other parts add (the
satisfaction history of the surveys part) through `add_panel`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from kehu.analytics.models import CustomerValue
from kehu.core.permissions import VIEW, restrict
from kehu.customers.selectors import transactions
from kehu.sales.pipeline.models import StageKind
from kehu.sales.pipeline.selectors import opportunities
from kehu.service.tickets import selectors


@dataclass(frozen=True)
class AgentPanel:
    """A block of the agent view: a partial template and what it adds to the context
    (called with the request and the customer)."""

    key: str
    template: str
    context: Callable[[HttpRequest, Any], dict] = field(default=lambda request, customer: {})
    order: int = 50


PANELS: dict[str, AgentPanel] = {}


def add_panel(panel: AgentPanel) -> None:
    """Register a panel (from an AppConfig.ready()); a panel of the same key is replaced."""
    PANELS[panel.key] = panel


def panels() -> list[AgentPanel]:
    return sorted(PANELS.values(), key=lambda p: (p.order, p.key))


RECENT = 5


def picture(request: HttpRequest, customer, *, exclude_ticket: int | None = None) -> dict:
    """Everything the agent view shows of `customer` to the request's user."""
    user = request.user
    value = restrict(CustomerValue.objects.filter(customer=customer), user, VIEW).first()
    past = [t for t in selectors.customer_tickets(user, customer, limit=RECENT + 1)
            if t.pk != exclude_ticket][:RECENT]
    counts = selectors.ticket_counts(user, customer)
    opps = list(opportunities(user).filter(customer=customer, stage__kind=StageKind.OPEN)
                .order_by("expected_close", "id")[:RECENT])
    purchases = list(transactions(user).filter(customer=customer)
                     .order_by("-date", "-id")[:RECENT])
    extra = []
    for panel in panels():
        extra.append({"key": panel.key, "template": panel.template,
                      "context": panel.context(request, customer)})
    return {"customer": customer, "value": value, "past_tickets": past,
            "ticket_counts": counts, "open_opportunities": opps,
            "recent_purchases": purchases, "panels": extra}
