"""Web pages for campaigns and target lists: the lists of each, the target list form with
its exact count updated while the filter is edited (htmx), a list's members, the campaign
form, its page with launch, finish and the results against the hold-out group. Thin:
parse, call a selector or service, render."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.audit.services import record, record_list
from kehu.core import policy
from kehu.core.errors import ServiceError
from kehu.core.money import format_money
from kehu.core.requests import client_ip
from kehu.customers.forms import submit
from kehu.customers.views import MAX_ID
from kehu.marketing.campaigns import criteria as criteria_module
from kehu.marketing.campaigns import selectors, services
from kehu.marketing.campaigns.forms import CampaignForm, CriteriaForm, TargetListForm
from kehu.marketing.campaigns.models import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    ListKind,
    TargetList,
)
from kehu.marketing.consent.models import SendStatus as MailStatus

PAGE = 50


def _audit(request: HttpRequest) -> dict:
    return {"ip": client_ip(request), "via": "web"}


def _may_see(request: HttpRequest) -> None:
    """Making lists and campaigns is for those who run campaigns; reading them is for
    everyone whose scope reaches their owner, like the API."""
    if not policy.may_run_campaigns(request.user):
        raise Http404


def _campaign(request: HttpRequest, pk: int) -> Campaign:
    if pk > MAX_ID:
        raise Http404
    try:
        return selectors.get_campaign(request.user, pk)
    except Campaign.DoesNotExist:
        raise Http404 from None


def _target_list(request: HttpRequest, pk: int) -> TargetList:
    if pk > MAX_ID:
        raise Http404
    try:
        return selectors.get_target_list(request.user, pk)
    except TargetList.DoesNotExist:
        raise Http404 from None


def _may_change(user, obj) -> bool:
    return policy.may_change_campaign(user, obj.owner_id, obj.team_id)


# Target lists ----------------------------------------------------------------------------

@login_required
def target_list_list(request: HttpRequest) -> HttpResponse:
    page = selectors.target_list_page(request.user, selectors.ListFilters(),
                                      cursor=request.GET.get("cursor") or None, limit=PAGE)
    counts = selectors.counts(request.user, page.items)
    record(request.user, "target_list.list", detail={"target_lists": [x.pk for x in page.items]},
           **_audit(request))
    return render(request, "marketing/campaigns/target_lists.html", {
        "nav": "marketing", "subnav": "target_lists", "page": page,
        "rows": [(tl, counts[tl.pk]) for tl in page.items],
        "may_run": policy.may_run_campaigns(request.user)})


def _initial_from_query(request: HttpRequest) -> dict:
    """A filter given in the address (the value dashboard's "new campaign from this
    segment" link): its valid part becomes the form's first values."""
    form = CriteriaForm(request.GET)
    initial = form.criteria()
    for key, title in (("segment", _("Segment: %(group)s")),
                       ("quadrant", _("Quadrant: %(group)s"))):
        if initial.get(key):
            label = dict(criteria_module.BY_KEY[key].choices).get(initial[key], initial[key])
            initial["name"] = title % {"group": label}
    return initial


def _count_context(request: HttpRequest, form: CriteriaForm) -> dict:
    try:
        cleaned = criteria_module.clean(form.criteria())
    except ServiceError as exc:
        return {"count": None, "count_error": exc.message}
    return {"count": selectors.matching(request.user, cleaned).count(), "count_error": None}


@login_required
def target_list_count(request: HttpRequest) -> HttpResponse:
    """The exact number of customers of the user's scope that the filter matches (the
    form asks for it as the filter is edited)."""
    _may_see(request)
    form = CriteriaForm(request.GET)
    return render(request, "marketing/campaigns/_count.html",
                  {**_count_context(request, form), "criteria_form": form})


def _save_list(request: HttpRequest, form: TargetListForm, target_list: TargetList | None):
    d = form.cleaned_data
    data = {"name": d["name"], "description": d.get("description", "")}
    if target_list is None:
        return services.create_target_list(request.user, data, criteria=form.criteria(),
                                           kind=d["kind"], **_audit(request))
    criteria = None if target_list.kind == ListKind.FROZEN else form.criteria()
    return services.update_target_list(request.user, target_list, data, criteria=criteria,
                                       expected_version=d.get("version"), **_audit(request))


@login_required
def target_list_create(request: HttpRequest) -> HttpResponse:
    _may_see(request)
    form = TargetListForm(request.POST or None,
                          initial=_initial_from_query(request) if request.method == "GET"
                          else None)
    sent = submit(request, form, lambda d: _save_list(request, form, None))
    if sent.saved:
        messages.success(request, _("Target list saved."))
        if request.POST.get("then") == "campaign":
            return redirect(f"{reverse('marketing:campaign_create')}?target_list="
                            f"{sent.result.pk}")
        return redirect("marketing:target_list_detail", sent.result.pk)
    count_form = CriteriaForm(request.POST or {k: v for k, v in form.initial.items()}
                              if request.method == "POST" or form.initial else None)
    return render(request, "marketing/campaigns/target_list_form.html", {
        "nav": "marketing", "subnav": "target_lists", "form": form,
        **_count_context(request, count_form)}, status=sent.status)


@login_required
def target_list_edit(request: HttpRequest, list_pk: int) -> HttpResponse:
    target_list = _target_list(request, list_pk)
    if not _may_change(request.user, target_list):
        raise Http404
    initial = {"name": target_list.name, "description": target_list.description,
               "version": target_list.version, **target_list.criteria}
    form = TargetListForm(request.POST or None, initial=initial, editing=target_list)
    sent = submit(request, form, lambda d: _save_list(request, form, target_list))
    if sent.saved:
        messages.success(request, _("Target list saved."))
        return redirect("marketing:target_list_detail", sent.result.pk)
    count_form = CriteriaForm(request.POST if request.method == "POST" else initial)
    return render(request, "marketing/campaigns/target_list_form.html", {
        "nav": "marketing", "subnav": "target_lists", "form": form,
        "target_list": target_list, **_count_context(request, count_form)},
        status=sent.status)


@login_required
def target_list_detail(request: HttpRequest, list_pk: int) -> HttpResponse:
    target_list = _target_list(request, list_pk)
    page = selectors.member_page(request.user, target_list,
                                 cursor=request.GET.get("cursor") or None, limit=PAGE)
    record_list(request.user, "target_list", [c.pk for c in page.items],
                filters=target_list.criteria, detail={"target_list": target_list.pk},
                **_audit(request))
    return render(request, "marketing/campaigns/target_list_detail.html", {
        "nav": "marketing", "subnav": "target_lists", "target_list": target_list,
        "page": page, "criteria": criteria_module.describe(target_list.criteria),
        "campaigns": selectors.campaigns(request.user).filter(target_list=target_list),
        "may_change": _may_change(request.user, target_list),
        "may_run": policy.may_run_campaigns(request.user)})


@login_required
@require_POST
def target_list_freeze(request: HttpRequest, list_pk: int) -> HttpResponse:
    target_list = _target_list(request, list_pk)
    try:
        services.freeze_target_list(request.user, target_list,
                                    expected_version=_version(request), **_audit(request))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The list is frozen: it keeps the customers it holds "
                                    "now."))
    return redirect("marketing:target_list_detail", target_list.pk)


