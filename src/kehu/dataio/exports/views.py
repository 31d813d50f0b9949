"""Exporting lists from the web: the customer list with its current filters, and
transactions, as CSV or XLSX — only what the user may export, recorded in the audit log."""

from __future__ import annotations

import os
import tempfile

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import policy
from kehu.core.errors import ServiceError
from kehu.core.permissions import EXPORT
from kehu.core.requests import client_ip
from kehu.customers import selectors as customer_selectors
from kehu.customers.forms import CustomerFilterForm
from kehu.dataio.exports.forms import ExportForm
from kehu.dataio.exports.services import export

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _filters(request: HttpRequest) -> tuple[CustomerFilterForm, customer_selectors.CustomerFilters]:
    form = CustomerFilterForm(request.GET or None, user=request.user)
    return form, form.filters()


@login_required
def export_page(request: HttpRequest) -> HttpResponse:
    if not policy.may_export(request.user):
        raise Http404
    filter_form, _f = _filters(request)
    return render(request, "dataio/export.html", {
        "form": ExportForm(initial={"what": "customers", "format": "xlsx"}),
        "filter_form": filter_form, "nav": "export"})


@login_required
def export_download(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not policy.may_export(user):
        raise Http404
    form = ExportForm(request.GET)
    if not form.is_valid():
        # The page again, with each refused value marked at its field.
        messages.error(request, _("Choose a list and a format to export."))
        filter_form, _f = _filters(request)
        return render(request, "dataio/export.html", {
            "form": form, "filter_form": filter_form, "nav": "export"}, status=400)
    what, fmt = form.cleaned_data["what"], form.cleaned_data["format"]
    filter_form, filters = _filters(request)
    if filter_form.search_error():
        # Left out, the search would export every customer the user may export.
        messages.error(request, filter_form.search_error())
        return redirect("dataio:export")
    used = filter_form.query()
    chosen = customer_selectors.filter_customers(user, filters, action=EXPORT)
    if what == "customers":
        queryset = chosen
    else:
        queryset = customer_selectors.transactions(user, EXPORT).filter(customer__in=chosen)
        if form.cleaned_data["date_from"]:
            queryset = queryset.filter(date__gte=form.cleaned_data["date_from"])
            used["date_from"] = form.cleaned_data["date_from"].isoformat()
        if form.cleaned_data["date_to"]:
            queryset = queryset.filter(date__lte=form.cleaned_data["date_to"])
            used["date_to"] = form.cleaned_data["date_to"].isoformat()
    fd, path = tempfile.mkstemp(prefix="kehu-export-", suffix=f".{fmt}")
    os.close(fd)
    try:
        export(user, what, fmt, path, queryset=queryset, filters=used, ip=client_ip(request),
               via="web")
        handle = open(path, "rb")  # noqa: SIM115 - FileResponse closes it
    except ServiceError as e:
        messages.error(request, e.message)
        return redirect("dataio:export")
    finally:
        # The open handle keeps the data readable; the name goes at once.
        os.unlink(path)
    name = f"kehu-{what}-{timezone.localdate():%Y%m%d}.{fmt}"
    return FileResponse(handle, as_attachment=True, filename=name,
                        content_type=CONTENT_TYPES[fmt])
