"""Web pages of key-account plans. Thin: parse input, call a selector or service, render.
Every page that shows a plan records the read (kehu.customers.services.record_customer_view);
the list records one row naming the customers shown."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.audit.services import record_list
from kehu.core.errors import NotPermitted, ServiceError
from kehu.core.permissions import CHANGE, can
from kehu.core.requests import client_ip
from kehu.customers.forms import apply_service_error, submit
from kehu.customers.services import record_customer_view
from kehu.customers.views import MAX_ID, customer_for, record_form_view
from kehu.sales.plans import selectors, services
from kehu.sales.plans.forms import OrientationForm, PlanForm, SheetForm, StepForm
from kehu.sales.plans.models import (
    AccountPlan,
    BuyingOrientation,
    PlanCompetitor,
    PlanStep,
    RelationshipLevel,
)
from kehu.sales.plans.orientation import APPROACHES
from kehu.tasks.models import TaskStatus

PER_PAGE = 50
NAV = "sales"


def _audit(request: HttpRequest) -> dict:
    return {"ip": client_ip(request), "via": "web"}


def _plan(request: HttpRequest, plan_pk: int, action: str = "view") -> AccountPlan:
    if plan_pk > MAX_ID:
        raise Http404
    try:
        return selectors.get_plan(request.user, plan_pk, action)
    except AccountPlan.DoesNotExist:
        raise Http404 from None


def _sheet(request: HttpRequest, plan: AccountPlan, sheet_pk: int) -> PlanCompetitor:
    if sheet_pk > MAX_ID:
        raise Http404
    try:
        return selectors.get_sheet(request.user, plan, sheet_pk)
    except PlanCompetitor.DoesNotExist:
        raise Http404 from None


def _step(request: HttpRequest, plan: AccountPlan, step_pk: int) -> PlanStep:
    if step_pk > MAX_ID:
        raise Http404
    try:
        return selectors.get_step(request.user, plan, step_pk)
    except PlanStep.DoesNotExist:
        raise Http404 from None


def plan_url(plan: AccountPlan, anchor: str = "") -> str:
    url = reverse("sales:plan", args=[plan.pk])
    return f"{url}#{anchor}" if anchor else url


def _read(request: HttpRequest, plan: AccountPlan, part: str, **detail) -> None:
    if request.method == "GET":
        record_customer_view(request.user, plan.customer, part=part,
                             detail={"plan": plan.pk, **detail}, **_audit(request))


# The list ---------------------------------------------------------------------------------

@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    g = request.GET
    owner = g.get("owner", "")
    filters = selectors.PlanFilters(
        q=g.get("q", "").strip()[:100],
        owner=int(owner) if owner.isdigit() and int(owner) <= MAX_ID else None,
        relationship_level=g.get("relationship_level", "")
        if g.get("relationship_level", "") in RelationshipLevel.values else "",
        buying_orientation=g.get("buying_orientation", "")
        if g.get("buying_orientation", "") in BuyingOrientation.values else "",
        review_due=g.get("review_due") == "1")
    qs = selectors.plan_list(user, filters, today=timezone.localdate()).order_by(
        "customer__name", "pk")
    page = Paginator(qs, PER_PAGE).get_page(g.get("page"))
    plans = list(page.object_list)
    key_customers = selectors.key_customers_without_plan(user)
    shown = [p.customer_id for p in plans] + [c.pk for c, _r in key_customers]
    record_list(user, "account_plans", shown,
                filters={k: v for k, v in filters.__dict__.items() if v}, **_audit(request))
    return render(request, "sales/plans/list.html", {
        "nav": NAV, "page": page, "plans": plans, "filters": filters,
        "key_customers": key_customers, "levels": RelationshipLevel.choices,
        "orientations": BuyingOrientation.choices, "today": timezone.localdate()})


# One plan ---------------------------------------------------------------------------------

def plan_context(request: HttpRequest, plan: AccountPlan) -> dict:
    """What the plan page and the card's tab show."""
    user = request.user
    suggestion = selectors.suggested_orientation(user, plan.customer)
    steps = list(selectors.steps(user, plan))
    return {
        "plan": plan, "customer": plan.customer,
        "may_change": can(user, CHANGE, plan.customer),
        "chain": selectors.decision_chain(user, plan.customer),
        "sheets": list(selectors.sheets(user, plan)),
        "steps": steps, "open_status": TaskStatus.OPEN,
        "steps_done": sum(1 for s in steps if s.task and s.task.status == TaskStatus.DONE),
        "suggestion": suggestion,
        "approach": APPROACHES.get(plan.buying_orientation, ""),
        "key_reason": selectors.key_reason(user, plan.customer),
        "history": plan.history.select_related("history_user").order_by("-history_date")[:10],
        "today": timezone.localdate(),
    }


