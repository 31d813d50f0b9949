"""The card's Referrals tab: the customer's referral code, the customers it brought with
their rewards, and, for a new customer, the code it came with."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kehu.analytics.models import Referral
from kehu.core import policy
from kehu.core.permissions import CHANGE, can
from kehu.customers import card
from kehu.marketing.referrals import selectors
from kehu.marketing.referrals.forms import CodeForm, RewardForm


def referrals_context(request: HttpRequest, customer) -> dict:
    user = request.user
    lines = selectors.referrals_made_by(user, customer)
    came = Referral.objects.filter(referred=customer).first()
    return {
        "referral_code": selectors.code_of(user, customer),
        "referral_lines": lines,
        "referral_rewards": list(selectors.rewards_of(user, customer)),
        "came_by_referral": came,
        "may_issue_code": policy.may_manage_referrals(user),
        "may_record_by_code": came is None and can(user, CHANGE, customer),
        "may_reward": policy.may_grant_referral_rewards(user),
        "code_form": CodeForm(), "reward_form": RewardForm(),
        card.NAMED: [x.other.pk for x in lines if x.other is not None],
    }


def register() -> None:
    card.add_tab(card.Tab("referrals", _("Referrals"), 82,
                          "marketing/referrals/_referrals_tab.html", referrals_context))


def referral_figure(user):
    """The value dashboard's share of new customers who came by referral (seed 000 cites
    60%), over the user's scope, for those who may see it."""
    from django.urls import reverse
    from django.utils.translation import gettext

    from kehu.analytics.hooks import Figure

    if not policy.may_see_referral_share(user):
        return None
    share = selectors.referral_share(user)
    if not share.new:
        return None
    return Figure("referral-share", f"{share.percent}%", gettext(
        "of the new customers of the last twelve months came by referral (%(referred)s of "
        "%(new)s).") % {"referred": share.referred, "new": share.new},
        reverse("marketing:referrals"), gettext("Referrals by month"))
