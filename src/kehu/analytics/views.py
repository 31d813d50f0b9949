"""The value dashboard, its tables as CSV, the value settings, and referrals on the card.
Thin: selectors read (scoped to the user), services write."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.analytics import hooks, rules, selectors, services, sources
from kehu.analytics.forms import (
    SETTINGS_FIELDS,
    ActivityCostForm,
    CurrencyForm,
    ListTasksForm,
    LoyaltyStatementForm,
    ReferralForm,
    SegmentActionForm,
    ValueSettingsForm,
)
from kehu.analytics.models import (
    PRESCRIBED,
    SEGMENT_SHORT,
    ActivityCost,
    SegmentAction,
    ValueSegment,
    ValueSettings,
)
from kehu.audit.services import customer_set, record, record_list
from kehu.core import jobs, policy
from kehu.core.errors import ServiceError
from kehu.core.money import firm_currency, money_heading
from kehu.core.permissions import CHANGE, VIEW
from kehu.core.requests import client_ip
from kehu.customers import selectors as customer_selectors
from kehu.customers.models import Customer
from kehu.customers.search_index import first_by_name
from kehu.dataio.normalise import guard_formula
from kehu.tasks.services import open_list_tasks


def _dashboard_user(request: HttpRequest) -> None:
    if not policy.may_see_value_dashboard(request.user):
        raise PermissionDenied


def _models_user(request: HttpRequest) -> None:
    if not policy.may_see_value_models(request.user):
        raise PermissionDenied


def _state_labels() -> list[str]:
    from kehu.customers.models import LifecycleState

    names = {"first": LifecycleState.FIRST_PURCHASE, "repeat": LifecycleState.REPEAT_PURCHASE,
             "loyal": LifecycleState.LOYAL, "churned": LifecycleState.CHURNED}
    return [str(names[s].label) for s in rules.STATES]


def _in_money(table: dict, *columns: int) -> dict:
    """Mark a table's money columns: their headings name the currency ("CLV (CNY)", in the
    page and the CSV) and the page shows their cells with the currency's symbol."""
    table["money"] = set(columns)
    table["headings"] = [money_heading(h) if i in columns else h
                         for i, h in enumerate(table["headings"])]
    return table


def _equity(user, run, figs) -> dict:
    trend = figs.trend
    return _in_money({"title": _("Customer equity by month"),
                      "headings": [_("Month"), _("Customer equity"), _("Customers")],
                      "rows": [[r["month"].isoformat(), round(r["equity"], 2), r["customers"]]
                               for r in trend]}, 1)


def _equity_by(key: str, title: str):
    def build(user, run, figs) -> dict:
        rows = figs.by[key]
        table = {"title": str(title), "headings": [_("Name"), _("Customer equity"),
                                                    _("Customers")],
                 "rows": [[r["label"], round(r["equity"], 2), r["customers"]] for r in rows]}
        table["keys"] = [r["key"] for r in rows]  # the chart colours segments by key
        return _in_money(table, 1)
    return build


def _mix(field: str, title: str, heading: str):
    def build(user, run, figs) -> dict:
        rows = getattr(figs, field)
        return {"title": str(title), "headings": [str(heading), _("Customers")],
                "rows": [[r["label"], r["customers"]] for r in rows],
                "keys": [r["key"] for r in rows]}
    return build


def _matrix(user, run, figs) -> dict:
    points = figs.matrix
    labels = {s.value: str(s.label) for s in ValueSegment}
    return _in_money({
        "title": _("Value matrix"),
        "headings": [_("Customer"), _("Current value (12 months)"), _("Potential value"),
                     _("Segment")],
        "rows": [[p["name"], round(p["current"], 2), round(p["potential"], 2),
                  labels.get(p["segment"], p["segment"])] for p in points], "points": points},
                     1, 2)


def _whale(user, run, figs) -> dict:
    whale = figs.whale
    return {"title": _("Whale curve (80/20/30)"),
            "headings": [_("Share of customers (%)"), _("Share of current value (%)")],
            "rows": [[p["customers_pct"], p["profit_pct"]] for p in whale["points"]],
            "summary": whale}


