"""Customer value on the data card (kehu.customers.card): the value strip above the tabs,
and the Value tab that explains each figure and records referrals."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.analytics.forms import LoyaltyStatementForm, ReferralForm
from kehu.analytics.selectors import loyalty_of, offers_for, referrals_of
from kehu.customers import card


def _value(request: HttpRequest, customer) -> dict:
    referrals = referrals_of(request.user, customer)
    lines = [referrals["referred_by"], *referrals["brought"]]
    # A referral whose other customer is out of the reader's reach names no one.
    named = [line.customer.pk for line in lines if line is not None and line.customer]
    loyalty = loyalty_of(request.user, customer)
    return {**referrals, "referral_form": ReferralForm(), card.NAMED: named,
            "loyalty": loyalty, "offers": offers_for(request.user, customer),
            "loyalty_form": LoyaltyStatementForm(initial={"stated_on": timezone.localdate()})}


def register() -> None:
    card.add_panel(card.Panel("value", 10, "analytics/_value_strip.html"))
    card.add_tab(card.Tab("value", _("Value"), 80, "analytics/_value_tab.html", _value))
