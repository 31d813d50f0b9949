"""Web pages for leads: the queues (one per prescribed action, with counts), the lead form,
the lead's page (judge MAN, the checklist and the score that explains itself, contacts,
convert), and the funnel. Thin: parse, call a selector or service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.audit.services import record, record_list, used_filters
from kehu.core import policy
from kehu.core.errors import ServiceError
from kehu.core.permissions import CHANGE, VIEW
from kehu.core.requests import client_ip
from kehu.customers.forms import apply_service_error
from kehu.customers.selectors import customers as visible_customers
from kehu.customers.views import MAX_ID
from kehu.sales.leads import man, selectors, services
from kehu.sales.leads.forms import (
    ContactForm,
    FunnelForm,
    JudgeForm,
    LeadFilterForm,
    LeadForm,
    from_bool,
    to_bool,
)
from kehu.sales.leads.models import CHECKLIST, Lead, LeadStatus
from kehu.sales.leads.scoring import score_lead
from kehu.tasks.models import Task, TaskStatus

PAGE = 50


def _audit(request: HttpRequest) -> dict:
    return {"ip": client_ip(request), "via": "web"}


def _lead(request: HttpRequest, pk: int, action: str = VIEW) -> Lead:
    if pk > MAX_ID:
        raise Http404
    try:
        return selectors.get_lead(request.user, pk, action)
    except Lead.DoesNotExist:
        raise Http404 from None


def _record_view(request: HttpRequest, lead: Lead) -> None:
    """A read of a lead, naming the customers its page shows (who referred it, what it
    became)."""
    named = sorted({i for i in (lead.referrer_id, lead.customer_id) if i})
    record(request.user, "lead.view", obj=lead, customer_id=lead.customer_id,
           detail={"lead": lead.pk, "customers": named}, **_audit(request))


def _may_change(user, lead: Lead) -> bool:
    return selectors.leads(user, CHANGE).filter(pk=lead.pk).exists()


def _referrer(request: HttpRequest, text: str):
    text = (text or "").strip()
    if not text:
        return None
    found = list(visible_customers(request.user).filter(Q(name=text) | Q(external_id=text))[:2])
    if len(found) != 1:
        raise ServiceError(_("No single customer you may see is called “%(name)s”.")
                           % {"name": text}, field="referrer")
    return found[0]


@login_required
def lead_list(request: HttpRequest) -> HttpResponse:
    form = LeadFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    filters = selectors.LeadFilters(q=data.get("q", ""), action=data.get("action", ""),
                                    status=data.get("status", ""),
                                    source=data.get("source", ""))
    page = selectors.lead_page(request.user, filters, cursor=request.GET.get("cursor") or None,
                               limit=PAGE)
    record_list(request.user, "leads", sorted(
        {x.referrer_id for x in page.items if x.referrer_id}
        | {x.customer_id for x in page.items if x.customer_id}), filters=filters,
        detail={"leads": [x.pk for x in page.items]}, **_audit(request))
    counts = selectors.queue_counts(request.user)
    queues = [{"code": c, "label": man.ACTIONS[c].label, "count": counts[c],
               "current": filters.action == c} for c in man.QUEUE_ORDER]
    return render(request, "sales/leads/list.html", {
        "nav": "sales", "form": form, "page": page, "queues": queues, "filters": filters,
        "current_action": man.ACTIONS.get(filters.action),
        "may_create": policy.may_create_leads(request.user)})


def _save_form(request: HttpRequest, form: LeadForm, lead: Lead | None):
    d = form.cleaned_data
    data = {k: d[k] for k in services.LEAD_FIELDS if k in d and k not in dict(CHECKLIST)}
    data.update({k: to_bool(d[k]) for k, _l in CHECKLIST})
    judgements = {f: (to_bool(d[f]), d[f"{f}_note"]) for f in ("money", "authority", "need")}
    referrer = _referrer(request, d.get("referrer", ""))
    if lead is not None and referrer is None and lead.referrer_id \
            and selectors.shown_relations(request.user, lead)[0] is None:
        # A referrer out of the user's reach was not in the form to keep: it stays.
        referrer = False
    owner = d.get("owner")
    if lead is None:
        return services.create_lead(request.user, data, owner=owner, referrer=referrer,
                                    judgements=judgements, **_audit(request))
    return services.update_lead(request.user, lead, data, judgements=judgements, owner=owner,
                                referrer=referrer, expected_version=d.get("version"),
                                **_audit(request))


@login_required
def lead_create(request: HttpRequest) -> HttpResponse:
    if not policy.may_create_leads(request.user):
        raise Http404
    form = LeadForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            lead = _save_form(request, form, None)
        except (ServiceError, ValidationError) as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("Lead created: %(man)s — %(action)s.") % {
                "man": lead.man, "action": man.ACTIONS[lead.action].label})
            return redirect("sales:lead_detail", lead.pk)
    return render(request, "sales/leads/form.html", {"nav": "sales", "form": form},
                  status=400 if form.errors else 200)


@login_required
def lead_edit(request: HttpRequest, lead_pk: int) -> HttpResponse:
    lead = _lead(request, lead_pk, CHANGE)
    initial = {k: getattr(lead, k) for k in services.LEAD_FIELDS}
    initial.update({k: from_bool(getattr(lead, k)) for k in ("money", "authority", "need",
                                                             *dict(CHECKLIST))})
    initial.update(money_note=lead.money_note, authority_note=lead.authority_note,
                   need_note=lead.need_note, version=lead.version, owner=lead.owner_id,
                   referrer=getattr(selectors.shown_relations(request.user, lead)[0], "name",
                                    ""))
    form = LeadForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "GET":
        _record_view(request, lead)
    if request.method == "POST" and form.is_valid():
        try:
            lead = _save_form(request, form, lead)
        except (ServiceError, ValidationError) as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("Lead saved."))
            return redirect("sales:lead_detail", lead.pk)
    return render(request, "sales/leads/form.html", {"nav": "sales", "form": form,
                                                      "lead": lead},
                  status=400 if form.errors else 200)


def _detail(request: HttpRequest, lead: Lead, *, judge_form=None, contact_form=None,
            status: int = 200) -> HttpResponse:
    score = score_lead(lead)
    _record_view(request, lead)
    tasks = Task.objects.filter(lead=lead).select_related("assignee").order_by(
        "status", "-id")
    may_change = _may_change(request.user, lead)
    referrer, became = selectors.shown_relations(request.user, lead)
    return render(request, "sales/leads/detail.html", {
        "nav": "sales", "lead": lead, "score": score, "referrer": referrer, "became": became,
        "score_groups": [(label, score.group(key), *score.subtotal(key)) for key, label in (
            ("man", _("MAN judgements")), ("checklist", _("Selection checklist")),
            ("look_alike", _("Look-alike to our loyal customers")))],
        "action": man.ACTIONS[lead.action], "judgements": selectors.judgements(
            request.user, lead), "tasks": tasks, "open_task": next(
            (t for t in tasks if t.status == TaskStatus.OPEN), None),
        "may_change": may_change and lead.status != LeadStatus.CONVERTED,
        "may_convert": may_change and lead.status == LeadStatus.QUALIFIED,
        "judge_form": judge_form or JudgeForm(initial={
            "money": from_bool(lead.money), "authority": from_bool(lead.authority),
            "need": from_bool(lead.need), "money_note": lead.money_note,
            "authority_note": lead.authority_note, "need_note": lead.need_note,
            "version": lead.version}),
        "contact_form": contact_form or ContactForm(),
        "checklist": [(label, getattr(lead, name)) for name, label in CHECKLIST],
    }, status=status)


@login_required
def lead_detail(request: HttpRequest, lead_pk: int) -> HttpResponse:
    return _detail(request, _lead(request, lead_pk))


@login_required
@require_POST
def lead_judge(request: HttpRequest, lead_pk: int) -> HttpResponse:
    lead = _lead(request, lead_pk, CHANGE)
    form = JudgeForm(request.POST)
    if form.is_valid():
        try:
            lead = services.judge_lead(request.user, lead, form.judgements(),
                                       expected_version=form.cleaned_data["version"],
                                       **_audit(request))
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("Judged: %(man)s — %(action)s.") % {
                "man": lead.man, "action": man.ACTIONS[lead.action].label})
            return redirect("sales:lead_detail", lead.pk)
    return _detail(request, lead, judge_form=form, status=400)


@login_required
@require_POST
def lead_contact(request: HttpRequest, lead_pk: int) -> HttpResponse:
    lead = _lead(request, lead_pk, CHANGE)
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            services.add_lead_contact(request.user, lead, form.cleaned_data, **_audit(request))
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("Contact added."))
            return redirect("sales:lead_detail", lead.pk)
    return _detail(request, lead, contact_form=form, status=400)


@login_required
@require_POST
def lead_convert(request: HttpRequest, lead_pk: int) -> HttpResponse:
    lead = _lead(request, lead_pk, CHANGE)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = None
    try:
        customer = services.convert_lead(request.user, lead, expected_version=version,
                                         **_audit(request))
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("sales:lead_detail", lead.pk)
    messages.success(request, _("The lead is now the customer %(name)s (target).")
                     % {"name": customer.name})
    return redirect(reverse("customers:card", args=[customer.pk]))


@login_required
def lead_funnel(request: HttpRequest) -> HttpResponse:
    if not policy.may_see_lead_funnel(request.user):
        raise Http404
    form = FunnelForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    by = data.get("by") or "source"
    result = selectors.funnel(request.user, by=by, since=data.get("since"),
                              until=data.get("until"))
    record(request.user, "lead.funnel", detail={"filter": used_filters(
        {"by": by, "since": data.get("since"), "until": data.get("until")})},
        **_audit(request))
    step_labels = [_("Leads"), _("Qualified"), _("Converted (target)"), _("First purchase")]
    chart = {"funnel": {
        "steps": step_labels,
        "groups": [r.label for r in result.rows],
        "values": [[r.counts[s] for r in result.rows] for s in selectors.STEPS],
        "y": _("Leads")}}
    return render(request, "sales/leads/funnel.html", {
        "nav": "sales", "form": form, "funnel": result, "by": by, "step_labels": step_labels,
        "chart": chart})