def _migration_tables(user, run, figs) -> dict:
    migration = figs.migration
    if migration is None:
        return {}
    labels = _state_labels()
    forecast = _in_money({
        "title": _("Forecast of the customer base"),
        "headings": [_("Month"), *labels, _("Customer equity")],
        "rows": [[m, *[round(float(x), 1) for x in row], round(float(migration.equity[m]), 2)]
                 for m, row in enumerate(migration.forecast)]}, len(labels) + 1)
    return {
        "markov": {"title": _("Monthly transition matrix"),
                   "headings": [_("From \\ to"), *labels],
                   "rows": [[labels[i], *[round(float(x), 4) for x in row]]
                            for i, row in enumerate(migration.chain.matrix)]},
        "forecast": forecast,
        "churn": {"title": _("Monthly churn rate by segment"),
                  "headings": [_("Segment"), _("Churn rate (%)"), _("Monthly moves")],
                  "rows": [[c["label"], None if c["rate"] is None else round(100 * c["rate"], 1),
                            c["moves"]] for c in migration.churn_by_segment]},
    }


def _at_risk(user, run, figs, limit: int | None = 20) -> dict:
    risky = selectors.at_risk(user, limit)
    return _in_money({
        "title": _("Valuable customers at risk"),
        "headings": [_("Customer"), _("Owner"), _("Value rank"), _("P(alive)"), _("CLV"),
                     _("Current value (12 months)")],
        "rows": [[v.customer.name, str(v.customer.owner), v.value_rank,
                  round(v.p_alive or 0, 2), v.clv, v.net_contribution_12m] for v in risky],
        "items": risky}, 4, 5)


def _unprofitable(user, run, figs, limit: int | None = 20) -> dict:
    tail = selectors.unprofitable_tail(user, limit)
    return _in_money({
        "title": _("Unprofitable customers (last 12 months)"),
        "headings": [_("Customer"), _("Revenue"), _("Gross profit"), _("Cost to serve"),
                     _("Current value (12 months)")],
        "rows": [[v.customer.name, v.revenue_12m, v.gross_profit_12m, v.cost_to_serve_12m,
                  v.net_contribution_12m] for v in tail], "items": tail}, 1, 2, 3, 4)


GRID_CELLS = {
    "convert": gettext_lazy("High intention, low purchasing: turn intention into purchase"),
    "loyal": gettext_lazy("High intention, high purchasing: loyal — keep them"),
    "hidden_risk": gettext_lazy("Low intention, high purchasing: hidden risk — find out why"),
    "detached": gettext_lazy("Low intention, low purchasing: detached"),
}


def _intention(user, run, figs, limit: int | None = 10) -> dict:
    cells = selectors.intention_grid(user, limit, counts=figs.intention,
                                     first=figs.intention_ids)
    items = [v for cell in cells for v in cell.items]
    return {"title": _("Intention × behaviour"),
            "headings": [_("Cell"), _("Customer"), _("Owner"), _("Attitude"),
                         _("Behaviour"), _("Loyalty index")],
            "rows": [[str(GRID_CELLS[cell.key]), v.customer.name, str(v.customer.owner),
                      round(v.loyalty_attitude or 0), round(v.loyalty_behaviour or 0),
                      round(v.loyalty_index or 0)] for cell in cells for v in cell.items],
            "cells": [{"key": c.key, "label": GRID_CELLS[c.key], "count": c.count,
                       "items": c.items, "intention": c.intention, "behaviour": c.behaviour}
                      for c in cells],
            "items": items}


TABLES = {
    "equity": _equity,
    "equity_segment": _equity_by("segment", gettext_lazy("Customer equity by segment")),
    "equity_team": _equity_by("team", gettext_lazy("Customer equity by team")),
    "equity_owner": _equity_by("owner", gettext_lazy("Customer equity by owner")),
    "segments": _mix("segments", gettext_lazy("Value segments"), gettext_lazy("Segment")),
    "quadrants": _mix("quadrants", gettext_lazy("Volume × loyalty"),
                      gettext_lazy("Quadrant")),
    "matrix": _matrix,
    "whale": _whale,
    "at_risk": _at_risk,
    "unprofitable": _unprofitable,
    "intention": _intention,
}
MIGRATION_TABLES = {"markov", "forecast", "churn"}


