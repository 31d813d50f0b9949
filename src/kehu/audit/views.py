"""The audit log page: administrators only; everyone else gets 404, as if it did not exist."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.audit.naming import name_customers
from kehu.audit.selectors import audit_events
from kehu.core import policy
from kehu.core.pagination import keyset_page

PAGE_SIZE = 100


class AuditFilterForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("User name"), required=False, max_length=150)
    action = forms.CharField(label=gettext_lazy("Action"), required=False, max_length=40,
                             help_text=gettext_lazy("e.g. customer.view, or customer for all "
                                                    "customer actions"))
    customer = forms.IntegerField(label=gettext_lazy("Customer id"), required=False,
                                  min_value=1, max_value=2**63 - 1)
    date_from = forms.DateField(label=gettext_lazy("From"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=gettext_lazy("To"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))
    cursor = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data


@login_required
def events(request: HttpRequest) -> HttpResponse:
    if not policy.may_read_audit_log(request.user):
        raise Http404
    form = AuditFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    qs = audit_events(request.user, username=data.get("username", ""),
                      action=data.get("action", ""), customer_id=data.get("customer"),
                      date_from=data.get("date_from"), date_to=data.get("date_to"))
    cursor = data.get("cursor") or None
    page = keyset_page(qs, sort="at", descending=True, cursor=cursor, limit=PAGE_SIZE)
    if page.cursor_refused:
        messages.warning(request, _("That page link is no longer valid; showing the first "
                                    "page."))
        cursor = None
    name_customers(request.user, page.items)
    params = {k: v for k, v in request.GET.items() if k != "cursor" and v}
    if form.is_bound and not form.is_valid():
        params = {}
    return render(request, "audit/events.html", {
        "form": form, "page": page, "nav": "audit",
        "first_url": "?" + urlencode(params) if cursor else "",
        "next_url": "?" + urlencode({**params, "cursor": page.next_cursor})
        if page.next_cursor else "",
    }, status=400 if form.is_bound and not form.is_valid() else 200)
