"""The card's Offers tab: the customer's latest offer list with its coupon, where it was
sent, the earlier lists, and the actions of whoever manages offers."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kehu.core import policy
from kehu.core.permissions import EXPORT, can, in_own_scope
from kehu.customers import card
from kehu.marketing.consent.models import Channel
from kehu.marketing.consent.selectors import refusing
from kehu.marketing.offers import selectors
from kehu.marketing.offers.forms import RedeemForm
from kehu.marketing.offers.texts import coupon_terms, item_reason


def offers_context(request: HttpRequest, customer) -> dict:
    user = request.user
    offers = selectors.customer_offers(user, customer)
    latest = offers.latest
    ctx = {"offers": offers,
           "offer_items": [(i, item_reason(i)) for i in latest.items.all()] if latest else [],
           "offer_coupon_terms": coupon_terms(latest.coupon) if latest and hasattr(
               latest, "coupon") else "",
           "may_manage_offers": policy.may_manage_offers(user) and in_own_scope(user,
                                                                                 customer)}
    ctx["may_email_offers"] = bool(latest) and ctx["may_manage_offers"] and \
        policy.may_send_marketing(user)
    ctx["refuses_personalisation"] = bool(refusing(user, Channel.PERSONALISATION,
                                                   [customer.pk]))
    ctx["may_export_offers"] = bool(latest) and ctx["may_manage_offers"] and \
        policy.may_export(user) and can(user, EXPORT, customer)
    if policy.may_redeem_coupons(user) and any(not c.redeemed for c in offers.coupons) \
            and in_own_scope(user, customer):
        ctx.setdefault("redeem_form", RedeemForm(customer=customer))
    return ctx


def register() -> None:
    card.add_tab(card.Tab("offers", _("Offers"), 85, "marketing/offers/_offers_tab.html",
                          offers_context))