def _selection(run) -> dict:
    return (run.model_selection or {}) if run is not None else {}


def _candidates(selection: dict) -> list[tuple[str, dict]]:
    return list((selection.get("candidates") or {}).items())


def _model_status(selection: dict, name: str, cand: dict) -> str:
    if cand.get("error"):
        return _("Not fitted: %(why)s") % {"why": cand["error"]}
    if name == selection.get("chosen"):
        return _("Pinned in the settings") if selection.get("pinned") else _("Chosen")
    if name == selection.get("used"):
        return _("Used: the chosen model could not be fitted on the whole history")
    return ""


def _model_table(user, run) -> dict:
    selection = _selection(run)
    return {"title": _("Purchase models compared on the holdout"),
            "headings": [_("Model"), _("Holdout error"), _("Error per period"),
                         _("Error per customer"), _("Log-likelihood (calibration)"),
                         _("Fit time (s)"), _("Status")],
            "rows": [[c.get("label", name), c.get("holdout_error"), c.get("period_error"),
                      c.get("customer_error"),
                      None if c.get("loglik") is None else round(c["loglik"], 2),
                      c.get("fit_seconds"), _model_status(selection, name, c)]
                     for name, c in _candidates(selection)]}


def _curve_table(user, run) -> dict:
    selection = _selection(run)
    fitted = [(c.get("label", name), c["predicted"]) for name, c in _candidates(selection)
              if c.get("predicted")]
    split = selection.get("calibration_end", "")
    parts = {True: _("Calibration"), False: _("Holdout")}
    return {"title": _("Cumulative repeat purchases, predicted and actual"),
            "headings": [_("Period end"), _("Part"), _("Actual"), *(f[0] for f in fitted)],
            "rows": [[day, parts[day <= split], actual,
                      *(round(f[1][i], 1) for f in fitted)]
                     for i, (day, actual) in enumerate(zip(selection.get("periods", []),
                                                           selection.get("actual", []),
                                                           strict=True))]}


# The purchase model comparison's tables (its page, and CSV downloads like the dashboard's).
MODEL_TABLES = {"models": _model_table, "repeat_purchases": _curve_table}


def customers_named(table: dict) -> list[int]:
    """The customers a table names one by one (the value matrix, the at-risk and
    unprofitable lists); the other tables are sums over customers."""
    return [*(p["id"] for p in table.get("points", [])),
            *(v.customer_id for v in table.get("items", []))]


def tables(user, run, figs) -> dict[str, dict]:
    """Every chart's data as a table: headings and rows (what the CSV downloads carry)."""
    out = {key: build(user, run, figs) for key, build in TABLES.items()}
    out.update(_migration_tables(user, run, figs))
    return out


def one_table(user, run, key: str) -> dict | None:
    """One table in full, for its CSV download (lists are not cut to a page's length)."""
    if key in MODEL_TABLES:
        return MODEL_TABLES[key](user, run) if _selection(run) else None
    if key not in MIGRATION_TABLES and key not in TABLES:
        return None
    figs = selectors.dashboard_figures(user, run)
    if key in MIGRATION_TABLES:
        return _migration_tables(user, run, figs).get(key)
    if key in {"at_risk", "unprofitable", "intention"}:
        return TABLES[key](user, run, figs, limit=None)
    return TABLES[key](user, run, figs)


