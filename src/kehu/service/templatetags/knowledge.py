"""The knowledge base in the ticket pages: `{% load knowledge %}`, then
`{% article_suggestions_box %}` beside the ticket form (the articles that may solve what is
being typed, asked again by htmx as the subject and description change) and
`{% ticket_articles ticket %}` on the ticket page (the articles linked to it, else those that
may solve it; once it is solved with a resolution, the button that makes it an article)."""

from __future__ import annotations

from django import template

from kehu.core import policy
from kehu.core.permissions import CONTRIBUTE, can
from kehu.service.knowledge import selectors
from kehu.service.tickets.models import DONE_STATUSES

register = template.Library()


@register.inclusion_tag("service/knowledge/_suggest_box.html")
def article_suggestions_box() -> dict:
    return {}


@register.inclusion_tag("service/knowledge/_ticket_panel.html", takes_context=True)
def ticket_articles(context, ticket) -> dict:
    request = context["request"]
    user = request.user
    linked = selectors.articles_for_ticket(user, ticket)
    written = selectors.ticket_links(user).filter(ticket=ticket, written_from=True).exists()
    return {
        "request": request, "csrf_token": context.get("csrf_token"), "ticket": ticket,
        "linked": linked,
        "suggestions": [] if linked else selectors.suggested_articles(
            user, f"{ticket.subject}\n{ticket.description}"),
        # The one-step article reads the ticket as its worker does (CONTRIBUTE): a reader
        # who may only view the customer is not offered a button that would refuse them.
        "may_write_from": policy.may_write_articles(user) and not written
        and can(user, CONTRIBUTE, ticket.customer)
        and ticket.status in DONE_STATUSES and bool(ticket.resolution.strip()),
    }