@login_required
def plan_detail(request: HttpRequest, plan_pk: int) -> HttpResponse:
    plan = _plan(request, plan_pk)
    _read(request, plan, "account_plan")
    return render(request, "sales/plans/detail.html", {"nav": NAV,
                                                       **plan_context(request, plan)})


@login_required
def plan_create(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_for(request, pk, CHANGE)
    existing = selectors.plan_of(request.user, customer)
    if existing is not None:
        return redirect(plan_url(existing))
    if not selectors.may_start_plan(request.user, customer):
        raise Http404
    owners = selectors.step_owners(request.user, customer)
    form = PlanForm(request.POST or None, instance=AccountPlan(customer=customer),
                    owners=owners)
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.create_plan(request.user, customer, form.service_data(),
                                        owner=form.cleaned_data["owner"], **_audit(request))
        except (ValidationError, ServiceError) as e:
            apply_service_error(form, e)
        else:
            messages.success(request, _("Account plan started."))
            return redirect(plan_url(plan))
    record_form_view(request, customer, "account_plan_create")
    return render(request, "sales/plans/plan_form.html", {
        "nav": NAV, "form": form, "customer": customer, "plan": None,
        "key_reason": selectors.key_reason(request.user, customer)},
        status=400 if request.method == "POST" else 200)


@login_required
def plan_edit(request: HttpRequest, plan_pk: int) -> HttpResponse:
    plan = _plan(request, plan_pk, CHANGE)
    form = PlanForm(request.POST or None, instance=plan,
                    owners=selectors.step_owners(request.user, plan.customer))
    form.fields["version"].required = True
    sent = submit(request, form, lambda data: services.update_plan(
        request.user, plan, form.service_data(), expected_version=data["version"],
        owner=data["owner"], **_audit(request)))
    if sent.saved:
        messages.success(request, _("Account plan saved."))
        return redirect(plan_url(plan))
    _read(request, plan, "account_plan_edit")
    return render(request, "sales/plans/plan_form.html", {
        "nav": NAV, "form": form, "customer": plan.customer, "plan": plan,
        "conflict": sent.conflict}, status=sent.status)


@login_required
@require_POST
def plan_orientation(request: HttpRequest, plan_pk: int) -> HttpResponse:
    """Record the buying orientation the purchases suggest."""
    plan = _plan(request, plan_pk, CHANGE)
    form = OrientationForm(request.POST)
    if not form.is_valid() or form.cleaned_data["buying_orientation"] not in \
            BuyingOrientation.values:
        messages.error(request, _("Choose a buying orientation from the list."))
        return redirect(plan_url(plan, "orientation"))
    try:
        services.update_plan(request.user, plan, {
            "buying_orientation": form.cleaned_data["buying_orientation"]},
            expected_version=form.cleaned_data["version"], **_audit(request))
    except ServiceError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("Buying orientation recorded."))
    return redirect(plan_url(plan, "orientation"))


# The competitor sheet ---------------------------------------------------------------------

@login_required
def sheet_create(request: HttpRequest, plan_pk: int) -> HttpResponse:
    plan = _plan(request, plan_pk, CHANGE)
    taken = plan.competitors.values_list("competitor_id", flat=True)
    form = SheetForm(request.POST or None, instance=PlanCompetitor(plan=plan),
                     competitors=selectors.competitors(request.user).exclude(pk__in=taken))
    if request.method == "POST" and form.is_valid():
        try:
            services.add_competitor(request.user, plan,
                                    competitor=form.cleaned_data["competitor"],
                                    new_name=form.cleaned_data["new_competitor"],
                                    data=form.service_data(), **_audit(request))
        except (ValidationError, ServiceError) as e:
            apply_service_error(form, e)
        else:
            messages.success(request, _("Competitor added to the plan."))
            return redirect(plan_url(plan, "competitors"))
    _read(request, plan, "account_plan_competitor")
    return render(request, "sales/plans/sheet_form.html", {
        "nav": NAV, "form": form, "plan": plan, "customer": plan.customer, "sheet": None},
        status=400 if request.method == "POST" else 200)


