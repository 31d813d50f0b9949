"""Web pages of one-to-one offers: the card's actions (build a list, print or export it,
redeem a coupon), the offer lists page with its build of every list due, and the offer
settings with the coupon tiers. Thin: parse input, call a service or selector."""

from __future__ import annotations

import csv
import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.audit.services import record_list
from kehu.core import policy
from kehu.core.errors import ServiceError
from kehu.core.permissions import EXPORT, can
from kehu.core.requests import client_ip
from kehu.customers.forms import apply_service_error
from kehu.customers.views import MAX_ID, card_url, customer_for, render_card
from kehu.dataio.normalise import guard_formula
from kehu.marketing.offers import selectors, services
from kehu.marketing.offers.forms import CouponTierForm, OfferSettingsForm, RedeemForm
from kehu.marketing.offers.models import CouponTier, OfferSettings, SendChannel, SendStatus
from kehu.marketing.offers.tabs import offers_context
from kehu.marketing.offers.texts import CSV_HEADER, coupon_terms, csv_rows, item_reason

LIST_ROWS = 200


def _audit(request: HttpRequest) -> dict:
    return {"ip": client_ip(request), "via": "web"}


def _error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return getattr(error, "message", str(error))


def _latest(request: HttpRequest, customer):
    found = selectors.offer_lists_with_items(request.user).filter(customer=customer).first()
    if found is None:
        raise Http404
    return found


def _manager_customer(request: HttpRequest, pk: int):
    customer = customer_for(request, pk)
    if not policy.may_manage_offers(request.user):
        raise Http404
    return customer


