"""Web pages for tickets: the queue, a new ticket, the ticket page (its conversation and
the customer's whole picture beside it), editing, assigning, moving between statuses, the
agent view of a customer, and the categories. Thin: parse, call a selector or service,
render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.audit.services import record_list
from kehu.core import policy
from kehu.core.errors import NotPermitted, ServiceError
from kehu.core.permissions import CONTRIBUTE, can
from kehu.core.requests import client_ip
from kehu.customers.forms import submit
from kehu.customers.models import Customer
from kehu.customers.selectors import get_customer, search_customers
from kehu.customers.services import record_customer_view
from kehu.customers.views import MAX_ID
from kehu.service.tickets import agent, selectors, services
from kehu.service.tickets.forms import (
    AssignForm,
    CategoryForm,
    EntryForm,
    NewTicketForm,
    QueueForm,
    StatusForm,
    TicketEditForm,
)
from kehu.service.tickets.models import Ticket, TicketCategory, TicketStatus
from kehu.service.tickets.selectors import TicketFilters

PAGE = 50


def _audit(request: HttpRequest) -> dict:
    return {"ip": client_ip(request), "via": "web"}


def _ticket(request: HttpRequest, pk: int) -> Ticket:
    if pk > MAX_ID:
        raise Http404
    try:
        return selectors.ticket(request.user, pk)
    except Ticket.DoesNotExist:
        raise Http404 from None


def _customer(request: HttpRequest, pk) -> Customer:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    if not 0 < pk <= MAX_ID:
        raise Http404
    try:
        return get_customer(request.user, pk)
    except Customer.DoesNotExist:
        raise Http404 from None


def _may_work(user, ticket: Ticket) -> bool:
    return policy.may_work_tickets(user) and can(user, CONTRIBUTE, ticket.customer)


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    form = QueueForm(request.GET or {"status": "active"})
    data = form.cleaned_data if form.is_valid() else {"status": "active"}
    who = data.get("who") or ""
    filters = TicketFilters(q=(data.get("q") or "").strip(), status=data.get("status") or "",
                            kind=data.get("kind") or "", priority=data.get("priority") or "",
                            mine=who == "mine", unassigned=who == "unassigned",
                            sort=data.get("sort") or "priority", sla=data.get("sla") or "")
    try:
        number = max(1, min(int(request.GET.get("page", 1)), 10_000))
    except ValueError:
        number = 1
    qs = selectors.queue(request.user, filters)
    rows = list(qs[(number - 1) * PAGE:number * PAGE + 1])
    more, rows = len(rows) > PAGE, rows[:PAGE]
    record_list(request.user, "tickets", [t.customer_id for t in rows], filters=filters,
                **_audit(request))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "service/tickets/queue.html", {
        "nav": "service", "subnav": "mine" if filters.mine else "tickets", "form": form,
        "tickets": rows,
        "page": number, "more": more, "query": query.urlencode(),
        "may_open": policy.may_work_tickets(request.user)})


@login_required
def ticket_new(request: HttpRequest) -> HttpResponse:
    if not policy.may_work_tickets(request.user):
        raise Http404
    customer_pk = request.GET.get("customer") or request.POST.get("customer")
    if not customer_pk:
        q = (request.GET.get("q") or "").strip()[:200]
        found = list(search_customers(request.user, q, action=CONTRIBUTE)[:20]) if q else []
        if q:
            record_list(request.user, "customers", [c.pk for c in found],
                        filters={"q": q}, **_audit(request))
        return render(request, "service/tickets/pick_customer.html", {
            "nav": "service", "subnav": "tickets", "q": q, "found": found})
    customer = _customer(request, customer_pk)
    if not can(request.user, CONTRIBUTE, customer):
        raise Http404
    form = NewTicketForm(request.POST or None, customer=customer)
    sent = submit(request, form, lambda d: services.open_ticket(
        request.user, customer, subject=d["subject"], kind=d["kind"], priority=d["priority"],
        channel=d["channel"], category=d["category"], contact=d["contact"],
        description=d["description"], assignee=request.user if d["assign_to_me"] else None,
        **_audit(request)))
    if sent.saved:
        messages.success(request, _("Ticket %(number)s opened.") % {"number": sent.result.number})
        return redirect("service:ticket", sent.result.pk)
    if not sent.posted:
        record_customer_view(request.user, customer, part="tickets", **_audit(request))
    return render(request, "service/tickets/form.html", {
        "nav": "service", "subnav": "tickets", "form": form, "customer": customer,
        "ticket": None}, status=sent.status)


@login_required
def ticket_detail(request: HttpRequest, ticket_pk: int) -> HttpResponse:
    ticket = _ticket(request, ticket_pk)
    record_customer_view(request.user, ticket.customer, part="tickets",
                         detail={"ticket": ticket.pk}, **_audit(request))
    may_work = _may_work(request.user, ticket)
    return render(request, "service/tickets/detail.html", {
        "nav": "service", "subnav": "tickets", "ticket": ticket, "may_work": may_work,
        "entries": selectors.entries(request.user, ticket),
        "history": selectors.status_history(request.user, ticket),
        "assign_form": AssignForm(initial={"assignee": ticket.assignee_id,
                                           "version": ticket.version}, user=request.user),
        "status_form": StatusForm(initial={"status": ticket.status, "version": ticket.version,
                                           "resolution": ticket.resolution}),
        "entry_form": EntryForm(),
        "statuses": [(s, label) for s, label in TicketStatus.choices],
        **agent.picture(request, ticket.customer, exclude_ticket=ticket.pk)})


@login_required
def ticket_edit(request: HttpRequest, ticket_pk: int) -> HttpResponse:
    ticket = _ticket(request, ticket_pk)
    if not _may_work(request.user, ticket):
        raise Http404
    initial = {"subject": ticket.subject, "kind": ticket.kind, "priority": ticket.priority,
               "category": ticket.category_id, "channel": ticket.channel,
               "contact": ticket.contact_id, "description": ticket.description,
               "version": ticket.version}
    form = TicketEditForm(request.POST or None, initial=initial, customer=ticket.customer)
    sent = submit(request, form, lambda d: services.update_ticket(
        request.user, ticket, {k: d[k] for k in services.EDITABLE},
        expected_version=d["version"], **_audit(request)))
    if sent.saved:
        messages.success(request, _("Ticket saved."))
        return redirect("service:ticket", ticket.pk)
    if not sent.posted:
        record_customer_view(request.user, ticket.customer, part="tickets",
                             detail={"ticket": ticket.pk}, **_audit(request))
    return render(request, "service/tickets/form.html", {
        "nav": "service", "subnav": "tickets", "form": form, "customer": ticket.customer,
        "ticket": ticket}, status=sent.status)


def _act(request: HttpRequest, ticket: Ticket, action, done: str) -> HttpResponse:
    try:
        action()
    except (ServiceError, ValidationError) as e:
        messages.error(request, e.message if isinstance(e, ServiceError) else
                       " ".join(e.messages))
    else:
        messages.success(request, done)
    return redirect("service:ticket", ticket.pk)


@login_required
@require_POST
def ticket_assign(request: HttpRequest, ticket_pk: int) -> HttpResponse:
    ticket = _ticket(request, ticket_pk)
    if not _may_work(request.user, ticket):
        raise Http404
    form = AssignForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, _("Choose somebody you may give the ticket to."))
        return redirect("service:ticket", ticket.pk)
    return _act(request, ticket, lambda: services.assign_ticket(
        request.user, ticket, form.cleaned_data["assignee"],
        expected_version=form.cleaned_data["version"], **_audit(request)),
        _("Ticket assigned."))


@login_required
@require_POST
def ticket_take(request: HttpRequest, ticket_pk: int) -> HttpResponse:
    ticket = _ticket(request, ticket_pk)
    if not _may_work(request.user, ticket):
        raise Http404
    return _act(request, ticket, lambda: services.assign_ticket(
        request.user, ticket, request.user, **_audit(request)), _("The ticket is yours."))


@login_required
@require_POST
def ticket_status(request: HttpRequest, ticket_pk: int) -> HttpResponse:
    ticket = _ticket(request, ticket_pk)
    if not _may_work(request.user, ticket):
        raise Http404
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a status."))
        return redirect("service:ticket", ticket.pk)
    d = form.cleaned_data
    first = {"yes": True, "no": False}.get(d.get("first_contact") or "")
    return _act(request, ticket, lambda: services.change_status(
        request.user, ticket, d["status"], expected_version=d["version"],
        resolution=d.get("resolution") or "", first_contact=first, **_audit(request)),
        _("Status changed."))


@login_required
@require_POST
def ticket_entry(request: HttpRequest, ticket_pk: int) -> HttpResponse:
    ticket = _ticket(request, ticket_pk)
    if not _may_work(request.user, ticket):
        raise Http404
    form = EntryForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errs in form.errors.values()
                                         for e in errs))
        return redirect("service:ticket", ticket.pk)
    d = form.cleaned_data
    return _act(request, ticket, lambda: services.add_entry(
        request.user, ticket, kind=d["kind"], body=d.get("body") or "",
        minutes=d.get("minutes") or 0, waiting=d.get("waiting", False), **_audit(request)),
        _("Added to the conversation."))


@login_required
def agent_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A customer's whole picture for whoever has them on the line."""
    customer = _customer(request, pk)
    record_customer_view(request.user, customer, part="agent_view", **_audit(request))
    return render(request, "service/tickets/agent.html", {
        "nav": "service", "subnav": "tickets",
        "may_open": policy.may_work_tickets(request.user)
        and can(request.user, CONTRIBUTE, customer),
        **agent.picture(request, customer)})


@login_required
def categories(request: HttpRequest) -> HttpResponse:
    editable = policy.may_change_ticket_settings(request.user)
    form = CategoryForm(request.POST or None)
    if request.method == "POST":
        if not editable:
            raise Http404
        sent = submit(request, form, lambda d: services.save_category(
            request.user, None, name_en=d["name_en"], name_zh=d["name_zh"], order=d["order"],
            **_audit(request)))
        if sent.saved:
            messages.success(request, _("Category added."))
            return redirect("service:categories")
    return render(request, "service/tickets/categories.html", {
        "nav": "service", "subnav": "categories", "form": form, "editable": editable,
        "categories": selectors.categories(request.user)},
        status=400 if request.method == "POST" else 200)


@login_required
@require_POST
def category_delete(request: HttpRequest, category_pk: int) -> HttpResponse:
    if not policy.may_change_ticket_settings(request.user):
        raise Http404
    category = TicketCategory.objects.filter(pk=category_pk).first() \
        if category_pk <= MAX_ID else None
    if category is None:
        raise Http404
    try:
        services.delete_category(request.user, category, **_audit(request))
    except NotPermitted as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("Category removed."))
    return redirect("service:categories")