@login_required
def sheet_edit(request: HttpRequest, plan_pk: int, sheet_pk: int) -> HttpResponse:
    plan = _plan(request, plan_pk, CHANGE)
    sheet = _sheet(request, plan, sheet_pk)
    form = SheetForm(request.POST or None, instance=sheet)
    form.fields["version"].required = True
    sent = submit(request, form, lambda data: services.update_competitor(
        request.user, sheet, form.service_data(), expected_version=data["version"],
        **_audit(request)))
    if sent.saved:
        messages.success(request, _("Competitor sheet saved."))
        return redirect(plan_url(plan, "competitors"))
    _read(request, plan, "account_plan_competitor", competitor=sheet.pk)
    return render(request, "sales/plans/sheet_form.html", {
        "nav": NAV, "form": form, "plan": plan, "customer": plan.customer, "sheet": sheet,
        "conflict": sent.conflict}, status=sent.status)


@login_required
def sheet_delete(request: HttpRequest, plan_pk: int, sheet_pk: int) -> HttpResponse:
    plan = _plan(request, plan_pk, CHANGE)
    sheet = _sheet(request, plan, sheet_pk)
    if request.method == "POST":
        services.remove_competitor(request.user, sheet, **_audit(request))
        messages.success(request, _("%(name)s removed from the plan.")
                         % {"name": sheet.competitor.name})
        return redirect(plan_url(plan, "competitors"))
    _read(request, plan, "account_plan_competitor", competitor=sheet.pk)
    return render(request, "customers/confirm_delete.html", {
        "customer": plan.customer, "nav": NAV,
        "title": _("Remove %(name)s from the account plan?") % {"name": sheet.competitor.name},
        "cancel_url": plan_url(plan, "competitors")})


# The action plan --------------------------------------------------------------------------

@login_required
def step_create(request: HttpRequest, plan_pk: int) -> HttpResponse:
    plan = _plan(request, plan_pk, CHANGE)
    form = StepForm(request.POST or None,
                    owners=selectors.step_owners(request.user, plan.customer),
                    initial={"owner": plan.owner_id})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.add_step(request.user, plan, title=data["title"], owner=data["owner"],
                              due_on=data["due_on"], **_audit(request))
        except (ValidationError, ServiceError) as e:
            apply_service_error(form, e)
        else:
            messages.success(request, _("Step added; it is a task on its owner's workbench."))
            return redirect(plan_url(plan, "steps"))
    _read(request, plan, "account_plan_step")
    return render(request, "sales/plans/step_form.html", {
        "nav": NAV, "form": form, "plan": plan, "customer": plan.customer, "step": None},
        status=400 if request.method == "POST" else 200)


@login_required
def step_edit(request: HttpRequest, plan_pk: int, step_pk: int) -> HttpResponse:
    plan = _plan(request, plan_pk, CHANGE)
    step = _step(request, plan, step_pk)
    form = StepForm(request.POST or None, step=step,
                    owners=selectors.step_owners(request.user, plan.customer))
    form.fields["version"].required = True
    sent = submit(request, form, lambda data: services.update_step(
        request.user, step, title=data["title"], owner=data["owner"], due_on=data["due_on"],
        expected_version=data["version"], **_audit(request)))
    if sent.saved:
        messages.success(request, _("Step saved."))
        return redirect(plan_url(plan, "steps"))
    _read(request, plan, "account_plan_step", step=step.pk)
    return render(request, "sales/plans/step_form.html", {
        "nav": NAV, "form": form, "plan": plan, "customer": plan.customer, "step": step,
        "conflict": sent.conflict}, status=sent.status)


@login_required
def step_delete(request: HttpRequest, plan_pk: int, step_pk: int) -> HttpResponse:
    plan = _plan(request, plan_pk, CHANGE)
    step = _step(request, plan, step_pk)
    if request.method == "POST":
        services.delete_step(request.user, step, **_audit(request))
        messages.success(request, _("Step “%(title)s” deleted.") % {"title": step.title})
        return redirect(plan_url(plan, "steps"))
    _read(request, plan, "account_plan_step", step=step.pk)
    return render(request, "customers/confirm_delete.html", {
        "customer": plan.customer, "nav": NAV,
        "title": _("Delete the step “%(title)s”? Its open task is withdrawn.")
        % {"title": step.title},
        "cancel_url": plan_url(plan, "steps")})


@login_required
@require_POST
def step_done(request: HttpRequest, plan_pk: int, step_pk: int) -> HttpResponse:
    plan = _plan(request, plan_pk)
    step = _step(request, plan, step_pk)
    try:
        services.complete_step(request.user, step, **_audit(request))
    except (NotPermitted, ServiceError) as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("Step done."))
    return redirect(plan_url(plan, "steps"))
