"""The account plan on the customer data card (kehu.customers.card): its summary and the
decision chain, or the way to start one for a key account."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kehu.customers import card
from kehu.sales.plans import selectors


def _plan_tab(request: HttpRequest, customer) -> dict:
    from kehu.sales.plans.views import plan_context

    plan = selectors.plan_of(request.user, customer)
    if plan is not None:
        return plan_context(request, plan)
    return {"plan": None, "key_reason": selectors.key_reason(request.user, customer),
            "may_start_plan": selectors.may_start_plan(request.user, customer)}


def register() -> None:
    card.add_tab(card.Tab("account_plan", _("Account plan"), 75, "sales/_plan_tab.html",
                          _plan_tab))
