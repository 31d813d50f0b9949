"""The service–profit chain's pages: the chain's figures and charts, the flagged key
customers, and the chain's settings. Thin: selectors read, services write."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.audit.services import record_list
from kehu.core import policy
from kehu.core.errors import ServiceError
from kehu.core.money import firm_currency, money_heading
from kehu.core.requests import client_ip
from kehu.customers.forms import submit
from kehu.service.chain import figures, selectors, services
from kehu.service.chain.forms import ChainSettingsForm

BAND_LABELS = {
    figures.STABLE: gettext_lazy("No change"),
    figures.ONCE: gettext_lazy("Changed once"),
    figures.OFTEN: gettext_lazy("Changed twice or more"),
    "under_6m": gettext_lazy("Under 6 months"),
    "6_12m": gettext_lazy("6–12 months"),
    "1_2y": gettext_lazy("1–2 years"),
    "over_2y": gettext_lazy("Over 2 years"),
}


def _reader(request: HttpRequest) -> None:
    if not policy.may_see_service_dashboard(request.user):
        raise PermissionDenied


def _rows(bands: list[figures.Band]) -> list[dict]:
    return [{"key": b.key, "label": str(BAND_LABELS[b.key]), "band": b} for b in bands]


def _series(bands: list[figures.Band]) -> dict:
    return {"labels": [str(BAND_LABELS[b.key]) for b in bands],
            "satisfaction": [b.satisfaction for b in bands],
            "retention": [b.retention for b in bands],
            "value": [b.average_value for b in bands],
            "clv": [b.average_clv for b in bands],
            "customers": [b.customers for b in bands]}


@login_required
def chain(request: HttpRequest) -> HttpResponse:
    _reader(request)
    result = selectors.chain_figures(request.user)
    stable, often = result.band(figures.STABLE), result.band(figures.OFTEN)
    charts = {
        "money": {"symbol": firm_currency().symbol, "lang": get_language() or "en"},
        "names": {"satisfaction": _("Satisfied (%)"), "retention": _("Still buying (%)"),
                  "value": money_heading(_("Average net contribution, 12 months")),
                  "clv": money_heading(_("Average CLV")), "customers": _("Customers"),
                  "percent": _("Per cent")},
        "continuity": _series(result.continuity),
        "tenure": _series(result.tenure),
    }
    return render(request, "service/chain/chain.html", {
        "nav": "service", "subnav": "chain", "result": result,
        "continuity": _rows(result.continuity), "tenure": _rows(result.tenure),
        "stable": stable, "often": often, "charts": charts,
        "window": selectors.WINDOW_DAYS, "flags": len(selectors.continuity_flags(request.user)),
    })


@login_required
def flags(request: HttpRequest) -> HttpResponse:
    _reader(request)
    found = selectors.continuity_flags(request.user)
    record_list(request.user, "service.continuity_flags", [f.customer.pk for f in found],
                ip=client_ip(request), via="web")
    return render(request, "service/chain/flags.html", {
        "nav": "service", "subnav": "chain_flags", "flags": found,
        "may_give_tasks": policy.may_manage_team_tasks(request.user)})


@login_required
@require_POST
def flag_tasks(request: HttpRequest) -> HttpResponse:
    _reader(request)
    try:
        opened = services.open_continuity_tasks(request.user, via="web")
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        if opened:
            messages.success(request, _("%(n)s owners were given a task.") % {"n": opened})
        else:
            messages.info(request, _("Every flagged customer's owner already has this task."))
    return redirect("service:chain_flags")


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    _reader(request)
    current = selectors.chain_settings(request.user)
    editable = policy.may_change_settings(request.user)
    if request.method == "POST" and not editable:
        raise PermissionDenied
    form = ChainSettingsForm(request.POST if request.method == "POST" else None,
                             initial={"silent_factor": current.silent_factor,
                                      "version": current.version})
    sent = submit(request, form, lambda data: services.update_chain_settings(
        request.user, silent_factor=data["silent_factor"], version=data["version"],
        ip=client_ip(request)))
    if sent.saved:
        messages.success(request, _("Service settings saved."))
        return redirect("service:chain_settings")
    return render(request, "service/chain/settings.html", {
        "nav": "service", "subnav": "chain_settings", "form": form, "current": current,
        "editable": editable}, status=sent.status)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    _reader(request)
    d = selectors.service_dashboard(request.user)
    charts = {
        "lang": get_language() or "en",
        "labels": [m.month.strftime("%Y-%m") for m in d.months],
        "tickets": [m.tickets for m in d.months],
        "complaints": [m.complaints for m in d.months],
        "silent": [m.silent for m in d.months],
        "csat": [m.csat for m in d.months] if d.has_surveys else [],
        "nps": [m.nps for m in d.months] if d.has_surveys else [],
        "names": {"tickets": _("Tickets"), "complaints": _("Complaints"),
                  "silent": _("Silent dissatisfied (estimate)"), "count": _("Customers"),
                  "csat": _("CSAT"), "nps": _("NPS")},
    }
    return render(request, "service/chain/dashboard.html", {
        "nav": "service", "subnav": "service_dashboard", "d": d, "charts": charts,
        "may_change_settings": policy.may_change_settings(request.user)})
