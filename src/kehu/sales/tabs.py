"""The activity timeline on the customer data card (kehu.customers.card)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kehu.core.permissions import CONTRIBUTE, can
from kehu.customers import card
from kehu.customers.tabs import rows_shown, shown
from kehu.sales import selectors
from kehu.sales.forms import ActivityForm


def _activities(request: HttpRequest, customer) -> dict:
    limit = rows_shown(request)
    timeline = selectors.activities(request.user).filter(customer=customer)
    ctx = {"activities": timeline[:limit], "shown": shown(limit, timeline.count())}
    if can(request.user, CONTRIBUTE, customer):
        ctx["activity_form"] = ActivityForm(customer=customer)
    return ctx


def register() -> None:
    card.add_tab(card.Tab("activities", _("Activities"), 70, "sales/_activities_tab.html",
                          _activities))
