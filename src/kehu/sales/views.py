"""Web pages of the activity timeline. Thin: parse input, call a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.errors import NotPermitted, ServiceError
from kehu.core.permissions import CONTRIBUTE
from kehu.core.requests import client_ip
from kehu.customers.forms import apply_service_error
from kehu.customers.views import MAX_ID, card_url, customer_for, record_form_view, render_card
from kehu.sales import selectors, services
from kehu.sales.forms import ActivityForm


def _audit(request: HttpRequest) -> dict:
    return {"ip": client_ip(request), "via": "web"}


@login_required
@require_POST
def activity_create(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_for(request, pk, CONTRIBUTE)
    form = ActivityForm(request.POST, customer=customer)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.log_activity(
                request.user, customer, kind=data["kind"], subject=data["subject"],
                body=data["body"], occurred_at=data["occurred_at"], contact=data["contact"],
                **_audit(request))
        except (ValidationError, ServiceError) as e:
            apply_service_error(form, e)
        else:
            messages.success(request, _("Activity added."))
            return redirect(card_url(customer, "activities"))
    return render_card(request, customer, "activities", status=400, activity_form=form)


@login_required
def activity_delete(request: HttpRequest, pk: int, activity_pk: int) -> HttpResponse:
    customer = customer_for(request, pk)
    if activity_pk > MAX_ID:
        raise Http404
    activity = selectors.activities(request.user).filter(customer=customer,
                                                         pk=activity_pk).first()
    if activity is None:
        raise Http404
    if request.method == "POST":
        try:
            services.delete_activity(request.user, activity, **_audit(request))
        except NotPermitted as e:
            messages.error(request, e.message)
        else:
            messages.success(request, _("Activity deleted."))
        return redirect(card_url(customer, "activities"))
    record_form_view(request, customer, "activity_delete", activity=activity.pk)
    return render(request, "customers/confirm_delete.html", {
        "customer": customer, "nav": "customers",
        "title": _("Delete activity “%(subject)s”?") % {"subject": activity.subject},
        "cancel_url": card_url(customer, "activities")})
