"""The customer card's Opportunities tab (kehu.customers.card)."""

from __future__ import annotations

from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kehu.customers import card
from kehu.customers.tabs import rows_shown
from kehu.sales.pipeline import selectors


def _opportunities(request: HttpRequest, customer) -> dict:
    qs = selectors.opportunities(request.user).filter(customer=customer).annotate(
        closed=Case(When(stage__kind="open", then=Value(0)), default=Value(1),
                    output_field=IntegerField())).order_by("closed", "expected_close", "id")
    return {"opportunities": qs[:rows_shown(request)],
            "open_amount": selectors.open_amount(request.user, customer)}


def register() -> None:
    card.add_tab(card.Tab("opportunities", _("Opportunities"), 75,
                          "sales/pipeline/_card_tab.html", _opportunities))