@login_required
@require_POST
def offer_build(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _manager_customer(request, pk)
    try:
        services.build_offer_list(request.user, customer, **_audit(request))
    except (ValidationError, ServiceError) as e:
        messages.error(request, _error_text(e))
    else:
        messages.success(request, _("A new offer list was built."))
    return redirect(card_url(customer, "offers"))


@login_required
@require_POST
def offer_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable list (for the post or the shop's counter); printing is recorded."""
    customer = _manager_customer(request, pk)
    offer_list = _latest(request, customer)
    try:
        services.record_offer_output(request.user, offer_list, SendChannel.PRINT,
                                     **_audit(request))
    except ServiceError as e:
        messages.error(request, _error_text(e))
        return redirect(card_url(customer, "offers"))
    coupon = getattr(offer_list, "coupon", None)
    return render(request, "marketing/offers/print.html", {
        "offer_list": offer_list, "customer": customer,
        "items": [(i, item_reason(i)) for i in offer_list.items.all()],
        "coupon_terms": coupon_terms(coupon) if coupon else ""})


@login_required
@require_POST
def offer_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The list as a CSV file (UTF-8 with a BOM, which spreadsheets read as Chinese)."""
    customer = _manager_customer(request, pk)
    if not (policy.may_export(request.user) and can(request.user, EXPORT, customer)):
        raise Http404
    offer_list = _latest(request, customer)
    try:
        services.record_offer_output(request.user, offer_list, SendChannel.EXPORT,
                                     **_audit(request))
    except ServiceError as e:
        messages.error(request, _error_text(e))
        return redirect(card_url(customer, "offers"))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="offers-{customer.pk}-{offer_list.as_of:%Y%m%d}.csv"')
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    for row in csv_rows(offer_list):
        writer.writerow([guard_formula(cell) for cell in row])
    return response


@login_required
@require_POST
def offer_email(request: HttpRequest, pk: int) -> HttpResponse:
    """E-mail the latest list to the customer now (consent is checked as it is sent)."""
    customer = _manager_customer(request, pk)
    offer_list = _latest(request, customer)
    try:
        send = services.send_offer_list(request.user, offer_list, **_audit(request))
    except (ValidationError, ServiceError) as e:
        messages.error(request, _error_text(e))
    else:
        if send.status == SendStatus.SENT:
            messages.success(request, _("The offer list was e-mailed to %(to)s.")
                             % {"to": send.recipient})
        else:
            messages.error(request, _("The offer list was not e-mailed: %(why)s")
                           % {"why": send.note})
    return redirect(card_url(customer, "offers"))


@login_required
@require_POST
def coupon_redeem(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_for(request, pk)
    if not policy.may_redeem_coupons(request.user):
        raise Http404
    form = RedeemForm(request.POST, customer=customer)
    if form.is_valid():
        try:
            coupon = services.redeem_coupon(request.user, form.cleaned_data["code"],
                                            form.cleaned_data["transaction"], **_audit(request))
        except (ValidationError, ServiceError) as e:
            apply_service_error(form, e)
        else:
            messages.success(request, _("Coupon %(code)s redeemed.") % {"code": coupon.code})
            return redirect(card_url(customer, "offers"))
    ctx = offers_context(request, customer)
    ctx["redeem_form"] = form
    return render_card(request, customer, "offers", status=400, tab_context=ctx)


# The offer lists page --------------------------------------------------------------------

def _as_of(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
def offer_lists(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not policy.may_manage_offers(user):
        raise Http404
    coupon = request.GET.get("coupon", "")
    filters = selectors.OfferListFilters(
        as_of=_as_of(request.GET.get("as_of", "")),
        coupon=coupon if coupon in ("with", "redeemed") else "")
    rows = list(selectors.offer_list_rows(user, filters)[:LIST_ROWS])
    record_list(user, "offer_lists", [r.customer_id for r in rows], filters=filters,
                **_audit(request))
    since = timezone.localdate() - dt.timedelta(days=90)
    job = selectors.latest_mailing(user)
    return render(request, "marketing/offers/list.html", {
        "nav": "marketing", "subnav": "offers", "job": job,
        "may_send": policy.may_send_marketing(user), "rows": rows, "filters": filters,
        "limit": LIST_ROWS,
        "totals": selectors.offer_totals(user, since), "since": since,
        "settings": OfferSettings.current()})


@login_required
@require_POST
def offer_build_due(request: HttpRequest) -> HttpResponse:
    if not policy.may_manage_offers(request.user):
        raise Http404
    result = services.build_offer_lists(request.user, **_audit(request))
    messages.success(request, _("%(lists)s offer lists built, %(coupons)s coupons issued.")
                     % {"lists": result.lists, "coupons": result.coupons})
    return redirect("marketing:offers")


@login_required
@require_POST
def offers_email_due(request: HttpRequest) -> HttpResponse:
    """E-mail every current list not e-mailed yet, as a background job."""
    if not policy.may_manage_offers(request.user):
        raise Http404
    try:
        services.start_offer_mailing(request.user)
    except ServiceError as e:
        messages.error(request, _error_text(e))
    return redirect("marketing:offers")


# Settings -------------------------------------------------------------------------------

@login_required
def offer_settings(request: HttpRequest) -> HttpResponse:
    if not policy.may_change_settings(request.user):
        raise Http404
    current = OfferSettings.current()
    form = OfferSettingsForm(request.POST or None, instance=current)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.update_offer_settings(request.user, form.cleaned_data,
                                               ip=client_ip(request))
            except (ValidationError, ServiceError) as e:
                apply_service_error(form, e)
            else:
                messages.success(request, _("Offer settings saved."))
                return redirect("marketing:offer_settings")
        status = 400
    return render(request, "marketing/offers/settings.html", {
        "nav": "marketing", "form": form, "tiers": CouponTier.objects.all()}, status=status)


@login_required
def coupon_tier(request: HttpRequest, tier_pk: int | None = None) -> HttpResponse:
    if not policy.may_change_settings(request.user):
        raise Http404
    tier = None
    if tier_pk is not None:
        if tier_pk > MAX_ID:
            raise Http404
        tier = CouponTier.objects.filter(pk=tier_pk).first()
        if tier is None:
            raise Http404
    form = CouponTierForm(request.POST or None, instance=tier or CouponTier())
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.save_coupon_tier(request.user, tier, form.tier_data(),
                                          ip=client_ip(request))
            except (ValidationError, ServiceError) as e:
                apply_service_error(form, e)
            else:
                messages.success(request, _("Coupon tier saved."))
                return redirect("marketing:offer_settings")
        status = 400
    return render(request, "marketing/offers/tier_form.html", {
        "nav": "marketing", "form": form, "tier": tier}, status=status)