def _version(request: HttpRequest) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


# Campaigns -------------------------------------------------------------------------------

@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    page = selectors.campaign_page(request.user, selectors.CampaignFilters(),
                                   cursor=request.GET.get("cursor") or None, limit=PAGE)
    record(request.user, "campaign.list", detail={"campaigns": [x.pk for x in page.items]},
           **_audit(request))
    return render(request, "marketing/campaigns/campaigns.html", {
        "nav": "marketing", "subnav": "campaigns", "page": page,
        "may_run": policy.may_run_campaigns(request.user)})


def _save_campaign(request: HttpRequest, form: CampaignForm, campaign: Campaign | None):
    d = form.cleaned_data
    data = {k: d[k] for k in services.CAMPAIGN_FIELDS if k in d}
    data["channels"] = list(d.get("channels") or [])
    for key in ("goal", "subject", "message"):
        data[key] = data.get(key) or ""
    if data.get("budget") is None:
        data["budget"] = 0
    owner = d.get("owner")
    if campaign is None:
        return services.create_campaign(request.user, data, target_list=d.get("target_list"),
                                        owner=owner, **_audit(request))
    if campaign.status != CampaignStatus.DRAFT:
        data = {k: v for k, v in data.items() if k in services.AFTER_LAUNCH}
        return services.update_campaign(request.user, campaign, data,
                                        expected_version=d.get("version"), **_audit(request))
    return services.update_campaign(request.user, campaign, data,
                                    target_list=d.get("target_list"),
                                    expected_version=d.get("version"), **_audit(request))


@login_required
def campaign_create(request: HttpRequest) -> HttpResponse:
    _may_see(request)
    initial = {"kind": CampaignKind.SALES_PROMOTION, "holdout_percent": 10,
               "attribution_days": 30, "channels": ["email"]}
    raw = request.GET.get("target_list", "")
    if raw.isdigit() and len(raw) < 19:
        chosen = selectors.target_lists(request.user).filter(pk=int(raw)).first()
        if chosen is not None:
            initial.update(target_list=chosen.pk, name=chosen.name)
    initial["starts_on"] = timezone.localdate()
    form = CampaignForm(request.POST or None, user=request.user, initial=initial)
    sent = submit(request, form, lambda d: _save_campaign(request, form, None))
    if sent.saved:
        messages.success(request, _("Campaign saved as a draft: launch it from its page."))
        return redirect("marketing:campaign_detail", sent.result.pk)
    return render(request, "marketing/campaigns/campaign_form.html", {
        "nav": "marketing", "subnav": "campaigns", "form": form}, status=sent.status)


