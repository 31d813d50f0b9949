"""What leads add elsewhere: the card panel of a customer converted from a lead (its
source, referrer and MAN judgements stay visible on the card), and the texts of the tasks
the MAN actions open, in the reader's language."""

from __future__ import annotations

from django.http import HttpRequest

from kehu.customers import card
from kehu.sales.leads import man, selectors
from kehu.sales.leads.models import Lead
from kehu.tasks.models import register_rule


def _from_lead(request: HttpRequest, customer) -> dict:
    # The card is already in the user's scope; the lead that became it is part of its file.
    lead = Lead.objects.filter(customer=customer).select_related("referrer", "owner").first()
    referrer = selectors.shown_relations(request.user, lead)[0] if lead else None
    return {"from_lead": lead, "from_lead_referrer": referrer}


def register() -> None:
    card.add_panel(card.Panel("from_lead", 40, "sales/leads/_card_panel.html", _from_lead))
    for code, action in man.ACTIONS.items():
        register_rule(f"lead:{code}", action.label, action.detail)
