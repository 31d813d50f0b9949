"""The customer card's Service tab (kehu.customers.card): the customer's tickets."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kehu.core import policy
from kehu.core.permissions import CONTRIBUTE, can
from kehu.customers import card
from kehu.customers.tabs import rows_shown
from kehu.service.tickets import selectors


def _tickets(request: HttpRequest, customer) -> dict:
    return {"tickets": selectors.customer_tickets(request.user, customer,
                                                  limit=rows_shown(request)),
            "ticket_counts": selectors.ticket_counts(request.user, customer),
            "may_open_ticket": policy.may_work_tickets(request.user)
            and can(request.user, CONTRIBUTE, customer)}


def register() -> None:
    card.add_tab(card.Tab("service", _("Service"), 78, "service/tickets/_card_tab.html",
                          _tickets))
