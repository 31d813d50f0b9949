"""Pages of referrals: Marketing › Referrals (the share of new customers who came by
referral, the latest referrals and their rewards) and the card's Referrals tab actions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.analytics.models import Referral
from kehu.audit.services import record_list
from kehu.core import policy
from kehu.core.errors import ServiceError
from kehu.core.permissions import CHANGE, VIEW
from kehu.core.requests import client_ip
from kehu.customers.models import Customer
from kehu.customers.selectors import get_customer
from kehu.marketing.referrals import selectors, services
from kehu.marketing.referrals.forms import CodeForm, RewardForm


def _customer(request: HttpRequest, pk: int, action: str = VIEW) -> Customer:
    try:
        return get_customer(request.user, pk, action)
    except Customer.DoesNotExist:
        raise Http404 from None


def _tab(customer: Customer) -> str:
    return reverse("customers:card", args=[customer.pk]) + "?tab=referrals"


def _form_errors(form) -> str:
    return "; ".join(f"{form.fields[k].label if k in form.fields else k}: {' '.join(v)}"
                     for k, v in form.errors.items())


@login_required
def referrals(request: HttpRequest) -> HttpResponse:
    if not policy.may_see_referral_share(request.user):
        raise Http404
    share = selectors.referral_share(request.user)
    lines = selectors.recent_referrals(request.user)
    shown = set(share.customer_ids) | {x.referral.referred_id for x in lines} | {
        x.other.pk for x in lines if x.other is not None}
    record_list(request.user, "referrals", shown, ip=client_ip(request), via="web")
    top = max((m.new for m in share.months), default=0)
    return render(request, "marketing/referrals/referrals.html", {
        "nav": "marketing", "subnav": "referrals", "share": share, "lines": lines,
        "top": top, "may_reward": policy.may_grant_referral_rewards(request.user),
        "reward_form": RewardForm()})


@login_required
@require_POST
def issue_code(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    try:
        code = services.issue_referral_code(request.user, customer, ip=client_ip(request))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Referral code: %(code)s") % {"code": code.code})
    return redirect(_tab(customer))


@login_required
@require_POST
def by_code(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk, CHANGE)
    form = CodeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The referral was not saved: %(errors)s")
                       % {"errors": _form_errors(form)})
        return redirect(_tab(customer))
    try:
        services.record_referral_by_code(request.user, customer, form.cleaned_data["code"],
                                         referred_on=form.cleaned_data["referred_on"],
                                         ip=client_ip(request))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Referral saved; influence value follows at the next "
                                    "refresh."))
    return redirect(_tab(customer))


@login_required
@require_POST
def reward(request: HttpRequest, pk: int) -> HttpResponse:
    """Reward the referrer of customer `pk` (the new customer)."""
    referred = _customer(request, pk)
    referral = Referral.objects.filter(referred=referred).select_related("referrer").first()
    back = request.POST.get("back") == "list"
    url = reverse("marketing:referrals") if back else _tab(referral.referrer) \
        if referral is not None else _tab(referred)
    if referral is None:
        messages.error(request, _("No referral is recorded for this customer."))
        return redirect(url)
    form = RewardForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The reward was not saved: %(errors)s")
                       % {"errors": _form_errors(form)})
        return redirect(url)
    try:
        services.grant_referral_reward(request.user, referral, **form.cleaned_data,
                                       ip=client_ip(request))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Reward recorded."))
    return redirect(url)
