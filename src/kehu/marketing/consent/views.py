"""Pages of consent: the public unsubscribe page (no login) and the card's consent form."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from kehu.core import policy
from kehu.core.errors import ServiceError
from kehu.core.permissions import VIEW
from kehu.core.requests import client_ip
from kehu.customers.models import Customer
from kehu.customers.selectors import get_customer
from kehu.marketing.consent import services
from kehu.marketing.consent.forms import ConsentForm
from kehu.marketing.consent.links import read_unsubscribe_token


# Public: the signed token is the permission. Mail clients' one-click unsubscribe (RFC 8058)
# POSTs here without a form of ours, so no CSRF token can be asked for; the token itself
# cannot be forged. A GET never changes anything (mail scanners open links).
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    valid = read_unsubscribe_token(token) is not None
    done = False
    if request.method == "POST" and valid:
        services.unsubscribe(token, ip=client_ip(request))
        done = True
    status = 200 if valid else 404
    return render(request, "marketing/consent/unsubscribe.html",
                  {"valid": valid, "done": done, "token": token}, status=status)


@login_required
@require_POST
def consent_set(request: HttpRequest, pk: int) -> HttpResponse:
    """Record an answer from the card's Consent tab."""
    try:
        customer = get_customer(request.user, pk, VIEW)
    except Customer.DoesNotExist:
        raise Http404 from None
    if not policy.may_record_consent(request.user):
        raise Http404
    url = reverse("customers:card", args=[customer.pk]) + "?tab=consent"
    form = ConsentForm(request.POST, customer=customer)
    if not form.is_valid():
        messages.error(request, _("The answer was not saved: %(errors)s") % {
            "errors": "; ".join(f"{form.fields[k].label if k in form.fields else k}: "
                                f"{' '.join(v)}" for k, v in form.errors.items())})
        return redirect(url)
    data = form.cleaned_data
    contact = None
    if data["person"]:
        contact = customer.contacts.filter(pk=data["person"]).first()
    at = None
    if data["given_on"] and data["given_on"] != timezone.localdate():
        at = timezone.make_aware(dt.datetime.combine(data["given_on"], dt.time(12)))
    try:
        services.set_consent(request.user, customer, channel=data["channel"],
                             status=data["status"], source=data["source"], contact=contact,
                             at=at, note=data["note"], ip=client_ip(request))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Answer saved."))
    return redirect(url)
