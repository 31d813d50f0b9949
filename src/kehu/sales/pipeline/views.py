"""Web pages of the pipeline: the board, the list, an opportunity, the forecast, the stages
and the competitors. Thin: parse input, call a selector or service, render."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.audit.services import record_list
from kehu.core import policy
from kehu.core.errors import ServiceError, StaleVersion
from kehu.core.money import firm_currency
from kehu.core.pagination import keyset_page
from kehu.core.permissions import CHANGE, VIEW, can, has_action, restrict
from kehu.core.requests import client_ip
from kehu.customers.forms import apply_service_error, submit
from kehu.customers.models import Customer
from kehu.customers.services import record_customer_view
from kehu.customers.views import MAX_ID, customer_for
from kehu.sales.credit.figures import CreditCheck, open_totals
from kehu.sales.models import Competitor
from kehu.sales.pipeline import forecast as fc
from kehu.sales.pipeline import selectors, services
from kehu.sales.pipeline.forms import (
    CompetitorForm,
    FilterForm,
    MoveForm,
    OpportunityForm,
    StageForm,
    StaleForm,
)
from kehu.sales.pipeline.models import Opportunity, Stage, StageKind
from kehu.sales.pipeline.selectors import OpportunityFilters

PAGE_SIZE = 50
FILTER_KEYS = ("owner", "team", "stage", "close_month")


def _audit(request: HttpRequest) -> dict:
    return {"ip": client_ip(request), "via": "web"}


def _may_view(request: HttpRequest) -> None:
    if not has_action(request.user, VIEW):
        raise PermissionDenied


def _filters(request: HttpRequest) -> tuple[FilterForm, OpportunityFilters, str]:
    """The filter form of the board and the list (from the query string), the filters it
    gives, and the query string to keep them."""
    form = FilterForm(request.GET or None, user=request.user)
    filters = OpportunityFilters()
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        filters = OpportunityFilters(
            owner=d["owner"].pk if d["owner"] else None,
            team=d["team"].pk if d["team"] else None,
            stage=d["stage"].pk if d["stage"] else None,
            close_month=d["close_month"])
    query = urlencode({k: v for k, v in filters.__dict__.items()
                       if k in FILTER_KEYS and v not in (None, "")})
    return form, filters, query


def _opportunity(request: HttpRequest, pk: int, action: str = VIEW) -> Opportunity:
    if pk > MAX_ID:
        raise Http404
    opp = selectors.opportunities(request.user, action).filter(pk=pk).first()
    if opp is None:
        raise Http404
    return opp


def _board_context(request: HttpRequest, filters: OpportunityFilters, query: str) -> dict:
    columns = selectors.board(request.user, filters)
    stage_list = [c.stage for c in columns] if not filters.stage else \
        list(selectors.stages(request.user))
    open_stages = [s for s in stage_list if s.is_open]
    closed = [s for s in stage_list if s.is_closed]
    neighbours = {}
    for i, s in enumerate(open_stages):
        neighbours[s.pk] = (open_stages[i - 1] if i else None,
                            open_stages[i + 1] if i + 1 < len(open_stages) else None)
    for s in closed:
        neighbours[s.pk] = (open_stages[-1] if open_stages else None, None)
    stale_days = selectors.pipeline_settings(request.user).stale_after_days
    stale_before = timezone.now() - dt.timedelta(days=stale_days)
    shown = {card.customer_id for c in columns for card in c.cards}
    movable = set(restrict(Customer.objects.filter(pk__in=shown), request.user, CHANGE)
                  .values_list("pk", flat=True)) if shown else set()
    open_receivables = open_totals(shown) if shown and policy.may_see_credit(request.user) \
        else None
    for column in columns:
        for card in column.cards:
            card.prev_stage, card.next_stage = neighbours.get(column.stage.pk, (None, None))
            card.may_move = card.customer_id in movable
            card.is_stale = column.stage.is_open and card.last_touch < stale_before
            card.credit = _credit(card, open_receivables, column.stage.is_open)
    ids = [card.customer_id for c in columns for card in c.cards]
    record_list(request.user, "opportunities", ids, filters=filters, **_audit(request))
    return {"columns": columns, "all_stages": list(selectors.stages(request.user)),
            "query": query, "stale_days": stale_days,
            "lost_reasons": Opportunity._meta.get_field("lost_reason").choices}


def _credit(opp: Opportunity, open_receivables: dict | None, is_open: bool) -> CreditCheck | None:
    """Whether winning this open opportunity would take the customer over the credit limit,
    for those who see the sensitive tier (None for everyone else)."""
    if open_receivables is None or not is_open:
        return None
    check = CreditCheck(opp.customer.credit_limit,
                        open_receivables.get(opp.customer_id, Decimal(0)), opp.amount)
    return check if check.over_limit else None


@login_required
def board(request: HttpRequest) -> HttpResponse:
    _may_view(request)
    form, filters, query = _filters(request)
    return render(request, "sales/pipeline/board.html", {
        "nav": "sales", "sub": "pipeline", "filter_form": form,
        **_board_context(request, filters, query)})


@login_required
def opportunity_list(request: HttpRequest) -> HttpResponse:
    _may_view(request)
    form, filters, query = _filters(request)
    qs = selectors.with_weighted(selectors.last_activity(selectors.filter_opportunities(
        request.user, selectors.opportunities(request.user), filters)))
    page = keyset_page(qs, sort="expected_close", cursor=request.GET.get("cursor") or None,
                       limit=PAGE_SIZE)
    record_list(request.user, "opportunities", [o.customer_id for o in page.items],
                filters=filters, **_audit(request))
    return render(request, "sales/pipeline/list.html", {
        "nav": "sales", "sub": "opportunities", "filter_form": form, "page": page,
        "query": query, "all_stages": list(selectors.stages(request.user))})


def _back(request: HttpRequest, query: str) -> str:
    name = "sales:opportunities" if request.POST.get("back") == "list" else "sales:pipeline"
    url = reverse(name)
    return f"{url}?{query}" if query else url


@login_required
@require_POST
def opportunity_move(request: HttpRequest, opportunity_pk: int) -> HttpResponse:
    """Move a card to another stage: the board's drag (htmx), its buttons and its select
    (plain forms that work without JavaScript, answered by a redirect back)."""
    opp = _opportunity(request, opportunity_pk)
    _form, filters, query = _filters(request)
    htmx = request.headers.get("HX-Request") == "true"
    form = MoveForm(request.POST)
    error = None
    if not form.is_valid():
        error = _("Choose a stage to move the opportunity to.")
    else:
        stage = form.cleaned_data["stage"]
        if stage.kind == StageKind.LOST and not form.cleaned_data["lost_reason"]:
            # Losing is a decision with a reason: the opportunity's page asks for it.
            url = reverse("sales:opportunity", args=[opp.pk]) + f"?stage={stage.pk}"
            messages.info(request, _("Say why “%(title)s” was lost, then save.")
                          % {"title": opp.title})
            if htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = url
                return response
            return redirect(url)
        try:
            moved = services.move_opportunity(
                request.user, opp, stage, expected_version=form.cleaned_data["version"],
                lost_reason=form.cleaned_data["lost_reason"], **_audit(request))
        except StaleVersion as e:
            error = e.message
        except ServiceError as e:
            error = e.message
        else:
            notice = _("“%(title)s” moved to %(stage)s.") % {"title": moved.title,
                                                             "stage": moved.stage.name}
    if not htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, notice)
        return redirect(_back(request, query))
    context = _board_context(request, filters, query)
    context.update(board_error=error, board_notice=None if error else notice,
                   focus=opp.pk)
    return render(request, "sales/pipeline/_board.html", context)


def _form_initial(opp: Opportunity) -> dict:
    return {"title": opp.title, "stage": opp.stage, "amount": opp.amount,
            "expected_close": opp.expected_close, "owner": opp.owner,
            "products": list(opp.products.all()), "competitors": list(opp.competitors.all()),
            "lost_reason": opp.lost_reason, "lost_note": opp.lost_note,
            "description": opp.description, "version": opp.version}


@login_required
def opportunity_create(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_for(request, pk, CHANGE)
    form = OpportunityForm(request.POST or None, user=request.user, initial={
        "owner": customer.owner if policy.may_assign_owner(request.user, customer.owner)
        else request.user,
        "stage": selectors.stages(request.user).filter(kind=StageKind.OPEN).first(),
        "expected_close": timezone.localdate() + dt.timedelta(days=60)})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            opp = services.create_opportunity(
                request.user, customer, title=d["title"], stage=d["stage"], amount=d["amount"],
                expected_close=d["expected_close"], owner=d["owner"], products=d["products"],
                competitors=d["competitors"], description=d["description"],
                lost_reason=d["lost_reason"], lost_note=d["lost_note"], **_audit(request))
        except ServiceError as e:
            apply_service_error(form, e)
        else:
            messages.success(request, _("Opportunity added."))
            return redirect("sales:opportunity", opp.pk)
    if request.method == "GET":
        record_customer_view(request.user, customer, part="opportunities", **_audit(request))
    return render(request, "sales/pipeline/opportunity_form.html", {
        "nav": "sales", "sub": "pipeline", "customer": customer, "form": form,
        "title": _("New opportunity for %(customer)s") % {"customer": customer.name}},
        status=400 if form.is_bound and form.errors else 200)


@login_required
def opportunity_detail(request: HttpRequest, opportunity_pk: int) -> HttpResponse:
    opp = _opportunity(request, opportunity_pk)
    may_change = can(request.user, CHANGE, opp.customer)
    initial = _form_initial(opp)
    if request.method == "GET" and request.GET.get("stage", "").isdigit():
        chosen = Stage.objects.filter(pk=int(request.GET["stage"])).first()
        if chosen is not None:
            initial["stage"] = chosen
    form = OpportunityForm(request.POST or None, user=request.user, initial=initial)
    if not may_change:
        for field in form.fields.values():
            field.disabled = True
    if request.method == "POST" and not may_change:
        raise Http404
    sent = submit(request, form, lambda d: services.update_opportunity(
        request.user, opp, {k: d[k] for k in services.EDITABLE},
        expected_version=d["version"], **_audit(request)))
    if sent.saved:
        messages.success(request, _("Opportunity saved."))
        return redirect("sales:opportunity", sent.result.pk)
    if not sent.posted:
        record_customer_view(request.user, opp.customer, part="opportunities",
                             detail={"opportunity": opp.pk}, **_audit(request))
    receivables = open_totals([opp.customer_id]) if policy.may_see_credit(request.user) \
        else None
    return render(request, "sales/pipeline/opportunity.html", {
        "nav": "sales", "sub": "pipeline", "opp": opp, "form": form, "may_change": may_change,
        "credit": _credit(opp, receivables, opp.stage.is_open),
        "history": selectors.stage_history(request.user, opp)}, status=sent.status)


@login_required
def opportunity_delete(request: HttpRequest, opportunity_pk: int) -> HttpResponse:
    opp = _opportunity(request, opportunity_pk, CHANGE)
    if request.method == "POST":
        customer = opp.customer
        try:
            services.delete_opportunity(request.user, opp, **_audit(request))
        except ServiceError as e:
            messages.error(request, e.message)
            return redirect("sales:opportunity", opp.pk)
        messages.success(request, _("Opportunity deleted."))
        return redirect(reverse("customers:card", args=[customer.pk]) + "?tab=opportunities")
    record_customer_view(request.user, opp.customer, part="opportunities",
                         detail={"opportunity": opp.pk}, **_audit(request))
    return render(request, "customers/confirm_delete.html", {
        "customer": opp.customer, "nav": "sales",
        "title": _("Delete opportunity “%(title)s”?") % {"title": opp.title},
        "cancel_url": reverse("sales:opportunity", args=[opp.pk])})


# Forecast ---------------------------------------------------------------------------------

FORECAST_MONTHS = 9
MONTHS_BACK = 2


@login_required
def forecast(request: HttpRequest) -> HttpResponse:
    if not policy.may_see_forecast(request.user):
        raise PermissionDenied
    form, filters, query = _filters(request)
    # The forecast is by month over every stage: only owner and team narrow it.
    for name in ("stage", "close_month"):
        form.fields.pop(name)
    today = timezone.localdate()
    first = today.replace(day=1)
    for _i in range(MONTHS_BACK):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    months = fc.month_starts(first, FORECAST_MONTHS)
    result = fc.forecast(request.user, filters, months)
    currency = firm_currency()
    chart = fc.chart_data(result, {"symbol": currency.symbol,
                                   "lang": request.LANGUAGE_CODE or "en"})
    return render(request, "sales/pipeline/forecast.html", {
        "nav": "sales", "sub": "forecast", "filter_form": form, "result": result,
        "chart": chart, "this_month": today.replace(day=1), "query": query})


# Stages and settings (admins) ---------------------------------------------------------------

@login_required
def stage_list(request: HttpRequest) -> HttpResponse:
    if not policy.may_change_settings(request.user):
        raise PermissionDenied
    stale_form = StaleForm(request.POST or None, initial={
        "stale_after_days": selectors.pipeline_settings(request.user).stale_after_days})
    new_form = StageForm(prefix="new")
    if request.method == "POST":
        if "stale_after_days" in request.POST:
            if stale_form.is_valid():
                services.update_pipeline_settings(
                    request.user, stale_after_days=stale_form.cleaned_data["stale_after_days"],
                    **_audit(request))
                messages.success(request, _("Settings saved."))
                return redirect("sales:stages")
        else:
            new_form = StageForm(request.POST, prefix="new")
            if new_form.is_valid():
                try:
                    services.save_stage(request.user, None, **new_form.cleaned_data,
                                        **_audit(request))
                except ServiceError as e:
                    apply_service_error(new_form, e)
                else:
                    messages.success(request, _("Stage added."))
                    return redirect("sales:stages")
    stages = list(selectors.stages(request.user))
    counts = dict(Opportunity.objects.order_by().values_list("stage_id").annotate(
        n=Count("id")))
    rows = [{"stage": s, "form": StageForm(prefix=f"s{s.pk}", initial={
        "name_en": s.name_en, "name_zh": s.name_zh, "order": s.order,
        "probability": s.probability}), "count": counts.get(s.pk, 0)} for s in stages]
    return render(request, "sales/pipeline/stages.html", {
        "nav": "sales", "sub": "stages", "rows": rows, "new_form": new_form,
        "stale_form": stale_form, "open_stages": [s for s in stages if s.is_open]},
        status=400 if request.method == "POST" else 200)


@login_required
@require_POST
def stage_save(request: HttpRequest, stage_pk: int) -> HttpResponse:
    if not policy.may_change_settings(request.user):
        raise PermissionDenied
    stage = Stage.objects.filter(pk=min(stage_pk, MAX_ID)).first()
    if stage is None:
        raise Http404
    form = StageForm(request.POST, prefix=f"s{stage.pk}")
    if form.is_valid():
        try:
            services.save_stage(request.user, stage, **form.cleaned_data, **_audit(request))
        except ServiceError as e:
            messages.error(request, e.message)
        else:
            messages.success(request, _("Stage saved."))
    else:
        messages.error(request, "; ".join(f"{form.fields[f].label}: {' '.join(errs)}"
                                          if f in form.fields else " ".join(errs)
                                          for f, errs in form.errors.items()))
    return redirect("sales:stages")


@login_required
@require_POST
def stage_delete(request: HttpRequest, stage_pk: int) -> HttpResponse:
    if not policy.may_change_settings(request.user):
        raise PermissionDenied
    stage = Stage.objects.filter(pk=min(stage_pk, MAX_ID)).first()
    if stage is None:
        raise Http404
    move_to = None
    target = request.POST.get("move_to", "")
    if target.isdigit():
        move_to = Stage.objects.filter(pk=min(int(target), MAX_ID)).first()
    try:
        moved = services.delete_stage(request.user, stage, move_to=move_to, **_audit(request))
    except ServiceError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("Stage removed; %(count)s opportunities moved.")
                         % {"count": moved})
    return redirect("sales:stages")


# Competitors (managers and admins edit; everyone who works on opportunities reads) ----------

@login_required
def competitor_list(request: HttpRequest) -> HttpResponse:
    _may_view(request)
    may_edit = policy.may_edit_competitors(request.user)
    form = CompetitorForm(request.POST or None)
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.save_competitor(request.user, None, **form.cleaned_data,
                                         **_audit(request))
            except ServiceError as e:
                apply_service_error(form, e)
            else:
                messages.success(request, _("Competitor added."))
                return redirect("sales:competitors")
    rows = []
    open_counts = dict(selectors.opportunities(request.user).filter(stage__kind="open")
                       .order_by().values_list("competitors").annotate(n=Count("id")))
    for c in selectors.competitors(request.user):
        rows.append({"competitor": c, "open": open_counts.get(c.pk, 0),
                     "form": CompetitorForm(prefix=f"c{c.pk}", initial={
                         "name": c.name, "website": c.website, "notes": c.notes})})
    return render(request, "sales/pipeline/competitors.html", {
        "nav": "sales", "sub": "competitors", "rows": rows, "form": form,
        "may_edit": may_edit}, status=400 if request.method == "POST" else 200)


@login_required
@require_POST
def competitor_save(request: HttpRequest, competitor_pk: int) -> HttpResponse:
    if not policy.may_edit_competitors(request.user):
        raise PermissionDenied
    competitor = Competitor.objects.filter(pk=min(competitor_pk, MAX_ID)).first()
    if competitor is None:
        raise Http404
    form = CompetitorForm(request.POST, prefix=f"c{competitor.pk}")
    if form.is_valid():
        try:
            services.save_competitor(request.user, competitor, **form.cleaned_data,
                                     **_audit(request))
        except ServiceError as e:
            messages.error(request, e.message)
        else:
            messages.success(request, _("Competitor saved."))
    else:
        messages.error(request, "; ".join(" ".join(errs) for errs in form.errors.values()))
    return redirect("sales:competitors")


@login_required
@require_POST
def competitor_delete(request: HttpRequest, competitor_pk: int) -> HttpResponse:
    if not policy.may_edit_competitors(request.user):
        raise PermissionDenied
    competitor = Competitor.objects.filter(pk=min(competitor_pk, MAX_ID)).first()
    if competitor is None:
        raise Http404
    services.delete_competitor(request.user, competitor, **_audit(request))
    messages.success(request, _("Competitor removed."))
    return redirect("sales:competitors")
