"""Web pages for customers: the list, the data card and its tabs, and the forms that change
them. Thin: parse input, call a selector or service, render."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.audit.services import record_list
from kehu.core import policy
from kehu.core.errors import ServiceError
from kehu.core.pagination import Page
from kehu.core.permissions import CHANGE, CONTRIBUTE, DELETE, VIEW, can
from kehu.core.requests import client_ip
from kehu.customers import card, selectors, services, tabs
from kehu.customers.forms import (
    ContactForm,
    CustomerFilterForm,
    CustomerForm,
    LifecycleForm,
    OwnerForm,
    TransactionForm,
    TransactionLineFormSet,
    apply_service_error,
    submit,
)
from kehu.customers.models import Customer

PAGE_SIZE = 50
# Ids beyond a signed 64-bit integer cannot exist; refusing them early keeps the database
# driver from raising an overflow instead of answering "not found".
MAX_ID = 2**63 - 1



def customer_for(request: HttpRequest, pk: int, action: str = VIEW) -> Customer:
    """The customer of a URL if the user may take `action` on it, else 404 (also for one
    out of reach, so that ids reveal nothing). Other apps' card pages use it too."""
    if pk > MAX_ID:
        raise Http404
    try:
        return selectors.get_customer(request.user, pk, action)
    except Customer.DoesNotExist:
        raise Http404 from None


def _is_htmx(request: HttpRequest, target: str) -> bool:
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-Target") == target
            and request.headers.get("HX-History-Restore-Request") != "true")


def _audit(request: HttpRequest) -> dict:
    return {"ip": client_ip(request), "via": "web"}


# The list ---------------------------------------------------------------------------------

@login_required
def customer_list(request: HttpRequest) -> HttpResponse:
    form = CustomerFilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    data = form.cleaned_data if form.is_bound else {}
    sort = data.get("sort") or "name"
    descending = data.get("dir") == "desc"
    cursor = data.get("cursor") or None
    search_error = form.search_error()
    if search_error:
        page = Page(items=[], next_cursor=None, count=0, count_is_exact=True,
                    has_previous=False)
    else:
        page = selectors.customer_page(request.user, filters, sort=sort,
                                       descending=descending, cursor=cursor, limit=PAGE_SIZE)
        if page.cursor_refused:
            # A cursor that cannot be a position in this list (edited by hand, or from a
            # link made with another sort) gave the first page.
            messages.warning(request, _("That page link is no longer valid; showing the "
                                        "first page."))
            cursor = None
    params = form.query()
    # Reading the list is recorded: one row naming the customers shown and the filter.
    record_list(request.user, "customers", [c.pk for c in page.items], filters=params,
                **_audit(request))
    for c in page.items:
        c.stale = selectors.is_stale(c)
        c.scores = selectors.value_scores(c)
    order = {"sort": sort, "dir": "desc" if descending else "asc"}
    columns = []
    for key, label in (("name", _("Name")), ("state", _("Lifecycle state")),
                       ("city", _("City")), ("created", _("Created")),
                       ("updated", _("Updated")), ("clv", _("CLV")),
                       ("p_alive", _("P(alive)")), ("loyalty", _("Loyalty"))):
        highest_first = key in {"created", "updated", "clv", "p_alive", "loyalty"}
        if key == sort:
            flip = "asc" if descending else "desc"
        else:
            flip = "desc" if highest_first else "asc"
        columns.append({
            "key": key, "label": label, "num": key in {"clv", "p_alive", "loyalty"},
            "url": "?" + urlencode({**params, "sort": key, "dir": flip}),
            "sorted": ("descending" if descending else "ascending") if key == sort else "",
        })
    context = {
        "form": form, "page": page, "columns": columns, "nav": "customers",
        "search_error": search_error,
        # No export of a list whose search was refused: it would be every customer.
        "may_export": policy.may_export(request.user) and not search_error,
        "may_create": policy.may_create_customers(request.user),
        "filter_query": urlencode(params),
        "first_url": "?" + urlencode({**params, **order}) if cursor else "",
        "next_url": "?" + urlencode({**params, **order, "cursor": page.next_cursor})
        if page.next_cursor else "",
    }
    template = "customers/_table.html" if _is_htmx(request, "customer-table") else (
        "customers/list.html")
    # A refused search is a 400, except to htmx, which swaps in only 2xx answers: there
    # the table with the message replaces the list as the user types.
    status = 400 if search_error and template == "customers/list.html" else 200
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


