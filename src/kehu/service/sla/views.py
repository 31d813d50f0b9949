"""The service-level pages: the firm's service hours and holidays, the targets per service
group, and a customer's service group (with the decision against the rule)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core import policy
from kehu.core.errors import ServiceError
from kehu.core.requests import client_ip
from kehu.customers.forms import apply_service_error
from kehu.customers.models import ServiceGroup
from kehu.customers.services import record_customer_view
from kehu.customers.views import MAX_ID, customer_for
from kehu.service.sla import selectors, services
from kehu.service.sla.forms import (
    COMMON_ZONES,
    HolidayForm,
    HoursForm,
    ServiceGroupForm,
    TargetsForm,
)
from kehu.service.sla.models import Holiday


def _audit(request: HttpRequest) -> dict:
    return {"ip": client_ip(request), "via": "web"}


@login_required
def hours(request: HttpRequest) -> HttpResponse:
    may_edit = policy.may_change_service_levels(request.user)
    if request.method == "POST" and not may_edit:
        raise PermissionDenied
    view = selectors.service_hours(request.user)
    form = HoursForm(initial=HoursForm.initial_for(view))
    holiday_form = HolidayForm(prefix="holiday")
    status = 200
    if request.method == "POST":
        if "holiday-day" in request.POST:
            holiday_form = HolidayForm(request.POST, prefix="holiday")
            if holiday_form.is_valid():
                try:
                    services.save_holiday(request.user, **holiday_form.cleaned_data,
                                          **_audit(request))
                except ServiceError as e:
                    apply_service_error(holiday_form, e)
                else:
                    messages.success(request, _("Day saved."))
                    return redirect("service:sla_hours")
        else:
            form = HoursForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    services.update_service_hours(
                        request.user, time_zone=data["time_zone"],
                        warn_percent=data["warn_percent"], makeup_as=data["makeup_as"],
                        periods=data["periods"],
                        expected_version=request.POST.get("version") or None,
                        **_audit(request))
                except ServiceError as e:
                    apply_service_error(form, e)
                else:
                    messages.success(request, _("Service hours saved."))
                    return redirect("service:sla_hours")
        status = 400
    return render(request, "service/sla/hours.html", {
        "nav": "service", "subnav": "sla_hours", "view": view, "form": form,
        "holiday_form": holiday_form, "may_edit": may_edit, "zones": COMMON_ZONES},
        status=status)


@login_required
@require_POST
def holiday_delete(request: HttpRequest, holiday_pk: int) -> HttpResponse:
    if not policy.may_change_service_levels(request.user):
        raise PermissionDenied
    holiday = Holiday.objects.filter(pk=min(holiday_pk, MAX_ID)).first()
    if holiday is None:
        raise Http404
    try:
        services.delete_holiday(request.user, holiday, **_audit(request))
    except ServiceError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("Day removed."))
    return redirect("service:sla_hours")


@login_required
def targets(request: HttpRequest) -> HttpResponse:
    may_edit = policy.may_change_service_levels(request.user)
    if request.method == "POST" and not may_edit:
        raise PermissionDenied
    tables = selectors.target_table(request.user)
    posted = request.POST.get("group", "") if request.method == "POST" else ""
    if posted and posted not in ServiceGroup.values:
        raise Http404
    status = 200
    for table in tables:
        if table.group == posted:
            table.form = TargetsForm(request.POST, prefix=table.group)
            if table.form.is_valid():
                cells = table.form.cells()
                if table.form.is_valid():
                    try:
                        services.save_targets(request.user, table.group, cells,
                                              **_audit(request))
                    except ServiceError as e:
                        apply_service_error(table.form, e)
                    else:
                        messages.success(request, _("Targets of “%(group)s” saved.")
                                         % {"group": table.label})
                        return redirect("service:sla_targets")
            status = 400
        else:
            table.form = TargetsForm(initial=TargetsForm.initial_for(table), prefix=table.group)
    return render(request, "service/sla/targets.html", {
        "nav": "service", "subnav": "sla_targets", "tables": tables, "may_edit": may_edit,
        "priorities": [selectors.PRIORITY_LABELS[p] for p in selectors.PRIORITIES]},
        status=status)


@login_required
def customer_group(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_for(request, pk)
    may_decide = policy.may_decide_service_group(request.user, customer)
    if request.method == "POST" and not may_decide:
        raise PermissionDenied
    form = ServiceGroupForm()
    status = 200
    if request.method == "POST":
        form = ServiceGroupForm(request.POST)
        if form.is_valid():
            try:
                services.decide_service_group(request.user, customer, **form.cleaned_data,
                                              **_audit(request))
            except ServiceError as e:
                apply_service_error(form, e)
            else:
                messages.success(request, _("Service group saved."))
                return redirect("service:sla_customer_group", pk=customer.pk)
        status = 400
    decision, history = selectors.customer_service_group(request.user, customer)
    record_customer_view(request.user, customer, part="service_group", **_audit(request))
    return render(request, "service/sla/customer_group.html", {
        "nav": "customers", "customer": customer, "decision": decision, "history": history,
        "form": form, "may_decide": may_decide}, status=status)
