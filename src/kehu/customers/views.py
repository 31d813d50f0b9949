"""Web pages for customers: the list, the data card and its tabs, and the forms that change
them. Thin: parse input, call a selector or service, render."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kehu.accounts import policy
from kehu.accounts.models import Team, User
from kehu.accounts.permissions import CHANGE, CONTRIBUTE, DELETE, VIEW, can
from kehu.audit.services import record_list
from kehu.core.errors import NotPermitted, ServiceError, StaleVersion
from kehu.core.pagination import Page
from kehu.core.requests import client_ip
from kehu.customers import selectors, services
from kehu.customers.forms import (
    CARD_GROUPS,
    ActivityForm,
    ContactForm,
    CustomerFilterForm,
    CustomerForm,
    LifecycleForm,
    OwnerForm,
    TransactionForm,
    TransactionLineFormSet,
    apply_service_error,
    visible_customer_fields,
)
from kehu.customers.models import Customer
from kehu.loans import selectors as loan_selectors
from kehu.sales import selectors as sales_selectors
from kehu.sales import services as sales_services

PAGE_SIZE = 50
# Ids beyond a signed 64-bit integer cannot exist; refusing them early keeps the database
# driver from raising an overflow instead of answering "not found".
_MAX_ID = 2**63 - 1

TABS = (
    *((key, label) for key, label, _fields in CARD_GROUPS),
    ("contacts", gettext_lazy("Contacts")),
    ("transactions", gettext_lazy("Transactions")),
    ("activities", gettext_lazy("Activities")),
    ("history", gettext_lazy("History")),
    ("value", gettext_lazy("Value")),
)
_TAB_KEYS = {key for key, _label in TABS}


def _customer(request: HttpRequest, pk: int, action: str = VIEW) -> Customer:
    if pk > _MAX_ID:
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
    order = {"sort": sort, "dir": "desc" if descending else "asc"}
    columns = []
    for key, label in (("name", _("Name")), ("state", _("Lifecycle state")),
                       ("city", _("City")), ("created", _("Created")),
                       ("updated", _("Updated"))):
        if key == sort:
            flip = "asc" if descending else "desc"
        else:
            flip = "desc" if key in {"created", "updated"} else "asc"
        columns.append({
            "key": key, "label": label,
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

def _display(customer: Customer, name: str):
    field = Customer._meta.get_field(name)
    value = getattr(customer, name)
    if field.choices and value:
        return getattr(customer, f"get_{name}_display")()
    if isinstance(value, Decimal):
        return number_format(value, decimal_pos=2, force_grouping=True)
    return value


def _history_value(field, value, users: dict):
    if value in (None, ""):
        return value
    if field is None:
        return value
    if field.choices:
        return dict(field.flatchoices).get(value, value)
    if field.name == "owner":
        return users.get(value, value)
    if field.name == "team":
        team = Team.objects.filter(pk=value).first()
        return team.name if team else value
    return value


def _history(user, customer: Customer) -> list[dict]:
    entries = selectors.change_history(user, customer)
    by_label = {str(f.verbose_name): f for f in Customer._meta.concrete_fields}
    user_ids = set()
    for entry in entries:
        for change in entry["changes"]:
            field = by_label.get(str(change["field"]))
            change["model_field"] = field
            if field is not None and field.name == "owner":
                user_ids |= {change["old"], change["new"]}
    users = {u.pk: str(u) for u in User.objects.filter(pk__in=[i for i in user_ids if i])}
    for entry in entries:
        for change in entry["changes"]:
            field = change.pop("model_field")
            change["old"] = _history_value(field, change["old"], users)
            change["new"] = _history_value(field, change["new"], users)
    return entries


TAB_ROWS = 200  # rows a transactions or activities tab shows at first, newest first
ALL_TAB_ROWS = 5000  # and when asked for all


def _tab_rows(request: HttpRequest) -> int:
    return ALL_TAB_ROWS if request.GET.get("show") == "all" else TAB_ROWS


def _shown(limit: int, count: int) -> dict:
    return {"rows": min(limit, count), "of": count, "more": count > limit,
            "can_show_all": count > limit and limit < ALL_TAB_ROWS}


def _tab_context(request: HttpRequest, customer: Customer, tab: str) -> dict:
    user = request.user
    ctx: dict = {}
    group = next((g for g in CARD_GROUPS if g[0] == tab), None)
    if group is not None:
        visible = set(visible_customer_fields(user))
        sensitive = set(services.SENSITIVE_CUSTOMER_FIELDS)
        ctx["rows"] = [
            {"label": Customer._meta.get_field(n).verbose_name, "value": _display(customer, n),
             "sensitive": n in sensitive}
            for n in group[2] if n in visible]
    elif tab == "contacts":
        ctx["contacts"] = selectors.contacts(user).filter(customer=customer)
    elif tab == "transactions":
        txns = selectors.transactions(user).filter(customer=customer)
        limit = _tab_rows(request)
        ctx["transactions"] = txns.prefetch_related("lines__product")[:limit]
        totals = txns.aggregate(amount=Sum("amount"), cost=Sum("cost"), count=Count("pk"))
        amount, cost = totals["amount"] or Decimal("0"), totals["cost"] or Decimal("0")
        ctx["totals"] = {"amount": amount, "cost": cost, "profit": amount - cost,
                         "count": totals["count"]}
        ctx["shown"] = _shown(limit, totals["count"])
    elif tab == "activities":
        limit = _tab_rows(request)
        timeline = sales_selectors.activities(user).filter(customer=customer)
        ctx["activities"] = timeline[:limit]
        ctx["shown"] = _shown(limit, timeline.count())
        if can(user, CONTRIBUTE, customer):
            ctx.setdefault("activity_form", ActivityForm(customer=customer))
    elif tab == "value":
        from kehu.analytics.forms import ReferralForm
        from kehu.analytics.selectors import referrals_of

        ctx.update(referrals_of(user, customer))
        ctx["referral_form"] = ReferralForm()
    elif tab == "history":
        ctx["changes"] = _history(user, customer)
        ctx["transitions"] = selectors.lifecycle_history(user, customer)
        ctx["owners"] = selectors.owner_history(user, customer)
    return ctx


def _others_shown(tab_context: dict) -> list[int]:
    """Other customers a tab names (the value tab's referrals), for the audit row."""
    lines = [tab_context.get("referred_by"), *tab_context.get("brought", [])]
    # A referral whose other customer is out of the reader's reach names no one.
    return sorted({line.customer.pk for line in lines if line and line.customer})


def _render_card(request: HttpRequest, customer: Customer, tab: str, status: int = 200,
                 tab_context: dict | None = None, **extra) -> HttpResponse:
    user = request.user
    may_change = can(user, CHANGE, customer)
    context = {
        "customer": customer, "tab": tab, "tabs": TABS, "nav": "customers",
        "may_change": may_change,
        "may_delete": can(user, DELETE, customer),
        "may_contribute": can(user, CONTRIBUTE, customer),
        "may_reassign": may_change and policy.may_reassign_customers(user),
        "lifecycle_form": LifecycleForm(initial={"state": customer.lifecycle_state}),
        "sees_sensitive": user.sees_sensitive,
        "stale": selectors.is_stale(customer),
        "stale_days": settings.KEHU_STALE_AFTER_DAYS,
        "privacy_officer": user.is_privacy_officer,
        **loan_selectors.card_loans(user, customer),
        **(tab_context if tab_context is not None else _tab_context(request, customer, tab)),
        **extra,
    }
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
    customer = _customer(request, pk)
    tab = request.GET.get("tab", "base")
    if tab not in _TAB_KEYS:
        tab = "base"
    tab_context = _tab_context(request, customer, tab)
    # Opening a customer file is recorded: who read which part, when, from where.
    others = _others_shown(tab_context)
    services.record_customer_view(request.user, customer, part=tab,
                                  detail={"customers": others} if others else None,
                                  **_audit(request))
    return _render_card(request, customer, tab, tab_context=tab_context)


def _record_form_view(request: HttpRequest, customer: Customer, part: str, **detail) -> None:
    """A form or a confirmation page shows the card's data too: its GET is a read."""
    if request.method == "GET":
        services.record_customer_view(request.user, customer, part=part,
                                      detail=detail or None, **_audit(request))


def _card_url(customer: Customer, tab: str = "") -> str:
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
            return redirect(_card_url(customer))
    status = 400 if request.method == "POST" else 200
    return render(request, "customers/form.html",
                  {"form": form, "customer": None, "nav": "customers"}, status=status)


@login_required
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    customer = _customer(request, pk, CHANGE)
    form = CustomerForm(request.POST or None, instance=customer, user=user)
    form.fields["version"].required = True
    conflict = False
    if request.method == "POST" and form.is_valid():
        try:
            services.update_customer(user, customer, form.service_data(),
                                     expected_version=form.cleaned_data["version"],
                                     **_audit(request))
        except StaleVersion as e:
            conflict = True
            _show_conflict(request, form, pk, e)
        except (ValidationError, ServiceError) as e:
            apply_service_error(form, e)
        else:
            messages.success(request, _("Changes saved."))
            return redirect(_card_url(customer))
    _record_form_view(request, customer, "edit")
    status = 409 if conflict else (400 if request.method == "POST" else 200)
    return render(request, "customers/form.html",
                  {"form": form, "customer": customer, "conflict": conflict,
                   "nav": "customers"}, status=status)


def _show_conflict(request: HttpRequest, form: CustomerForm, pk: int, error: StaleVersion):
    """Keep everything the user typed, say who changed the card, and show next to each field
    what is saved now where it differs from the input. The form now carries the current
    version, so saving again is a deliberate choice made after seeing the other changes."""
    current = selectors.get_customer(request.user, pk)
    form.add_error(None, error.message)
    saved_now = {}
    for name in form.service_data():
        if getattr(current, name) != form.cleaned_data[name]:
            value = _display(current, name)
            saved_now[name] = value if value not in (None, "") else "—"
    form.saved_now = saved_now
    form.data = form.data.copy()
    form.data["version"] = str(current.version)


# Lifecycle state, owner, delete -----------------------------------------------------------

@login_required
@require_POST
def customer_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk, CHANGE)
    services.confirm_customer_data(request.user, customer, **_audit(request))
    messages.success(request, _("Thank you: the card's data is confirmed as of today."))
    return redirect(_card_url(customer))


