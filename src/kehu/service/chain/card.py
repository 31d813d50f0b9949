"""The chain on the customer data card: a panel above the tabs when a key customer's owner
changed twice in a year, with the owners of those twelve months; and the sweep that gives
the owner of such a customer a task."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy

from kehu.customers import card
from kehu.customers.signals import owners_changed
from kehu.service.chain import selectors, services
from kehu.tasks.models import register_rule


def _panel(request: HttpRequest, customer) -> dict:
    flags = selectors.continuity_flags(request.user, customer=customer)
    return {"continuity_flag": flags[0]} if flags else {}


def _continuity_sweep(at) -> int:
    return services.open_continuity_tasks(now=at)


def register() -> None:
    from kehu.service import sweeps

    card.add_panel(card.Panel("owner_continuity", 35, "service/chain/_card_panel.html",
                              _panel))
    register_rule(
        services.CONTINUITY_ORIGIN,
        gettext_lazy("Key customer with a changing owner: secure the relationship"),
        gettext_lazy("This key customer's owner changed at least twice in twelve months. "
                     "Customers served by changing staff are less satisfied (seed 002: "
                     "30.8% against 44.5% with stable staff): visit them, introduce yourself "
                     "as the owner who stays, and read the handover notes and past tickets "
                     "before you go."))
    # The catch-up for owners changed before the customer became key.
    sweeps.register(sweeps.Sweep(services.CONTINUITY_ORIGIN,
                                 gettext_lazy("Key customers with a changing owner"),
                                 _continuity_sweep))
    owners_changed.connect(services.owners_changed,
                           dispatch_uid="kehu.service.chain.owners_changed")
