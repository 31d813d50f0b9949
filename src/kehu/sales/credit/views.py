"""Web pages of credit control: the card's forms (receivable, payment, incident, correcting
a receivable) and the receivables list. Thin: parse input, call a service or selector."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.accounts.models import Team
from kehu.audit.services import record_list
from kehu.core import policy
from kehu.core.errors import ServiceError
from kehu.core.permissions import CHANGE
from kehu.core.requests import client_ip
from kehu.customers.forms import apply_service_error, submit
from kehu.customers.views import MAX_ID, card_url, customer_for, record_form_view, render_card
from kehu.sales.credit import selectors, services
from kehu.sales.credit.figures import in_bucket
from kehu.sales.credit.forms import (
    BUCKET_LABELS,
    IncidentForm,
    PaymentForm,
    ReceivableEditForm,
    ReceivableFilterForm,
    ReceivableForm,
)
from kehu.sales.credit.tabs import credit_context

LIST_ROWS = 200


def _audit(request: HttpRequest) -> dict:
    return {"ip": client_ip(request), "via": "web"}


def _credit_customer(request: HttpRequest, pk: int):
    if not policy.may_record_credit(request.user):
        raise Http404
    return customer_for(request, pk, CHANGE)


def _again(request: HttpRequest, customer, **forms) -> HttpResponse:
    ctx = credit_context(request, customer)
    ctx.update(forms)
    return render_card(request, customer, "credit", status=400, tab_context=ctx)


@login_required
@require_POST
def receivable_create(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _credit_customer(request, pk)
    form = ReceivableForm(request.POST, customer=customer)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.create_receivable(
                request.user, customer, number=data["number"], issued_on=data["issued_on"],
                due_on=data["due_on"], amount=data["amount"], notes=data["notes"],
                transaction_id=data["transaction"].pk if data["transaction"] else None,
                **_audit(request))
        except (ValidationError, ServiceError) as e:
            apply_service_error(form, e)
        else:
            messages.success(request, _("Receivable recorded."))
            return redirect(card_url(customer, "credit"))
    return _again(request, customer, receivable_form=form)


def _receivable(request: HttpRequest, customer, receivable_pk: int):
    if receivable_pk > MAX_ID:
        raise Http404
    receivable = selectors.receivables(request.user, CHANGE).filter(
        customer=customer, pk=receivable_pk).first()
    if receivable is None:
        raise Http404
    return receivable


@login_required
@require_POST
def payment_create(request: HttpRequest, pk: int, receivable_pk: int) -> HttpResponse:
    customer = _credit_customer(request, pk)
    receivable = _receivable(request, customer, receivable_pk)
    form = PaymentForm(request.POST, prefix=f"pay{receivable.pk}")
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.record_payment(request.user, receivable, paid_on=data["paid_on"],
                                    amount=data["amount"], method=data["method"],
                                    reference=data["reference"], **_audit(request))
        except (ValidationError, ServiceError) as e:
            apply_service_error(form, e)
        else:
            messages.success(request, _("Payment recorded."))
            return redirect(card_url(customer, "credit"))
    messages.error(request, _("The payment for %(number)s was not recorded: %(errors)s") % {
        "number": receivable, "errors": " ".join(
            str(m) for errors in form.errors.values() for m in errors)})
    return _again(request, customer)


@login_required
@require_POST
def incident_create(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _credit_customer(request, pk)
    form = IncidentForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.record_credit_incident(
                request.user, customer, kind=data["kind"], occurred_on=data["occurred_on"],
                description=data["description"], evidence=data["evidence"], **_audit(request))
        except (ValidationError, ServiceError) as e:
            apply_service_error(form, e)
        else:
            messages.success(request, _("Credit incident recorded."))
            return redirect(card_url(customer, "credit"))
    return _again(request, customer, incident_form=form)


@login_required
def receivable_edit(request: HttpRequest, pk: int, receivable_pk: int) -> HttpResponse:
    customer = _credit_customer(request, pk)
    receivable = _receivable(request, customer, receivable_pk)
    if request.method == "POST":
        form = ReceivableEditForm(request.POST)
    else:
        record_form_view(request, customer, "credit", receivable=receivable.pk)
        form = ReceivableEditForm(initial={
            "version": receivable.version, "number": receivable.number,
            "issued_on": receivable.issued_on, "due_on": receivable.due_on,
            "amount": receivable.amount, "notes": receivable.notes})

    def save(data: dict) -> None:
        data = dict(data)
        version = data.pop("version")
        services.update_receivable(request.user, receivable, data, version=version,
                                   **_audit(request))

    sent = submit(request, form, save)
    if sent.saved:
        messages.success(request, _("Receivable saved."))
        return redirect(card_url(customer, "credit"))
    return render(request, "sales/credit/receivable_form.html", {
        "customer": customer, "receivable": receivable, "form": form, "nav": "customers",
        "cancel_url": card_url(customer, "credit")}, status=sent.status)


@login_required
def receivable_list(request: HttpRequest) -> HttpResponse:
    """Open receivables across the user's scope, filtered by owner, team and overdue bucket,
    most overdue first."""
    user = request.user
    if not policy.may_see_receivables_list(user):
        raise PermissionDenied
    owners = policy.assignable_owners(user) if policy.may_reassign_customers(user) else \
        get_user_model().objects.filter(pk=user.pk)
    teams = Team.objects.all() if policy.is_admin(user) else Team.objects.filter(
        pk=user.team_id)
    form = ReceivableFilterForm(request.GET or None, owners=owners, teams=teams)
    qs = selectors.open_receivables(user)
    today = timezone.localdate()
    used = {}
    status = 200
    if form.is_bound and not form.is_valid():
        status = 400
        qs = qs.none()
    elif form.is_bound:
        data = form.cleaned_data
        if data["owner"]:
            qs = qs.filter(customer__owner=data["owner"])
            used["owner"] = data["owner"].pk
        if data["team"]:
            qs = qs.filter(customer__team=data["team"])
            used["team"] = data["team"].pk
        if data["bucket"] == "overdue":
            qs = qs.filter(due_on__lt=today)
            used["bucket"] = "overdue"
        elif data["bucket"]:
            qs = in_bucket(qs, data["bucket"], today)
            used["bucket"] = data["bucket"]
    totals = qs.aggregate(open=Sum(F("amount") - F("paid")))
    overdue = qs.filter(due_on__lt=today).aggregate(s=Sum(F("amount") - F("paid")))["s"]
    count = qs.count()
    rows = list(qs.order_by("due_on", "id")[:LIST_ROWS])
    for r in rows:
        r.days_overdue = max(0, (today - r.due_on).days)
        r.bucket_label = BUCKET_LABELS[selectors.bucket_of((today - r.due_on).days)]
    record_list(user, "receivables", [r.customer_id for r in rows], filters=used,
                **_audit(request))
    return render(request, "sales/credit/receivable_list.html", {
        "nav": "sales", "form": form, "rows": rows, "count": count, "shown_rows": len(rows),
        "open_total": totals["open"] or 0, "overdue_total": overdue or 0}, status=status)