@login_required
@require_POST
def customer_state(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk, CHANGE)
    form = LifecycleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a valid lifecycle state."))
        return redirect(_card_url(customer))
    try:
        services.set_lifecycle_state(request.user, customer, form.cleaned_data["state"],
                                     reason=form.cleaned_data["reason"], **_audit(request))
    except ServiceError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("Lifecycle state changed."))
    return redirect(_card_url(customer))


@login_required
@require_POST
def customer_owner(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk, CHANGE)
    if not policy.may_reassign_customers(request.user):
        raise Http404
    form = OwnerForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, _("Choose a valid new owner."))
        return redirect(_card_url(customer))
    try:
        services.change_owner(request.user, customer, form.cleaned_data["owner"],
                              reason=form.cleaned_data["reason"], **_audit(request))
    except ServiceError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("Owner changed."))
    # The new owner may be in a team this user does not see; the list is always reachable.
    if selectors.customers(request.user).filter(pk=customer.pk).exists():
        return redirect(_card_url(customer))
    return redirect("customers:list")


@login_required
def customer_delete(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk, DELETE)
    if request.method == "POST":
        try:
            services.delete_customer(request.user, customer, **_audit(request))
        except ServiceError as e:
            messages.error(request, e.message)
            return redirect(_card_url(customer))
        messages.success(request, _("Customer “%(name)s” deleted.") % {"name": customer.name})
        return redirect("customers:list")
    _record_form_view(request, customer, "delete")
    return render(request, "customers/confirm_delete.html", {
        "customer": customer, "nav": "customers",
        "title": _("Delete customer “%(name)s”?") % {"name": customer.name},
        "warning": _("The customer data card, its contacts and activities are removed. The "
                     "change history and the audit log keep a record of the deletion."),
        "cancel_url": _card_url(customer)})


