"""Web pages for tasks on the customer card. Thin: parse input, call a service, redirect."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.errors import ServiceError
from kehu.core.permissions import CONTRIBUTE
from kehu.core.requests import client_ip
from kehu.customers.forms import apply_service_error
from kehu.customers.views import MAX_ID, card_url, customer_for, render_card
from kehu.tasks import selectors, services
from kehu.tasks.forms import CloseForm, TaskForm
from kehu.tasks.models import TaskKind


def _audit(request: HttpRequest) -> dict:
    return {"ip": client_ip(request), "via": "web"}


@login_required
@require_POST
def task_add(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_for(request, pk, CONTRIBUTE)
    form = TaskForm(request.POST, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.add_task(request.user, customer, title=data["title"],
                              assignee=data["assignee"], due_on=data["due_on"],
                              priority=data["priority"], detail=data["detail"],
                              kind=data["kind"] or TaskKind.TODO,
                              **_audit(request))
        except (ValidationError, ServiceError) as e:
            apply_service_error(form, e)
        else:
            messages.success(request, _("Task added."))
            return redirect(card_url(customer, "tasks"))
    return render_card(request, customer, "tasks", status=400, task_form=form)


@login_required
@require_POST
def task_close(request: HttpRequest, pk: int, task_pk: int) -> HttpResponse:
    customer = customer_for(request, pk)
    if task_pk > MAX_ID:
        raise Http404
    task = selectors.tasks(request.user).filter(customer=customer, pk=task_pk).first()
    if task is None:
        raise Http404
    form = CloseForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        if request.POST.get("action") == "dismiss":
            services.dismiss_task(request.user, task, note=note, **_audit(request))
            messages.success(request, _("Task dismissed."))
        else:
            services.complete_task(request.user, task, note=note, **_audit(request))
            messages.success(request, _("Task done."))
    except ServiceError as e:
        messages.error(request, e.message)
    return redirect(card_url(customer, "tasks"))