def _matrix_series(points: list[dict]) -> dict[str, dict]:
    series: dict[str, dict] = {}
    for p in points:
        one = series.setdefault(p["segment"], {"x": [], "y": [], "name": [], "id": []})
        one["x"].append(round(p["current"]))
        one["y"].append(round(p["potential"]))
        one["name"].append(p["name"])
        one["id"].append(p["id"])
    return series


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    _dashboard_user(request)
    user = request.user
    run = selectors.latest_refresh()
    job = services.running_refresh()
    context = {"nav": "value", "run": run, "job": jobs.overlay(job) if job else None,
               "list_tasks": list_task_forms(user),
               "may_see_models": policy.may_see_value_models(user),
               "may_refresh": policy.may_refresh_value(user),
               "stale": selectors.is_stale(run), "settings": ValueSettings.current(),
               "figures": hooks.dashboard_figures(user)}
    if run is not None:
        figs = selectors.dashboard_figures(user, run)
        data = tables(user, run, figs)
        context["tables"] = data
        context["group_actions"] = [
            {"field": field, "key": row["key"], "label": row["label"],
             "customers": row["customers"],
             "actions": hooks.group_actions(user, field, row["key"])}
            for field, rows in (("segment", figs.segments), ("quadrant", figs.quadrants))
            for row in rows]
        context["group_actions"] = [g for g in context["group_actions"] if g["actions"]]
        for cell in data["intention"]["cells"]:
            cell["form"] = context["list_tasks"].get(f"intention-{cell['key']}")
        context["charts"] = {
            "money": {"symbol": firm_currency().symbol, "code": firm_currency().code,
                      "lang": get_language() or "en"},
            "equity": {"y": data["equity"]["headings"][1],
                       "labels": [r[0] for r in data["equity"]["rows"]],
                       "values": [r[1] for r in data["equity"]["rows"]]},
            "segments": {"labels": [r[0] for r in data["equity_segment"]["rows"]],
                         "keys": data["equity_segment"]["keys"],
                         "values": [r[1] for r in data["equity_segment"]["rows"]]},
            # The scatter's points by segment, as columns (the amounts in whole units of
            # the currency, as the axes and tooltips show them), not one object per point.
            "matrix": {"series": _matrix_series(data["matrix"]["points"]),
                       "names": {k: str(v) for k, v in SEGMENT_SHORT.items()},
                       "x": money_heading(_("Current value (net contribution, 12 months)")),
                       "y": money_heading(_("Potential value"))},
            "whale": {"x": [r[0] for r in data["whale"]["rows"]],
                      "y": [r[1] for r in data["whale"]["rows"]],
                      "xname": _("Share of customers (%)"),
                      "yname": _("Share of current value (%)")},
        }
        if "markov" in data:
            context["charts"]["markov"] = {
                "labels": data["markov"]["headings"][1:],
                "cells": [[j, i, row[j + 1]] for i, row in enumerate(data["markov"]["rows"])
                          for j in range(len(row) - 1)]}
        # One row for the page, naming the customers its lists and chart show.
        record(user, "value.dashboard", ip=client_ip(request), via="web",
               detail={"refresh": run.pk, **customer_set(
                   pk for table in data.values() for pk in customers_named(table))})
    return render(request, "analytics/dashboard.html", context)


@login_required
def model_comparison(request: HttpRequest) -> HttpResponse:
    """How the purchase model was chosen: each candidate's holdout error and its forecast
    of cumulative repeat purchases against what happened (sums over the whole base)."""
    _models_user(request)
    run = selectors.latest_refresh()
    selection = _selection(run)
    context = {"nav": "value", "run": run, "selection": selection,
               "stale": selectors.is_stale(run)}
    if selection:
        from kehu.analytics.refresh import KEEP_CHOICE_CHANGE, KEEP_CHOICE_DAYS

        context.update(keep_days=KEEP_CHOICE_DAYS, keep_share=round(100 * KEEP_CHOICE_CHANGE))
        models, curve = _model_table(request.user, run), _curve_table(request.user, run)
        labels = dict((name, c.get("label", name)) for name, c in _candidates(selection))
        context.update({
            "models": models, "curve": curve,
            "chosen_label": labels.get(selection.get("chosen")),
            "used_label": labels.get(selection.get("used"), selection.get("used")),
            "charts": {"holdout": {
                "labels": selection.get("periods", []),
                "series": [{"name": str(_("Actual")), "values": selection.get("actual", [])},
                           *({"name": c.get("label", name), "values": c["predicted"]}
                             for name, c in _candidates(selection) if c.get("predicted"))],
                "split": selection.get("calibration_end"),
                "holdout": _("Holdout"),
                "y": _("Cumulative repeat purchases")}}})
    return render(request, "analytics/models.html", context)