# The card ---------------------------------------------------------------------------------

def render_card(request: HttpRequest, customer: Customer, tab_key: str, status: int = 200,
                tab_context: dict | None = None, **extra) -> HttpResponse:
    """The card open on one of its tabs (kehu.customers.card); `extra` goes into the
    context, e.g. a form to show again with its errors; `tab_context`, when given, is what
    the tab's context function already returned."""
    user = request.user
    tab = card.tab(tab_key, user) or card.tabs(user)[0]
    if tab_context is None:
        tab_context = tab.context(request, customer)
    may_change = can(user, CHANGE, customer)
    context = {
        "customer": customer, "tab": tab, "tabs": card.tabs(user), "nav": "customers",
        "may_change": may_change,
        "may_delete": can(user, DELETE, customer),
        "may_contribute": can(user, CONTRIBUTE, customer),
        "may_reassign": may_change and policy.may_reassign_customers(user),
        "lifecycle_form": LifecycleForm(initial={"state": customer.lifecycle_state}),
        "state_lock": selectors.state_lock(user, customer),
        "sees_sensitive": user.sees_sensitive,
        "stale": selectors.is_stale(customer),
        "stale_days": settings.KEHU_STALE_AFTER_DAYS,
        "privacy_officer": user.is_privacy_officer,
        **extra,
    }
    for key, value in tab_context.items():
        context.setdefault(key, value)
    context["panels"] = [render_to_string(p.template, {**context, **p.context(request, customer)},
                                          request=request) for p in card.panels()]
    if context["may_reassign"]:
        context.setdefault("owner_form", OwnerForm(user=user,
                                                   initial={"owner": customer.owner_id}))
    template = "customers/_card_body.html" if _is_htmx(request, "card-body") else (
        "customers/card.html")
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


