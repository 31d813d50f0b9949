"""Consent on the customer data card: the Consent tab shows each person's answer per
channel and use, the history of answers and the marketing e-mails sent (or held back), and
lets those who may record consent record a new answer. The card records the tab's read."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kehu.core import policy
from kehu.customers import card
from kehu.marketing.consent import selectors
from kehu.marketing.consent.forms import ConsentForm


def consent_context(request: HttpRequest, customer) -> dict:
    user = request.user
    people = selectors.consents_of(user, customer)
    ctx = {"consent_people": people,
           "consent_rows": [(people[0].rows[i].label, [p.rows[i] for p in people])
                            for i in range(len(people[0].rows))],
           "consent_changes": selectors.changes_of(user, customer),
           "marketing_sends": selectors.sends_of(user, customer)}
    if policy.may_record_consent(user):
        ctx["may_record_consent"] = True
        ctx.setdefault("consent_form", ConsentForm(customer=customer))
    return ctx


def register() -> None:
    card.add_tab(card.Tab("consent", _("Consent"), 80, "marketing/consent/_consent_tab.html",
                          consent_context))
