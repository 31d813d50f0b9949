"""What the service levels add to the customer card: the customer's service group, why, and
what the group is promised, with a link to decide it otherwise."""

from __future__ import annotations

from django.http import HttpRequest

from kehu.core import policy
from kehu.customers import card
from kehu.service.sla.groups import group_of


def _service_group(request: HttpRequest, customer) -> dict:
    # The card is already in the user's scope; its service group is part of its file.
    return {"service_group": group_of(customer),
            "may_decide_service_group": policy.may_decide_service_group(request.user,
                                                                        customer)}


def register() -> None:
    card.add_panel(card.Panel("service_group", 50, "service/sla/_card_panel.html",
                              _service_group))
