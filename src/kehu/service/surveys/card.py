"""What surveys add to the rest of kehu, registered from ServiceConfig.ready(): the card's
Satisfaction tab, the satisfaction panel of the agent view, the follow-up task's texts
(services), the periodic sweep of key customers and the stated intentions that feed the
loyalty index."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kehu.core.permissions import CONTRIBUTE, can
from kehu.customers import card
from kehu.service.surveys import links, selectors


def _surveys_tab(request: HttpRequest, customer) -> dict:
    from kehu.service.surveys.views import send_form

    user = request.user
    may_send = can(user, CONTRIBUTE, customer)
    pending = selectors.open_invitations(user, customer)
    for invitation in pending:
        # The link is for those who may send surveys to the customer, to pass it on.
        invitation.link = links.url_for(invitation) if may_send else ""
    return {"sat_scores": selectors.customer_scores(user, customer),
            "sat_responses": selectors.customer_results(user, customer),
            "sat_open": pending,
            "send_form": send_form(request, customer) if may_send else None}


AGENT_RECENT = 3


def agent_panel(request: HttpRequest, customer) -> dict:
    """The satisfaction history on the agent view of a ticket: the customer's scores and
    latest answers."""
    user = request.user
    return {"scores": selectors.customer_scores(user, customer),
            "recent": selectors.customer_results(user, customer)[:AGENT_RECENT],
            "customer_id": customer.pk}


def _ticket_closed(sender, ticket, **kwargs) -> None:
    from kehu.service.surveys.services import invite_after_ticket

    invite_after_ticket(ticket)


def register() -> None:
    from kehu.analytics import intentions
    from kehu.service import sweeps
    from kehu.service.surveys.loyalty import stated_intentions
    from kehu.service.surveys.sweep import survey_key_customers
    from kehu.service.tickets import agent
    from kehu.service.tickets.signals import ticket_closed

    intentions.register(stated_intentions)
    agent.add_panel(agent.AgentPanel("satisfaction", "service/surveys/_agent_panel.html",
                                     agent_panel, order=60))
    sweeps.register(sweeps.Sweep("survey_key_customers", _("Surveys sent to key customers"),
                                 survey_key_customers))
    ticket_closed.connect(_ticket_closed, dispatch_uid="kehu.service.surveys.after_ticket")
    card.add_tab(card.Tab("surveys", _("Satisfaction"), 85, "service/surveys/_card_tab.html",
                          _surveys_tab))