@login_required
def customer_card(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_for(request, pk)
    tab = card.tab(request.GET.get("tab", ""), request.user) or card.tabs(request.user)[0]
    tab_context = tab.context(request, customer)
    # Opening a customer file is recorded: who read which part, when, from where, and
    # which other customers the part named (card.NAMED).
    others = sorted(set(tab_context.get(card.NAMED, ())))
    services.record_customer_view(request.user, customer, part=tab.key,
                                  detail={"customers": others} if others else None,
                                  **_audit(request))
    return render_card(request, customer, tab.key, tab_context=tab_context)


def record_form_view(request: HttpRequest, customer: Customer, part: str, **detail) -> None:
    """A form or a confirmation page shows the card's data too: its GET is a read. Other
    apps' forms on the card use it too."""
    if request.method == "GET":
        services.record_customer_view(request.user, customer, part=part,
                                      detail=detail or None, **_audit(request))


def card_url(customer: Customer, tab: str = "") -> str:
    url = reverse("customers:card", args=[customer.pk])
    return f"{url}?tab={tab}" if tab else url


# Create and edit --------------------------------------------------------------------------

@login_required
def customer_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not policy.may_create_customers(user):
        raise PermissionDenied
    form = CustomerForm(request.POST or None, instance=Customer(), user=user,
                        with_owner=policy.may_reassign_customers(user))
    if request.method == "POST" and form.is_valid():
        owner = form.cleaned_data.get("owner") or user
        try:
            customer = services.create_customer(user, form.service_data(), owner=owner,
                                                **_audit(request))
        except (ValidationError, ServiceError) as e:
            apply_service_error(form, e)
        else:
            messages.success(request, _("Customer “%(name)s” created.") % {"name": customer})
            return redirect(card_url(customer))
    status = 400 if request.method == "POST" else 200
    return render(request, "customers/form.html",
                  {"form": form, "customer": None, "nav": "customers"}, status=status)


@login_required
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    customer = customer_for(request, pk, CHANGE)
    form = CustomerForm(request.POST or None, instance=customer, user=user)
    form.fields["version"].required = True
    sent = submit(request, form, lambda data: services.update_customer(
        user, customer, form.service_data(), expected_version=data["version"],
        **_audit(request)), on_stale=lambda _error: _show_saved_now(request, form, pk))
    if sent.saved:
        messages.success(request, _("Changes saved."))
        return redirect(card_url(customer))
    record_form_view(request, customer, "edit")
    return render(request, "customers/form.html",
                  {"form": form, "customer": customer, "conflict": sent.conflict,
                   "nav": "customers"}, status=sent.status)


def _show_saved_now(request: HttpRequest, form: CustomerForm, pk: int) -> None:
    """After a stale save, show next to each field what is saved now where it differs from
    the input, so that the user decides field by field before saving again."""
    current = selectors.get_customer(request.user, pk)
    saved_now = {}
    for name in form.service_data():
        if getattr(current, name) != form.cleaned_data[name]:
            value = tabs.display(current, name)
            saved_now[name] = value if value not in (None, "") else "—"
    form.saved_now = saved_now


# Lifecycle state, owner, delete -----------------------------------------------------------

@login_required
@require_POST
def customer_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_for(request, pk, CHANGE)
    services.confirm_customer_data(request.user, customer, **_audit(request))
    messages.success(request, _("Thank you: the card's data is confirmed as of today."))
    return redirect(card_url(customer))


@login_required
@require_POST
def customer_state(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_for(request, pk, CHANGE)
    form = LifecycleForm(request.POST)
    if not form.is_valid():
        if "state" in form.errors:
            messages.error(request, _("Choose a valid lifecycle state."))
        else:
            messages.error(request, " ".join(e for errors in form.errors.values()
                                             for e in errors))
        return redirect(card_url(customer))
    data = form.cleaned_data
    try:
        services.set_lifecycle_state(request.user, customer, data["state"],
                                     reason=data["reason"], lock_reason=data["lock_reason"],
                                     lock_until=data["lock_until"], **_audit(request))
    except ServiceError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("Lifecycle state changed and locked.")
                         if data["lock_reason"].strip() else _("Lifecycle state changed."))
    return redirect(card_url(customer))


@login_required
@require_POST
def customer_state_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_for(request, pk, CHANGE)
    try:
        services.unlock_lifecycle_state(request.user, customer, **_audit(request))
    except ServiceError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("Lifecycle state unlocked: the next value refresh derives "
                                    "it from behaviour again."))
    return redirect(card_url(customer))


@login_required
@require_POST
def customer_owner(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_for(request, pk, CHANGE)
    if not policy.may_reassign_customers(request.user):
        raise Http404
    form = OwnerForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, _("Choose a valid new owner."))
        return redirect(card_url(customer))
    try:
        services.change_owner(request.user, customer, form.cleaned_data["owner"],
                              reason=form.cleaned_data["reason"], **_audit(request))
    except ServiceError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("Owner changed."))
    # The new owner may be in a team this user does not see; the list is always reachable.
    if selectors.customers(request.user).filter(pk=customer.pk).exists():
        return redirect(card_url(customer))
    return redirect("customers:list")