# Contacts ---------------------------------------------------------------------------------

def _contact(request: HttpRequest, customer: Customer, contact_pk: int):
    if contact_pk > _MAX_ID:
        raise Http404
    contact = selectors.contacts(request.user, CHANGE).filter(customer=customer,
                                                               pk=contact_pk).first()
    if contact is None:
        raise Http404
    return contact


@login_required
def contact_create(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk, CHANGE)
    form = ContactForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.create_contact(request.user, customer, form.service_data(),
                                    **_audit(request))
        except (ValidationError, ServiceError) as e:
            apply_service_error(form, e)
        else:
            messages.success(request, _("Contact added."))
            return redirect(_card_url(customer, "contacts"))
    _record_form_view(request, customer, "contact_new")
    return render(request, "customers/contact_form.html",
                  {"form": form, "customer": customer, "contact": None, "nav": "customers"},
                  status=400 if request.method == "POST" else 200)


@login_required
def contact_edit(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    customer = _customer(request, pk, CHANGE)
    contact = _contact(request, customer, contact_pk)
    form = ContactForm(request.POST or None, instance=contact, user=request.user)
    form.fields["version"].required = True
    conflict = False
    if request.method == "POST" and form.is_valid():
        try:
            services.update_contact(request.user, contact, form.service_data(),
                                    expected_version=form.cleaned_data["version"],
                                    **_audit(request))
        except StaleVersion as e:
            conflict = True
            form.add_error(None, e.message)
            form.data = form.data.copy()
            form.data["version"] = str(e.current_version)
        except (ValidationError, ServiceError) as e:
            apply_service_error(form, e)
        else:
            messages.success(request, _("Contact saved."))
            return redirect(_card_url(customer, "contacts"))
    _record_form_view(request, customer, "contact_edit", contact=contact.pk)
    status = 409 if conflict else (400 if request.method == "POST" else 200)
    return render(request, "customers/contact_form.html",
                  {"form": form, "customer": customer, "contact": contact,
                   "conflict": conflict, "nav": "customers"}, status=status)


@login_required
def contact_delete(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    customer = _customer(request, pk, CHANGE)
    contact = _contact(request, customer, contact_pk)
    if request.method == "POST":
        services.delete_contact(request.user, contact, **_audit(request))
        messages.success(request, _("Contact “%(name)s” deleted.") % {"name": contact.name})
        return redirect(_card_url(customer, "contacts"))
    _record_form_view(request, customer, "contact_delete", contact=contact.pk)
    return render(request, "customers/confirm_delete.html", {
        "customer": customer, "nav": "customers",
        "title": _("Delete contact “%(name)s”?") % {"name": contact.name},
        "cancel_url": _card_url(customer, "contacts")})


# Transactions -----------------------------------------------------------------------------

@login_required
def transaction_create(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk, CHANGE)
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
            return redirect(_card_url(customer, "transactions"))
    _record_form_view(request, customer, "transaction_new")
    return render(request, "customers/transaction_form.html",
                  {"form": form, "lines": lines, "customer": customer, "nav": "customers"},
                  status=400 if request.method == "POST" else 200)


@login_required
def transaction_delete(request: HttpRequest, pk: int, txn_pk: int) -> HttpResponse:
    customer = _customer(request, pk, CHANGE)
    if txn_pk > _MAX_ID:
        raise Http404
    txn = selectors.transactions(request.user, CHANGE).filter(customer=customer,
                                                               pk=txn_pk).first()
    if txn is None:
        raise Http404
    if request.method == "POST":
        services.delete_transaction(request.user, txn, **_audit(request))
        messages.success(request, _("Transaction deleted."))
        return redirect(_card_url(customer, "transactions"))
    _record_form_view(request, customer, "transaction_delete", transaction=txn.pk)
    return render(request, "customers/confirm_delete.html", {
        "customer": customer, "nav": "customers",
        "title": _("Delete transaction %(number)s of %(date)s?") % {
            "number": txn, "date": txn.date.isoformat()},
        "cancel_url": _card_url(customer, "transactions")})


# Activities -------------------------------------------------------------------------------

@login_required
@require_POST
def activity_create(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk, CONTRIBUTE)
    form = ActivityForm(request.POST, customer=customer)
    if form.is_valid():
        data = form.cleaned_data
        try:
            sales_services.log_activity(
                request.user, customer, kind=data["kind"], subject=data["subject"],
                body=data["body"], occurred_at=data["occurred_at"], contact=data["contact"],
                **_audit(request))
        except (ValidationError, ServiceError) as e:
            apply_service_error(form, e)
        else:
            messages.success(request, _("Activity added."))
            return redirect(_card_url(customer, "activities"))
    return _render_card(request, customer, "activities", status=400, activity_form=form)


@login_required
@require_POST
def task_done(request: HttpRequest, pk: int, activity_pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    if activity_pk > _MAX_ID:
        raise Http404
    task = sales_selectors.activities(request.user).filter(customer=customer,
                                                           pk=activity_pk).first()
    if task is None:
        raise Http404
    try:
        sales_services.complete_task(request.user, task, **_audit(request))
    except ServiceError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("Task done."))
    return redirect(_card_url(customer, "activities"))


@login_required
def activity_delete(request: HttpRequest, pk: int, activity_pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    if activity_pk > _MAX_ID:
        raise Http404
    activity = sales_selectors.activities(request.user).filter(customer=customer,
                                                               pk=activity_pk).first()
    if activity is None:
        raise Http404
    if request.method == "POST":
        try:
            sales_services.delete_activity(request.user, activity, **_audit(request))
        except NotPermitted as e:
            messages.error(request, e.message)
        else:
            messages.success(request, _("Activity deleted."))
        return redirect(_card_url(customer, "activities"))
    _record_form_view(request, customer, "activity_delete", activity=activity.pk)
    return render(request, "customers/confirm_delete.html", {
        "customer": customer, "nav": "customers",
        "title": _("Delete activity “%(subject)s”?") % {"subject": activity.subject},
        "cancel_url": _card_url(customer, "activities")})
