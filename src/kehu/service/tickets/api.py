"""REST endpoints of tickets: list, open, read, update (with a version check) and add to the
conversation. Scoped like customers: a ticket is seen by who sees its customer. Thin like
views."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from kehu.accounts.models import User
from kehu.audit.services import record_list
from kehu.core.pagination import keyset_page
from kehu.core.requests import client_ip
from kehu.core.schemas import (
    MAX_ID,
    Cursor,
    Id,
    InputSchema,
    QueryParams,
    Text,
    bounded_text,
    errors,
    refuse_unknown_query,
    username,
)
from kehu.customers.models import Contact
from kehu.customers.selectors import get_customer
from kehu.customers.services import record_customer_view
from kehu.service.tickets import selectors, services
from kehu.service.tickets.models import (
    EntryKind,
    Ticket,
    TicketCategory,
    TicketChannel,
    TicketKind,
    TicketPriority,
    TicketStatus,
)
from kehu.service.tickets.selectors import TicketFilters

router = Router(tags=["tickets"])

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
Subject = bounded_text(200, min_length=1)
Kind = Literal[tuple(TicketKind.values)]
Priority = Literal[tuple(TicketPriority.values)]
Channel = Literal[tuple(TicketChannel.values)]
StatusType = Literal[tuple(TicketStatus.values)]
Minutes = Annotated[int, Field(ge=0, le=services.MAX_MINUTES)]


class EntryOut(Schema):
    id: int
    kind: str = Field(description="note (internal), reply (to the customer) or customer.")
    body: str
    minutes: int
    at: datetime
    author: str | None
    sender: str


class TicketOut(Schema):
    id: int
    number: str = Field(description="T-00042: quote it in an e-mail subject to thread a reply.")
    customer: int
    contact: int | None
    kind: str
    priority: str
    category: int | None
    channel: str
    subject: str
    description: str
    status: str
    assignee: int | None
    assignee_username: str | None
    opened_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    first_contact_resolution: bool | None
    resolution: str
    minutes_spent: int
    version: int
    updated_at: datetime


class TicketDetailOut(TicketOut):
    entries: list[EntryOut]


class TicketPage(Schema):
    items: list[TicketOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on "
                                                "the last page.")
    count: int
    count_is_exact: bool = Field(description="Always true: the count is exact.")


class TicketListParams(QueryParams):
    status: Literal[("", "active", *TicketStatus.values)] = ""
    kind: Kind | Literal[""] = ""
    priority: Priority | Literal[""] = ""
    customer: Id | None = None
    assignee: Id | None = None
    category: Id | None = None
    cursor: Cursor = ""
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class TicketIn(InputSchema):
    customer: Id
    subject: Subject
    kind: Kind = TicketKind.ENQUIRY
    priority: Priority = TicketPriority.NORMAL
    channel: Channel = TicketChannel.API
    description: Text = ""
    category: Id | None = None
    contact: Id | None = None
    assignee: Id | None = Field(None, description="User id; yourself, or as a manager a "
                                                  "member of your team.")


class TicketPatch(InputSchema):
    version: Annotated[int, Field(ge=1, le=2**31 - 1)] = Field(
        ..., description="The version you read; a stale one is refused with 409.")
    subject: Subject | None = None
    kind: Kind | None = None
    priority: Priority | None = None
    channel: Channel | None = None
    description: Text | None = None
    category: Id | None = None
    contact: Id | None = None
    assignee: Id | None = None
    status: StatusType | None = None
    resolution: Text | None = None
    first_contact_resolution: bool | None = Field(
        None, description="When resolving: solved at the first contact (default: from the "
                          "history).")


class EntryIn(InputSchema):
    kind: Literal[tuple(EntryKind.values)] = EntryKind.NOTE
    body: Text = ""
    minutes: Minutes = 0
    waiting: bool = Field(False, description="With a reply: now wait for the customer.")


def _audit(request: HttpRequest) -> dict[str, Any]:
    return {"ip": client_ip(request), "via": "api"}


def ticket_out(t: Ticket) -> dict[str, Any]:
    return {"id": t.pk, "number": t.number, "customer": t.customer_id,
            "contact": t.contact_id, "kind": t.kind, "priority": t.priority,
            "category": t.category_id, "channel": t.channel, "subject": t.subject,
            "description": t.description, "status": t.status, "assignee": t.assignee_id,
            "assignee_username": username(t.assignee), "opened_at": t.opened_at,
            "first_response_at": t.first_response_at, "resolved_at": t.resolved_at,
            "closed_at": t.closed_at, "first_contact_resolution": t.first_contact_resolution,
            "resolution": t.resolution, "minutes_spent": t.minutes_spent,
            "version": t.version, "updated_at": t.updated_at}


def _detail(request: HttpRequest, t: Ticket) -> dict[str, Any]:
    out = ticket_out(t)
    out["entries"] = [{"id": e.pk, "kind": e.kind, "body": e.body, "minutes": e.minutes,
                       "at": e.at, "author": username(e.author), "sender": e.sender}
                      for e in selectors.entries(request.auth, t)]
    return out


def _category(pk: int | None) -> TicketCategory | None:
    if pk is None:
        return None
    found = TicketCategory.objects.filter(pk=pk).first()
    if found is None:
        raise ValidationError({"category": _("No such category.")})
    return found


def _contact(customer, pk: int | None) -> Contact | None:
    if pk is None:
        return None
    found = Contact.objects.filter(pk=pk, customer=customer).first()
    if found is None:
        raise ValidationError({"contact": _("No such contact of this customer.")})
    return found


def _user(pk: int | None) -> User | None:
    if pk is None:
        return None
    found = User.objects.filter(pk=pk, is_active=True).first()
    if found is None:
        raise ValidationError({"assignee": _("Unknown or inactive user.")})
    return found


@router.get("/tickets", response={200: TicketPage, **errors(422)})
def list_tickets(request: HttpRequest, params: Query[TicketListParams]):
    """Tickets you may see (those of customers you may see), newest first, a page at a
    time. Reading them is recorded in the audit log."""
    refuse_unknown_query(request, TicketListParams)
    filters = TicketFilters(status=params.status, kind=params.kind, priority=params.priority,
                            customer=params.customer, assignee=params.assignee,
                            category=params.category)
    qs = selectors.queue(request.auth, filters)
    page = keyset_page(qs, sort="opened_at", descending=True, cursor=params.cursor or None,
                       limit=params.limit)
    record_list(request.auth, "tickets", [t.customer_id for t in page.items],
                filters=filters, **_audit(request))
    return {"items": [ticket_out(t) for t in page.items], "next_cursor": page.next_cursor,
            "count": page.count, "count_is_exact": page.count_is_exact}


@router.post("/tickets", response={201: TicketDetailOut, **errors(400, 403, 404, 422)})
def open_ticket(request: HttpRequest, payload: TicketIn):
    """Open a ticket about a customer whose tickets you may work."""
    customer = get_customer(request.auth, payload.customer)
    t = services.open_ticket(
        request.auth, customer, subject=payload.subject, kind=payload.kind,
        priority=payload.priority, channel=payload.channel, description=payload.description,
        category=_category(payload.category), contact=_contact(customer, payload.contact),
        assignee=_user(payload.assignee), **_audit(request))
    return Status(201, _detail(request, selectors.ticket(request.auth, t.pk)))


@router.get("/tickets/{ticket_id}", response={200: TicketDetailOut, **errors(404, 422)})
def get_ticket(request: HttpRequest, ticket_id: IdPath):
    """One ticket with its conversation. Reading it is recorded in the audit log."""
    t = selectors.ticket(request.auth, ticket_id)
    record_customer_view(request.auth, t.customer, part="tickets", detail={"ticket": t.pk},
                         **_audit(request))
    return _detail(request, t)


@router.patch("/tickets/{ticket_id}",
              response={200: TicketDetailOut, **errors(400, 403, 404, 409, 422)})
def update_ticket(request: HttpRequest, ticket_id: IdPath, payload: TicketPatch):
    """Change the fields sent, the assignee and the status. `version` must be the one you
    read, or the answer is 409 naming who changed it."""
    t = selectors.ticket(request.auth, ticket_id)
    sent = payload.model_dump(exclude_unset=True, exclude={"version"})
    nullable = {"category", "contact", "assignee", "first_contact_resolution"}
    for key, value in sent.items():
        if value is None and key not in nullable:
            raise ValidationError({key: _("This field cannot be null.")})
    data: dict[str, Any] = {}
    for key in services.EDITABLE:
        if key in sent:
            value = sent[key]
            if key == "category":
                value = _category(value)
            elif key == "contact":
                value = _contact(t.customer, value)
            data[key] = value
    if "status" not in sent:
        for key in ("resolution", "first_contact_resolution"):
            if key in sent:
                raise ValidationError({key: _("Send it with the status it belongs to "
                                              "(resolved or closed).")})
    version: int | None = payload.version
    with transaction.atomic():
        if data:
            t = services.update_ticket(request.auth, t, data, expected_version=version,
                                       **_audit(request))
            version = None
        if "assignee" in sent:
            t = services.assign_ticket(request.auth, t, _user(sent["assignee"]),
                                       expected_version=version, **_audit(request))
            version = None
        if "status" in sent:
            t = services.change_status(
                request.auth, t, sent["status"], expected_version=version,
                resolution=sent.get("resolution") or "",
                first_contact=sent.get("first_contact_resolution"), **_audit(request))
        elif version is not None:
            services.update_ticket(request.auth, t, {}, expected_version=version)
    return _detail(request, selectors.ticket(request.auth, ticket_id))


@router.post("/tickets/{ticket_id}/entries",
             response={201: TicketDetailOut, **errors(400, 403, 404, 422)})
def add_entry(request: HttpRequest, ticket_id: IdPath, payload: EntryIn):
    """Add an internal note, a reply to the customer or the customer's message, with the
    minutes it took."""
    t = selectors.ticket(request.auth, ticket_id)
    services.add_entry(request.auth, t, kind=payload.kind, body=payload.body,
                       minutes=payload.minutes, waiting=payload.waiting, **_audit(request))
    return Status(201, _detail(request, selectors.ticket(request.auth, ticket_id)))