@login_required
@require_POST
def refresh(request: HttpRequest) -> HttpResponse:
    try:
        services.start_refresh(request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.info(request, _("The value refresh has started; this page shows its "
                                 "progress."))
    return redirect("analytics:dashboard")


@login_required
def export_table(request: HttpRequest, table: str) -> HttpResponse:
    _dashboard_user(request)
    if table in MODEL_TABLES:
        _models_user(request)
    run = selectors.latest_refresh()
    if run is None:
        raise Http404
    data = one_table(request.user, run, table)
    if data is None:
        raise Http404
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([str(h) for h in data["headings"]])
    for row in data["rows"]:
        writer.writerow([guard_formula(str(c)) if isinstance(c, str) else
                         (str(c) if isinstance(c, Decimal) else c) for c in row])
    named = customers_named(data)
    record(request.user, "value.export", ip=client_ip(request), via="web",
           detail={"table": table, "rows": len(data["rows"]), "refresh": run.pk,
                   **(customer_set(named) if named else {})})
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="kehu-{table}-{run.as_of}.csv"'
    return response


# Settings --------------------------------------------------------------------------------------

@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    _models_user(request)
    user = request.user
    current = ValueSettings.current()
    form = ValueSettingsForm(instance=current)
    currency_form = CurrencyForm(initial={"currency": firm_currency().code})
    if request.method == "POST" and request.POST.get("part") == "currency":
        if not policy.may_change_settings(user):
            raise PermissionDenied
        currency_form = CurrencyForm(request.POST)
        if currency_form.is_valid():
            try:
                services.set_currency(user, currency_form.cleaned_data["currency"],
                                      ip=client_ip(request))
            except ServiceError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Currency saved. Every amount is now shown in it."))
                return redirect("analytics:settings")
    elif request.method == "POST":
        if not policy.may_change_settings(user):
            raise PermissionDenied
        form = ValueSettingsForm(request.POST, instance=ValueSettings.current())
        if form.is_valid():
            try:
                services.update_settings(user, {f: form.cleaned_data[f] for f in SETTINGS_FIELDS},
                                         ip=client_ip(request))
            except ServiceError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Settings saved. They apply from the next "
                                            "refresh."))
                return redirect("analytics:settings")
    costs = {c.kind: c for c in ActivityCost.objects.all()}
    cost_rows = [{"kind": k, "label": label, "cost": costs[k].unit_cost if k in costs else 0,
                  "investment": costs[k].investment if k in costs else False}
                 for k, label in sources.cost_kinds()]
    actions = [{"action": a, "default": PRESCRIBED.get(a.segment, ("", False))[0],
                "label": _segment_label(a.segment)}
               for a in SegmentAction.objects.order_by("segment")]
    run = selectors.latest_refresh()
    return render(request, "analytics/settings.html", {
        "nav": "value", "form": form, "currency_form": currency_form, "costs": cost_rows,
        "actions": actions,
        "editable": policy.may_change_settings(user), "run": run, "stale": selectors.is_stale(run),
        "models": _fitted(run)})


def _fitted(run) -> list[dict]:
    """The fitted models of a refresh, for analysts: name, parameters, log-likelihood."""
    if run is None:
        return []
    names = {"bgnbd": "BG/NBD", "mbgnbd": "MBG/NBD", "pareto_nbd": "Pareto/NBD",
             "gamma_gamma": "Gamma-Gamma"}
    out = []
    for key in ("purchases", "gamma_gamma"):
        fit = (run.fit or {}).get(key)
        if fit:
            out.append({"name": names.get(fit.get("model"), fit.get("model")),
                        "params": fit.get("params", {}), "loglik": fit.get("loglik"),
                        "customers": fit.get("n_customers")})
    return out


def _segment_label(key: str) -> str:
    from kehu.analytics.models import Quadrant, ValueSegment

    for choices in (ValueSegment, Quadrant):
        if key in choices.values:
            return str(choices(key).label)
    return _("At risk") if key == "at_risk" else key


# Tasks from the dashboard's lists ---------------------------------------------------------------

