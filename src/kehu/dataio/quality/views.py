"""Web pages for data quality: stale cards and their refresh tasks, the duplicate review
queue, and merging (DOMAIN.md §1: dynamic management)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kehu.audit.services import record, record_list
from kehu.core import jobs, policy
from kehu.core.errors import ServiceError, StaleVersion
from kehu.core.models import Job
from kehu.core.permissions import CHANGE, DELETE, can
from kehu.core.requests import client_ip
from kehu.customers import selectors as customer_selectors
from kehu.customers.models import SENSITIVE_CONTACT_FIELDS, SENSITIVE_CUSTOMER_FIELDS
from kehu.dataio.models import DedupScan
from kehu.dataio.quality import dedup, merge
from kehu.dataio.quality.stale import create_refresh_tasks_as

QUALITY_JOBS = ("dataio.dedup", "dataio.stale")
RECENT = timedelta(minutes=30)
BOUND = 1000


def _bounded(qs) -> tuple[int, bool]:
    n = qs.order_by()[:BOUND + 1].count()
    return min(n, BOUND), n <= BOUND


@login_required
def quality(request: HttpRequest) -> HttpResponse:
    user = request.user
    stale, stale_exact = _bounded(customer_selectors.filter_customers(
        user, customer_selectors.CustomerFilters(stale=True)))
    customer_pairs, customer_exact = _bounded(dedup.customer_pairs(user))
    contact_pairs, contact_exact = _bounded(dedup.contact_pairs(user))
    # This user's scans and task runs that are going on or just ended.
    recent = [jobs.overlay(j) for j in Job.objects.filter(
        Q(finished_at__isnull=True) | Q(finished_at__gte=timezone.now() - RECENT),
        user=user, kind__in=QUALITY_JOBS)[:3]]
    return render(request, "dataio/quality.html", {
        "nav": "quality", "stale": stale, "stale_exact": stale_exact,
        "stale_days": settings.KEHU_STALE_AFTER_DAYS,
        "customer_pairs": customer_pairs, "customer_exact": customer_exact,
        "contact_pairs": contact_pairs, "contact_exact": contact_exact,
        "scans": {s.kind: s.scanned_at for s in DedupScan.objects.all()},
        "may_run": policy.may_run_quality_jobs(user), "jobs": recent,
    })


@login_required
@require_POST
def quality_run(request: HttpRequest, what: str) -> HttpResponse:
    user = request.user
    if not policy.may_run_quality_jobs(user):
        raise Http404
    if what == "scan":
        jobs.start("dataio.dedup", dedup.scan_as, args=(user.pk,), user=user,
                   title=_("Scan for duplicates"))
    elif what == "tasks":
        jobs.start("dataio.stale", create_refresh_tasks_as, args=(user.pk,), user=user,
                   title=_("Refresh tasks for stale data"))
    else:
        raise Http404
    return redirect("dataio:quality")


# The duplicate queue ------------------------------------------------------------------------

_REASONS = {
    "phone": gettext_lazy("same phone number %(value)s"),
    "email": gettext_lazy("same e-mail %(value)s"),
    "external_id": gettext_lazy("same external id %(value)s"),
    "name": gettext_lazy("names %(value)s%% alike"),
    "same_customer": gettext_lazy("at the same customer"),
    # Reasons against: facts that disagree and lowered the score.
    "different_phones": gettext_lazy("but different phone numbers"),
    "different_emails": gettext_lazy("but different e-mails"),
    "different_cities": gettext_lazy("but different cities %(value)s"),
    "external_ids": gettext_lazy("but different external ids %(value)s"),
}


def _reasons(pair) -> list[str]:
    return [str(_REASONS[r["code"]]) % {"value": r.get("value", "")}
            for r in pair.reasons if r.get("code") in _REASONS]


@login_required
def duplicates(request: HttpRequest) -> HttpResponse:
    user = request.user
    kind = "contacts" if request.GET.get("kind") == "contacts" else "customers"
    qs = dedup.contact_pairs(user) if kind == "contacts" else dedup.customer_pairs(user)
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    shown = []
    for pair in page:
        pair.reason_texts = _reasons(pair)
        shown += [pair.a_id, pair.b_id] if kind == "customers" else [
            pair.a.customer_id, pair.b.customer_id]
    record_list(user, f"duplicates.{kind}", shown, filters={"page": page.number},
                ip=client_ip(request), via="web")
    return render(request, "dataio/duplicates.html", {
        "nav": "quality", "kind": kind, "page": page,
        "may_merge": policy.may_merge(user),
    })


def _pair(request: HttpRequest, kind: str, pair_id: int):
    if kind not in ("customers", "contacts"):
        raise Http404
    qs = dedup.contact_pairs(request.user) if kind == "contacts" else dedup.customer_pairs(
        request.user)
    pair = qs.filter(pk=pair_id).first()
    if pair is None:
        raise Http404
    return pair


@login_required
@require_POST
def duplicate_dismiss(request: HttpRequest, kind: str, pair_id: int) -> HttpResponse:
    pair = _pair(request, kind, pair_id)
    try:
        dedup.dismiss_pair(request.user, pair, ip=client_ip(request))
    except ServiceError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("Marked as not a duplicate; the pair will not be shown "
                                    "again."))
    return redirect(f"{reverse('dataio:duplicates')}?kind={kind}")


def _display(obj, name: str) -> Any:
    field = obj._meta.get_field(name)
    if name == "owner":
        return str(obj.owner)
    value = getattr(obj, name)
    if field.choices and value:
        return getattr(obj, f"get_{name}_display")()
    return value


def _compare(user, kind: str, a, b) -> list[dict[str, Any]]:
    if kind == "customers":
        names = merge.CUSTOMER_MERGE_FIELDS
        hidden = set() if user.sees_sensitive else set(SENSITIVE_CUSTOMER_FIELDS)
    else:
        names = merge.CONTACT_MERGE_FIELDS
        hidden = set() if user.sees_sensitive else set(SENSITIVE_CONTACT_FIELDS)
    rows = []
    for name in names:
        if name in hidden:
            continue
        va, vb = getattr(a, name if name != "owner" else "owner_id"), getattr(
            b, name if name != "owner" else "owner_id")
        empty_a = va in (None, "")
        if not (va != vb or not empty_a):
            continue  # empty on both sides: nothing to choose
        rows.append({
            "name": name, "label": a._meta.get_field(name).verbose_name,
            "a": _display(a, name), "b": _display(b, name), "differ": va != vb,
            # Preselect the value that is there: the first record's, unless it is empty.
            "default": "b" if empty_a and vb not in (None, "") else "a",
        })
    return rows


@login_required
def duplicate_pair(request: HttpRequest, kind: str, pair_id: int) -> HttpResponse:
    """Compare two records side by side; choose the survivor and each field's value."""
    user = request.user
    pair = _pair(request, kind, pair_id)
    a, b = pair.a, pair.b
    rows = _compare(user, kind, a, b)
    if request.method == "POST":
        keep = request.POST.get("survivor")
        if keep not in ("a", "b"):
            messages.error(request, _("Choose the record that stays."))
        else:
            survivor, loser = (a, b) if keep == "a" else (b, a)
            other = "b" if keep == "a" else "a"
            take = [r["name"] for r in rows
                    if r["differ"] and request.POST.get(f"f_{r['name']}") == other]
            versions = {"a": request.POST.get("version_a"), "b": request.POST.get("version_b")}
            try:
                do_merge = merge.merge_customers if kind == "customers" else merge.merge_contacts
                kept = do_merge(user, survivor, loser, take_from_loser=take,
                                survivor_version=_int(versions[keep]),
                                loser_version=_int(versions[other]), ip=client_ip(request))
            except StaleVersion as e:
                messages.error(request, e.message)
                return redirect(request.path)
            except ServiceError as e:
                messages.error(request, e.message)
            else:
                messages.success(request, _("Merged: “%(name)s” now holds both records.")
                                 % {"name": kept.name})
                customer = kept if kind == "customers" else kept.customer
                if customer_selectors.customers(user).filter(pk=customer.pk).exists():
                    return redirect("customers:card", customer.pk)
                return redirect(f"{reverse('dataio:duplicates')}?kind={kind}")
    for customer in {a.pk: a, b.pk: b}.values() if kind == "customers" else (
            {a.customer_id: a.customer, b.customer_id: b.customer}.values()):
        record(user, "customer.view", obj=customer, ip=client_ip(request), via="web",
               detail={"part": "merge"})
    if kind == "customers":
        may_merge = (can(user, CHANGE, a) and can(user, DELETE, b)) or (
            can(user, CHANGE, b) and can(user, DELETE, a))
        counts = [{"label": label, "a": getattr(a, rel).count(), "b": getattr(b, rel).count()}
                  for rel, label in (("contacts", _("Contacts")),
                                     ("transactions", _("Transactions")),
                                     ("activities", _("Activities")))]
    else:
        may_merge = can(user, CHANGE, a.customer) and can(user, CHANGE, b.customer)
        counts = [{"label": _("Activities"), "a": a.activities.count(),
                   "b": b.activities.count()}]
    return render(request, "dataio/duplicate_pair.html", {
        "nav": "quality", "kind": kind, "pair": pair, "a": a, "b": b, "rows": rows,
        "counts": counts, "may_merge": may_merge, "reasons": _reasons(pair),
    })


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None

