"""Web pages for personal data rights: find the person, download everything about them as
JSON, erase them. Privacy officers only; for anybody else these pages do not exist (404)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.audit.services import record, record_list
from kehu.core.errors import ServiceError
from kehu.core.requests import client_ip
from kehu.customers.models import Contact
from kehu.customers.search import normalise, query_key
from kehu.customers.search_index import first_by_name
from kehu.dataio.privacy import selectors
from kehu.dataio.privacy import services as privacy

_MAX_ID = 2**63 - 1


def _officer(request: HttpRequest) -> None:
    if not request.user.is_privacy_officer:
        raise Http404


def _customer(request: HttpRequest, pk: int):
    _officer(request)
    if pk > _MAX_ID:
        raise Http404
    try:
        return selectors.subjects(request.user).select_related("owner").get(pk=pk)
    except ObjectDoesNotExist:
        raise Http404 from None


def _contact(request: HttpRequest, contact_pk: int) -> Contact:
    _officer(request)
    if contact_pk > _MAX_ID:
        raise Http404
    contact = Contact.objects.select_related("customer").filter(
        pk=contact_pk, customer__in=selectors.subjects(request.user)).first()
    if contact is None:
        raise Http404
    return contact


@login_required
def privacy_search(request: HttpRequest) -> HttpResponse:
    _officer(request)
    q = (request.GET.get("q") or "").strip()[:100]
    found_customers, found_contacts = [], []
    if q:
        found_customers = first_by_name(selectors.subjects(request.user).filter(
            search_text__contains=query_key(q)), 50)
        text = normalise(q)
        found_contacts = list(Contact.objects.filter(
            customer__in=selectors.subjects(request.user)).filter(
            **({"phone__contains": q} if q.replace(" ", "").replace("-", "").isdigit()
               else {"name__icontains": text} if "@" not in q else {"email__iexact": text})
        ).select_related("customer").order_by("name", "pk")[:50])
        record_list(request.user, "privacy_search",
                    [c.pk for c in found_customers] + [c.customer_id for c in found_contacts],
                    filters={"q": q}, ip=client_ip(request), via="web")
    return render(request, "dataio/privacy_search.html", {
        "nav": "privacy", "q": q, "customers": found_customers, "contacts": found_contacts})


@login_required
def privacy_customer(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    # Reading a customer file is recorded, whoever reads it and why.
    record(request.user, "customer.view", obj=customer, ip=client_ip(request), via="web",
           detail={"part": "privacy"})
    return render(request, "dataio/privacy_customer.html", {
        "nav": "privacy", "customer": customer, "contacts": customer.contacts.all(),
        "counts": {"transactions": customer.transactions.count(),
                   "activities": customer.activities.count()}})


def _json_download(document: dict, name: str) -> HttpResponse:
    response = HttpResponse(json.dumps(document, ensure_ascii=False, indent=2),
                            content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def privacy_customer_export(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    document = privacy.export_customer(request.user, customer, ip=client_ip(request))
    return _json_download(document, f"kehu-customer-{customer.pk}-"
                                    f"{timezone.localdate():%Y%m%d}.json")


@login_required
def privacy_contact_export(request: HttpRequest, contact_pk: int) -> HttpResponse:
    contact = _contact(request, contact_pk)
    document = privacy.export_contact(request.user, contact, ip=client_ip(request))
    return _json_download(document, f"kehu-contact-{contact.pk}-"
                                    f"{timezone.localdate():%Y%m%d}.json")


def _confirmed(request: HttpRequest) -> bool:
    if request.POST.get("confirm") == "1":
        return True
    messages.error(request, _("Tick the box to confirm that the erasure cannot be undone."))
    return False


@login_required
@require_POST
def privacy_customer_erase(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    if _confirmed(request):
        try:
            privacy.erase_customer(request.user, customer,
                                   reference=request.POST.get("reference", ""),
                                   ip=client_ip(request))
        except ServiceError as e:
            messages.error(request, e.message)
        else:
            messages.success(request, _("The personal data of customer %(id)d has been erased; "
                                        "its transactions remain, anonymous, for statistics.")
                             % {"id": customer.pk})
    return redirect("dataio:privacy_customer", customer.pk)


@login_required
@require_POST
def privacy_contact_erase(request: HttpRequest, contact_pk: int) -> HttpResponse:
    contact = _contact(request, contact_pk)
    if _confirmed(request):
        try:
            privacy.erase_contact(request.user, contact,
                                  reference=request.POST.get("reference", ""),
                                  ip=client_ip(request))
        except ServiceError as e:
            messages.error(request, e.message)
        else:
            messages.success(request, _("The personal data of contact %(id)d has been erased.")
                             % {"id": contact.pk})
    return redirect("dataio:privacy_customer", contact.customer_id)