# Each list whose customers a manager may give their owners a task from: its name, the task
# it suggests, and its customers (all of them, as the user may see them).
LIST_TASKS = {
    "at_risk": (gettext_lazy("Valuable customers at risk"),
                gettext_lazy("Call this week: the customer is slipping away"),
                lambda user: selectors.at_risk(user, None)),
    "unprofitable": (gettext_lazy("Unprofitable customers (last 12 months)"),
                     gettext_lazy("Review what serving the customer costs: they lost us money "
                                  "in the last 12 months"),
                     lambda user: selectors.unprofitable_tail(user, None)),
    **{f"intention-{key}": (label, title, lambda user, key=key: next(
        c.items for c in selectors.intention_grid(user, None) if c.key == key))
       for key, label, title in (
           ("convert", GRID_CELLS["convert"],
            gettext_lazy("Turn the stated intention into a purchase: make an offer")),
           ("loyal", GRID_CELLS["loyal"],
            gettext_lazy("Thank the customer and ask for a referral")),
           ("hidden_risk", GRID_CELLS["hidden_risk"],
            gettext_lazy("Find out why the customer is unhappy")),
           ("detached", GRID_CELLS["detached"],
            gettext_lazy("Decide whether to win the customer back or spend less on them")))},
}


def list_task_forms(user) -> dict[str, ListTasksForm]:
    """The empty form under each list, for those who may give its owners tasks."""
    if not policy.may_give_list_tasks(user):
        return {}
    due = timezone.localdate() + dt.timedelta(days=7)
    return {key: ListTasksForm(listed=[], prefix=key.replace("-", "_"),
                               initial={"title": title, "due_on": due})
            for key, (_label, title, _fetch) in LIST_TASKS.items()}


@login_required
@require_POST
def list_tasks(request: HttpRequest, key: str) -> HttpResponse:
    """Give the owner of each ticked customer of a list (or of every customer it holds) a
    task."""
    _dashboard_user(request)
    if key not in LIST_TASKS:
        raise Http404
    if not policy.may_give_list_tasks(request.user):
        raise PermissionDenied
    label, _title, fetch = LIST_TASKS[key]
    anchor = "intention-grid" if key.startswith("intention-") else key.replace("_", "-")
    back = redirect(reverse("analytics:dashboard") + f"#{anchor}")
    listed = {v.customer_id: v.customer for v in fetch(request.user)}
    form = ListTasksForm(request.POST, listed=list(listed), prefix=key.replace("-", "_"))
    if not form.is_valid():
        messages.error(request, _("No tasks were made: %(errors)s") % {
            "errors": " ".join(" ".join(v) for v in form.errors.values())})
        return back
    data = form.cleaned_data
    picked = list(listed) if data["scope"] == "all" else data["customer"]
    try:
        done = open_list_tasks(
            request.user, [listed[pk] for pk in picked], origin=f"list:{key}"[:40],
            title=data["title"], due_on=data["due_on"], priority=data["priority"],
            reason=_("From the value dashboard: %(list)s") % {"list": label},
            ip=client_ip(request))
    except ServiceError as exc:
        messages.error(request, exc.message)
        return back
    parts = [ngettext("%(n)d task made.", "%(n)d tasks made.", done.opened)
             % {"n": done.opened}]
    if done.opened:
        parts.append(_("Owners who got one: %(people)d.") % {"people": done.assignees})
    if done.already_open:
        parts.append(ngettext("%(n)d customer still has an open task from this list.",
                              "%(n)d customers still have an open task from this list.",
                              done.already_open) % {"n": done.already_open})
    if done.owner_inactive:
        parts.append(ngettext(
            "%(n)d customer's owner no longer works here: give them a new owner first.",
            "%(n)d customers' owners no longer work here: give them new owners first.",
            done.owner_inactive) % {"n": done.owner_inactive})
    if done.not_yours:
        parts.append(ngettext(
            "%(n)d customer belongs to someone outside your team, who got no task.",
            "%(n)d customers belong to people outside your team, who got no task.",
            done.not_yours) % {"n": done.not_yours})
    (messages.success if done.opened else messages.warning)(request, " ".join(parts))
    return back


@login_required
@require_POST
def activity_cost(request: HttpRequest, kind: str) -> HttpResponse:
    form = ActivityCostForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("%(kind)s: enter a unit cost of 0 or more.") % {"kind": kind})
    else:
        try:
            services.set_activity_cost(request.user, kind, form.cleaned_data["unit_cost"],
                                       investment=form.cleaned_data["investment"],
                                       ip=client_ip(request))
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Unit cost saved. It applies from the next refresh."))
    return redirect("analytics:settings")