@login_required
def customer_delete(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_for(request, pk, DELETE)
    if request.method == "POST":
        try:
            services.delete_customer(request.user, customer, **_audit(request))
        except ServiceError as e:
            messages.error(request, e.message)
            return redirect(card_url(customer))
        messages.success(request, _("Customer “%(name)s” deleted.") % {"name": customer.name})
        return redirect("customers:list")
    record_form_view(request, customer, "delete")
    return render(request, "customers/confirm_delete.html", {
        "customer": customer, "nav": "customers",
        "title": _("Delete customer “%(name)s”?") % {"name": customer.name},
        "warning": _("The customer data card, its contacts and activities are removed. The "
                     "change history and the audit log keep a record of the deletion."),
        "cancel_url": card_url(customer)})


# Contacts ---------------------------------------------------------------------------------

def _contact(request: HttpRequest, customer: Customer, contact_pk: int):
    if contact_pk > MAX_ID:
        raise Http404
    contact = selectors.contacts(request.user, CHANGE).filter(customer=customer,
                                                               pk=contact_pk).first()
    if contact is None:
        raise Http404
    return contact


@login_required
def contact_create(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_for(request, pk, CHANGE)
    form = ContactForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.create_contact(request.user, customer, form.service_data(),
                                    **_audit(request))
        except (ValidationError, ServiceError) as e:
            apply_service_error(form, e)
        else:
            messages.success(request, _("Contact added."))
            return redirect(card_url(customer, "contacts"))
    record_form_view(request, customer, "contact_new")
    return render(request, "customers/contact_form.html",
                  {"form": form, "customer": customer, "contact": None, "nav": "customers"},
                  status=400 if request.method == "POST" else 200)


@login_required
def contact_edit(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    customer = customer_for(request, pk, CHANGE)
    contact = _contact(request, customer, contact_pk)
    form = ContactForm(request.POST or None, instance=contact, user=request.user)
    form.fields["version"].required = True
    sent = submit(request, form, lambda data: services.update_contact(
        request.user, contact, form.service_data(), expected_version=data["version"],
        **_audit(request)))
    if sent.saved:
        messages.success(request, _("Contact saved."))
        return redirect(card_url(customer, "contacts"))
    record_form_view(request, customer, "contact_edit", contact=contact.pk)
    return render(request, "customers/contact_form.html",
                  {"form": form, "customer": customer, "contact": contact,
                   "conflict": sent.conflict, "nav": "customers"}, status=sent.status)


@login_required
def contact_delete(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    customer = customer_for(request, pk, CHANGE)
    contact = _contact(request, customer, contact_pk)
    if request.method == "POST":
        services.delete_contact(request.user, contact, **_audit(request))
        messages.success(request, _("Contact “%(name)s” deleted.") % {"name": contact.name})
        return redirect(card_url(customer, "contacts"))
    record_form_view(request, customer, "contact_delete", contact=contact.pk)
    return render(request, "customers/confirm_delete.html", {
        "customer": customer, "nav": "customers",
        "title": _("Delete contact “%(name)s”?") % {"name": contact.name},
        "cancel_url": card_url(customer, "contacts")})


# Transactions -----------------------------------------------------------------------------

@login_required
def transaction_create(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_for(request, pk, CHANGE)
    form = TransactionForm(request.POST or None)
    lines = TransactionLineFormSet(request.POST or None, prefix="lines")
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        data = form.cleaned_data
        line_data = [ln for ln in (f.service_line() for f in lines.forms) if ln]
        try:
            services.create_transaction(
                request.user, customer, date=data["date"], kind=data["kind"],
                amount=data["amount"], cost=data["cost"] or 0, number=data["number"],
                notes=data["notes"], lines=line_data, **_audit(request))
        except (ValidationError, ServiceError) as e:
            apply_service_error(form, e)
        else:
            messages.success(request, _("Transaction recorded."))
            return redirect(card_url(customer, "transactions"))
    record_form_view(request, customer, "transaction_new")
    return render(request, "customers/transaction_form.html",
                  {"form": form, "lines": lines, "customer": customer, "nav": "customers"},
                  status=400 if request.method == "POST" else 200)


@login_required
def transaction_delete(request: HttpRequest, pk: int, txn_pk: int) -> HttpResponse:
    customer = customer_for(request, pk, CHANGE)
    if txn_pk > MAX_ID:
        raise Http404
    txn = selectors.transactions(request.user, CHANGE).filter(customer=customer,
                                                               pk=txn_pk).first()
    if txn is None:
        raise Http404
    if request.method == "POST":
        services.delete_transaction(request.user, txn, **_audit(request))
        messages.success(request, _("Transaction deleted."))
        return redirect(card_url(customer, "transactions"))
    record_form_view(request, customer, "transaction_delete", transaction=txn.pk)
    return render(request, "customers/confirm_delete.html", {
        "customer": customer, "nav": "customers",
        "title": _("Delete transaction %(number)s of %(date)s?") % {
            "number": txn, "date": txn.date.isoformat()},
        "cancel_url": card_url(customer, "transactions")})