@login_required
def campaign_edit(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    campaign = _campaign(request, campaign_pk)
    if not _may_change(request.user, campaign):
        raise Http404
    initial = {k: getattr(campaign, k) for k in services.CAMPAIGN_FIELDS}
    initial.update(target_list=campaign.target_list_id, owner=campaign.owner_id,
                   version=campaign.version)
    form = CampaignForm(request.POST or None, user=request.user, initial=initial,
                        instance=None)
    if campaign.status != CampaignStatus.DRAFT:
        for name, field in form.fields.items():
            if name not in services.AFTER_LAUNCH and name != "version":
                field.disabled = True
    sent = submit(request, form, lambda d: _save_campaign(request, form, campaign))
    if sent.saved:
        messages.success(request, _("Campaign saved."))
        return redirect("marketing:campaign_detail", sent.result.pk)
    return render(request, "marketing/campaigns/campaign_form.html", {
        "nav": "marketing", "subnav": "campaigns", "form": form, "campaign": campaign},
        status=sent.status)


def _points(x: float | None) -> str:
    """A difference of rates in percentage points, signed."""
    return "—" if x is None else _("%(x)s pp") % {"x": f"{x * 100:+.1f}"}


def _rate(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def _signed_money(x: float | Decimal | None) -> str:
    if x is None:
        return "—"
    text = format_money(abs(Decimal(str(x))))
    return ("−" if x < 0 else "+") + text


def _uplift_rows(results: selectors.Results) -> list[dict]:
    """The three comparisons with the hold-out group, as the page shows them."""
    rows = []
    for label, interval, fmt, treated, held in (
            (_("Response rate"), results.response_uplift, _points,
             _rate(results.treated.response_rate), _rate(results.holdout.response_rate)),
            (_("Conversion rate"), results.conversion_uplift, _points,
             _rate(results.treated.conversion_rate), _rate(results.holdout.conversion_rate)),
            (_("Revenue per customer"), results.revenue_uplift, _signed_money,
             format_money(results.treated.revenue_per_customer)
             if results.treated.revenue_per_customer is not None else "—",
             format_money(results.holdout.revenue_per_customer)
             if results.holdout.revenue_per_customer is not None else "—")):
        rows.append({"label": label, "interval": interval, "treated": treated, "held": held,
                     "estimate": fmt(interval.estimate) if interval else "",
                     "low": fmt(interval.low) if interval else "",
                     "high": fmt(interval.high) if interval else ""})
    return rows


@login_required
def campaign_detail(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    campaign = _campaign(request, campaign_pk)
    results = selectors.results(request.user, campaign)
    page = selectors.contact_page(request.user, campaign,
                                  cursor=request.GET.get("cursor") or None, limit=PAGE)
    audience = None
    if campaign.status == CampaignStatus.DRAFT and campaign.target_list_id:
        audience = selectors.count(request.user, campaign.target_list)
    record_list(request.user, "campaign", [c.customer_id for c in page.items],
                detail={"campaign": campaign.pk}, **_audit(request))
    return render(request, "marketing/campaigns/campaign_detail.html", {
        "nav": "marketing", "subnav": "campaigns", "campaign": campaign, "results": results,
        "page": page, "audience": audience,
        "send_rows": [(label, results.sends.get(value, 0)) for value, label in
                      MailStatus.choices] if results and results.sends else [],
        "sends_total": sum(results.sends.values()) if results else 0,
        "uplift_rows": _uplift_rows(results) if results else [],
        "roi": None if results is None or results.roi is None else f"{results.roi * 100:.0f}%",
        "incremental_roi": None if results is None or results.incremental_roi is None
        else f"{results.incremental_roi * 100:.0f}%",
        "may_change": _may_change(request.user, campaign)})


@login_required
@require_POST
def campaign_launch(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    campaign = _campaign(request, campaign_pk)
    try:
        campaign = services.launch_campaign(request.user, campaign,
                                            expected_version=_version(request),
                                            **_audit(request))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Campaign launched."))
    return redirect("marketing:campaign_detail", campaign.pk)


@login_required
@require_POST
def campaign_finish(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    campaign = _campaign(request, campaign_pk)
    try:
        services.finish_campaign(request.user, campaign, expected_version=_version(request),
                                 **_audit(request))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Campaign finished."))
    return redirect("marketing:campaign_detail", campaign.pk)