@login_required
@require_POST
def segment_action(request: HttpRequest, segment: str) -> HttpResponse:
    form = SegmentActionForm(request.POST, segment=segment)
    if not form.is_valid():
        messages.error(request, _("The action was not saved: %(errors)s") % {
            "errors": "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())})
    else:
        try:
            services.set_segment_action(request.user, segment, ip=client_ip(request),
                                        **form.cleaned_data)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Action saved."))
    return redirect("analytics:settings")


# Referrals on the card -------------------------------------------------------------------------

def _customer(request: HttpRequest, pk: int, action: str) -> Customer:
    try:
        return customer_selectors.get_customer(request.user, pk, action)
    except Customer.DoesNotExist:
        raise Http404 from None


@login_required
def referrer_options(request: HttpRequest, pk: int) -> HttpResponse:
    """Customers the user may see whose keys match what they typed (htmx suggestions)."""
    customer = _customer(request, pk, CHANGE)
    q = request.GET.get("referrer", "").strip()
    found = []
    if len(q) >= 1:
        found = first_by_name(
            customer_selectors.search_customers(request.user, q).exclude(pk=customer.pk), 8)
        record_list(request.user, "referrers", [c.pk for c in found], filters={"q": q},
                    about=customer.pk, ip=client_ip(request), via="web")
    return render(request, "analytics/_referrer_options.html", {"found": found, "q": q})


@login_required
@require_POST
def referral(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk, CHANGE)
    url = customer_selectors_card_url(customer)
    if request.POST.get("remove"):
        try:
            services.remove_referral(request.user, customer, ip=client_ip(request))
        except ServiceError as exc:
            messages.error(request, exc.message)
        return redirect(url)
    form = ReferralForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The referral was not saved: %(errors)s") % {
            "errors": "; ".join(f"{form.fields[k].label if k in form.fields else k}: "
                                f"{' '.join(v)}" for k, v in form.errors.items())})
        return redirect(url)
    referrer = None
    if form.cleaned_data.get("referrer_id"):
        referrer = customer_selectors.customers(request.user, VIEW).filter(
            pk=form.cleaned_data["referrer_id"]).first()
    if referrer is None:
        matches = list(customer_selectors.search_customers(
            request.user, form.cleaned_data["referrer"]).exclude(pk=customer.pk)[:2])
        referrer = matches[0] if len(matches) == 1 else None
    if referrer is None:
        messages.error(request, _("Pick the referring customer from the list: “%(q)s” does not "
                                  "name exactly one customer you can see.")
                       % {"q": form.cleaned_data["referrer"]})
        return redirect(url)
    try:
        services.record_referral(request.user, customer, referrer,
                                 referred_on=form.cleaned_data["referred_on"],
                                 note=form.cleaned_data["note"], ip=client_ip(request))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Referral saved; influence value follows at the next "
                                    "refresh."))
    return redirect(url)


@login_required
@require_POST
def loyalty_statement(request: HttpRequest, pk: int) -> HttpResponse:
    """Record what the customer said about buying again and recommending us."""
    customer = _customer(request, pk, CHANGE)
    url = customer_selectors_card_url(customer) + "#loyalty"
    form = LoyaltyStatementForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The statement was not saved: %(errors)s") % {
            "errors": "; ".join(
                (f"{form.fields[k].label}: " if k in form.fields else "") + " ".join(v)
                for k, v in form.errors.items())})
        return redirect(url)
    data = form.cleaned_data
    try:
        services.record_loyalty_statement(
            request.user, customer, stated_on=data["stated_on"], buy_again=data["buy_again"],
            recommend=data["recommend"], wallet_share=data["wallet_share"], note=data["note"],
            ip=client_ip(request))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Statement saved; the loyalty index follows at the next "
                                    "refresh."))
    return redirect(url)


def customer_selectors_card_url(customer: Customer) -> str:
    from django.urls import reverse

    return reverse("customers:card", args=[customer.pk]) + "?tab=value"
