"""The workbench (我的工作台): the page every user lands on after signing in. It says what to
do today: the user's tasks (overdue and due today first), what the last value refresh held
back, their customers at risk, the week's visits and, for a manager, the team's overdue
tasks with a bulk reassignment. Thin: parse, call a selector or service, render."""

from __future__ import annotations

import datetime as dt
from itertools import groupby
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.audit.services import record_list
from kehu.core import policy
from kehu.core.errors import ServiceError
from kehu.core.requests import client_ip
from kehu.customers.forms import CustomerFilterForm, apply_service_error
from kehu.customers.views import MAX_ID
from kehu.tasks import services
from kehu.tasks.selectors import tasks as visible_tasks
from kehu.tasks.services import may_close
from kehu.workbench import selectors
from kehu.workbench.forms import CloseTaskForm, ReassignForm

TASKS_SHOWN = 50
# The customer list used to be the home page: its links (/?q=…&state=…) still lead there.
LIST_PARAMS = set(CustomerFilterForm.base_fields)


def week_of(day: dt.date) -> dt.date:
    """The Monday of the week of `day`."""
    return day - dt.timedelta(days=day.weekday())


def _audit(request: HttpRequest) -> dict:
    return {"ip": client_ip(request), "via": "web"}


def _is_htmx(request: HttpRequest) -> bool:
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-History-Restore-Request") != "true")


def _week(request: HttpRequest, today: dt.date) -> dt.date:
    try:
        day = dt.date.fromisoformat(request.GET.get("week", ""))
    except ValueError:
        day = today
    if abs((day - today).days) > 3660:  # ten years either way: a typo, not a plan
        day = today
    return week_of(day)


def _task_rows(request: HttpRequest, rows, today: dt.date, forms: dict | None = None) -> list:
    for task in rows:
        task.overdue = task.due_on is not None and task.due_on < today
        task.due_today = task.due_on == today
        task.may_close = may_close(request.user, task)
        task.form = (forms or {}).get(task.pk) or CloseTaskForm(task_pk=task.pk)
    return rows


@login_required
def home(request: HttpRequest, *, status: int = 200, close_forms: dict | None = None,
         reassign_form: ReassignForm | None = None) -> HttpResponse:
    if request.method == "GET" and LIST_PARAMS & set(request.GET):
        return redirect(reverse("customers:list") + "?" + request.GET.urlencode(),
                        permanent=True)
    user = request.user
    today = timezone.localdate()
    mine = selectors.my_tasks(user, today)
    rows = _task_rows(request, list(mine[:TASKS_SHOWN]), today, close_forms)
    total = mine.count() if len(rows) == TASKS_SHOWN else len(rows)
    monday = _week(request, today)
    visits = selectors.week_visits(user, monday)
    days = []
    for offset in range(7):
        day = monday + dt.timedelta(days=offset)
        days.append({"day": day, "today": day == today,
                     "visits": [v for v in visits if v.day == day]})
    risky = selectors.at_risk(user)
    context = {
        "nav": "workbench", "today": today, "tasks": rows, "tasks_total": total,
        "due": selectors.due_counts(user, today), "held_back": selectors.held_back(user),
        "at_risk": risky,
        "at_risk_total": selectors.at_risk_count(user) if len(risky) == selectors.AT_RISK_SHOWN
        else len(risky),
        "days": days, "monday": monday,
        "previous_week": "?" + urlencode({"week": (monday - dt.timedelta(days=7)).isoformat()}),
        "next_week": "?" + urlencode({"week": (monday + dt.timedelta(days=7)).isoformat()}),
        "this_week": monday != week_of(today),
        "customers_url": reverse("customers:list"),
    }
    shown = [t.customer_id for t in rows if t.customer_id] + [c.pk for c in risky] + [
        v.customer.pk for v in visits]
    if policy.may_manage_team_tasks(user):
        overdue = list(selectors.team_overdue(user, today)[:selectors.TEAM_ROWS])
        for task in overdue:
            task.days_late = (today - task.due_on).days
        people = [{"assignee": who, "tasks": list(group)}
                  for who, group in groupby(overdue, key=lambda t: t.assignee)]
        context["show_team"] = True
        context["team"] = people
        context["team_count"] = len(overdue)
        form = reassign_form or ReassignForm(user=user, tasks=selectors.team_overdue(user))
        context["reassign_form"] = form
        context["reassign_selected"] = {str(v) for v in form["tasks"].value() or []}
        shown += [t.customer_id for t in overdue if t.customer_id]
    # Reading the workbench is one audit row naming every customer it shows.
    record_list(user, "workbench", shown,
                filters={"week": monday.isoformat()} if "week" in request.GET else None,
                **_audit(request))
    response = render(request, "workbench/home.html", context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _task_of(request: HttpRequest, task_pk: int):
    if task_pk > MAX_ID:
        raise Http404
    task = visible_tasks(request.user).filter(pk=task_pk).first()
    if task is None:
        raise Http404
    return task


@login_required
@require_POST
def close_task(request: HttpRequest, task_pk: int) -> HttpResponse:
    """Complete or dismiss one task (dismissing needs a note). With htmx, the task's row is
    answered in place; without, the workbench."""
    task = _task_of(request, task_pk)
    form = CloseTaskForm(request.POST, task_pk=task.pk)
    closed = None
    if form.is_valid():
        note = form.cleaned_data["note"]
        try:
            if form.cleaned_data["action"] == "dismiss":
                closed = services.dismiss_task(request.user, task, note=note, **_audit(request))
                done = _("Task dismissed: %(task)s") % {"task": closed.shown_title}
            else:
                closed = services.complete_task(request.user, task, note=note,
                                                **_audit(request))
                done = _("Task done: %(task)s") % {"task": closed.shown_title}
        except (ValidationError, ServiceError) as e:
            apply_service_error(form, e)
    if _is_htmx(request):
        today = timezone.localdate()
        if closed is not None:
            closed.form = None
            return render(request, "workbench/_task.html",
                          {"t": closed, "closed_now": done, "today": today})
        _task_rows(request, [task], today, {task.pk: form})
        # htmx swaps only 2xx answers: the row with its errors replaces the row.
        return render(request, "workbench/_task.html", {"t": task, "today": today})
    if closed is not None:
        messages.success(request, done)
        return redirect("workbench:home")
    return home(request, status=400, close_forms={task.pk: form})


@login_required
@require_POST
def reassign(request: HttpRequest) -> HttpResponse:
    """A manager gives several of the team's overdue tasks to one person."""
    if not policy.may_manage_team_tasks(request.user):
        raise Http404
    form = ReassignForm(request.POST, user=request.user,
                        tasks=selectors.team_overdue(request.user))
    if form.is_valid():
        try:
            moved = services.reassign_tasks(request.user, list(form.cleaned_data["tasks"]),
                                            form.cleaned_data["assignee"], **_audit(request))
        except (ValidationError, ServiceError) as e:
            apply_service_error(form, e)
        else:
            messages.success(request, _("%(n)d tasks given to %(who)s.") % {
                "n": moved, "who": form.cleaned_data["assignee"]})
            return redirect(reverse("workbench:home") + "#team")
    return home(request, status=400, reassign_form=form)
