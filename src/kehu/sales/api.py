"""REST endpoints for the activity timeline of a customer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from kehu.core.pagination import keyset_page
from kehu.core.requests import client_ip
from kehu.core.schemas import (
    MAX_ID,
    AwareDateTime,
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
from kehu.customers.selectors import contacts, get_customer
from kehu.customers.services import record_customer_view
from kehu.sales import selectors, services
from kehu.sales.models import Activity, ActivityKind

router = Router(tags=["activities"])

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
Subject = bounded_text(200, min_length=1)


class ActivityIn(InputSchema):
    kind: Literal[tuple(ActivityKind.values)] = ActivityKind.NOTE
    subject: Subject
    body: Text = ""
    occurred_at: AwareDateTime | None = Field(
        None, description="When it happened; default now. Without an offset, the firm's time "
                          "zone.")
    contact: Id | None = Field(None, description="Id of a contact of the same customer.")


class ActivityOut(Schema):
    id: int
    customer: int
    contact: int | None
    kind: str
    subject: str
    body: str
    occurred_at: datetime
    author: str | None
    created_at: datetime


class ActivityPage(Schema):
    items: list[ActivityOut]
    next_cursor: str | None
    count: int
    count_is_exact: bool


class ActivityListParams(QueryParams):
    cursor: Cursor = ""
    limit: Annotated[int, Field(ge=1, le=200)] = 50


def activity_out(activity: Activity) -> dict[str, Any]:
    return {"id": activity.pk, "customer": activity.customer_id,
            "contact": activity.contact_id, "kind": activity.kind,
            "subject": activity.subject, "body": activity.body,
            "occurred_at": activity.occurred_at, "author": username(activity.author),
            "created_at": activity.created_at}


def _audit(request: HttpRequest) -> dict[str, Any]:
    return {"ip": client_ip(request), "via": "api"}


@router.get("/customers/{id}/activities", response={200: ActivityPage, **errors(404, 422)})
def list_activities(request: HttpRequest, id: IdPath, params: Query[ActivityListParams]):
    """The customer's timeline, newest first. Reading it is recorded in the audit log."""
    refuse_unknown_query(request, ActivityListParams)
    customer = get_customer(request.auth, id)
    record_customer_view(request.auth, customer, part="activities", **_audit(request))
    page = keyset_page(selectors.activities(request.auth).filter(customer=customer),
                       sort="occurred_at", descending=True, cursor=params.cursor or None,
                       limit=params.limit)
    return {"items": [activity_out(a) for a in page.items], "next_cursor": page.next_cursor,
            "count": page.count, "count_is_exact": page.count_is_exact}


@router.post("/customers/{id}/activities",
             response={201: ActivityOut, **errors(400, 403, 404, 422)})
def log_activity(request: HttpRequest, id: IdPath, payload: ActivityIn):
    """Add a note, call, visit, meeting, e-mail or task to the customer's timeline."""
    customer = get_customer(request.auth, id)
    contact = None
    if payload.contact is not None:
        contact = contacts(request.auth).filter(pk=payload.contact, customer=customer).first()
        if contact is None:
            raise ValidationError({"contact": _("No such contact for this customer.")})
    activity = services.log_activity(
        request.auth, customer, kind=payload.kind, subject=payload.subject, body=payload.body,
        occurred_at=payload.occurred_at, contact=contact, **_audit(request))
    return Status(201, activity_out(activity))


@router.get("/activities/{activity_id}", response={200: ActivityOut, **errors(404, 422)})
def get_activity(request: HttpRequest, activity_id: IdPath):
    """One activity. Reading it is recorded in the audit log."""
    activity = selectors.activities(request.auth).select_related("customer").get(
        pk=activity_id)
    record_customer_view(request.auth, activity.customer, part="activities",
                         detail={"activity": activity.pk}, **_audit(request))
    return activity_out(activity)


@router.delete("/activities/{activity_id}", response={204: None, **errors(403, 404, 422)})
def delete_activity(request: HttpRequest, activity_id: IdPath):
    """Its author, or anyone who may change the customer, may delete an activity."""
    activity = selectors.activities(request.auth).get(pk=activity_id)
    services.delete_activity(request.auth, activity, **_audit(request))
    return Status(204, None)
