"""REST endpoints of consent: list (filtered, a page at a time), create (record an answer),
read (with its history) and update (a new answer, with the version read). Scoped like
customers: a consent of a customer out of reach answers 404 like a missing one. Every read
is recorded in the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from kehu.audit.services import record_list
from kehu.core.requests import client_ip
from kehu.core.schemas import (
    MAX_ID,
    Cursor,
    Id,
    InputSchema,
    QueryParams,
    bounded_text,
    errors,
    refuse_unknown_query,
)
from kehu.customers.models import Contact, Customer
from kehu.customers.selectors import get_customer
from kehu.customers.services import record_customer_view
from kehu.marketing.consent import selectors, services
from kehu.marketing.consent.models import (
    Channel,
    Consent,
    ConsentSource,
    ConsentStatus,
)

router = Router(tags=["consents"])

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
Version = Annotated[int, Field(ge=1, le=2**31 - 1)]
ChannelType = Literal[tuple(Channel.values)]
StatusType = Literal[tuple(ConsentStatus.values)]
# The unsubscribe link is the person's own act; nobody records it by hand.
SourceType = Literal[tuple(v for v in ConsentSource.values if v != ConsentSource.UNSUBSCRIBE)]

CHANNEL_DOC = ("email, sms, phone, post, wechat (channels: nothing is sent without consent "
               "given), or automated / personalisation (uses: allowed until refused).")


class ConsentIn(InputSchema):
    customer: Id
    contact: Id | None = Field(None, description="A contact person of the customer; empty: "
                                                 "the customer itself.")
    channel: ChannelType = Field(description=CHANNEL_DOC)
    status: StatusType = Field(description="given or refused.")
    source: SourceType = Field(description="How the answer was given.")
    at: datetime | None = Field(None, description="When it was given; default now. Not in "
                                                  "the future.")
    note: bounded_text(300) = ""


class ConsentPatch(InputSchema):
    status: StatusType
    source: SourceType
    at: datetime | None = None
    note: bounded_text(300) = ""
    version: Version = Field(..., description="The version you read; a stale one is refused "
                                              "with 409.")


class ConsentChangeOut(Schema):
    status: str
    source: str
    at: datetime
    note: str
    recorded_at: datetime
    recorded_by: str | None


class ConsentOut(Schema):
    id: int
    customer: int
    contact: int | None
    channel: str
    status: str
    source: str
    at: datetime
    note: str
    recorded_by: str | None
    allows: bool = Field(description="Whether marketing may use this channel or use now.")
    version: int
    created_at: datetime
    updated_at: datetime


class ConsentDetailOut(ConsentOut):
    history: list[ConsentChangeOut]


class ConsentPage(Schema):
    items: list[ConsentOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on "
                                                "the last page.")
    count: int = Field(description="Matching consents, counted exactly.")
    count_is_exact: bool = Field(description="Always true: the count is exact.")


class ConsentListParams(QueryParams):
    customer: Id | None = None
    contact: Id | None = None
    channel: Literal[("", *Channel.values)] = ""
    status: Literal[("", *ConsentStatus.values)] = ""
    source: Literal[("", *ConsentSource.values)] = ""
    cursor: Cursor = ""
    limit: Annotated[int, Field(ge=1, le=200)] = 50


def _audit(request: HttpRequest) -> dict[str, Any]:
    return {"ip": client_ip(request), "via": "api"}


def consent_out(c: Consent) -> dict[str, Any]:
    allows = (c.status != ConsentStatus.REFUSED) if c.is_use else (
        c.status == ConsentStatus.GIVEN)
    return {"id": c.pk, "customer": c.customer_id, "contact": c.contact_id,
            "channel": c.channel, "status": c.status, "source": c.source, "at": c.at,
            "note": c.note, "recorded_by": c.recorded_by.username if c.recorded_by else None,
            "allows": allows, "version": c.version, "created_at": c.created_at,
            "updated_at": c.updated_at}


def _detail(request: HttpRequest, c: Consent) -> dict[str, Any]:
    return {**consent_out(c), "history": [
        {"status": h.status, "source": h.source, "at": h.at, "note": h.note,
         "recorded_at": h.recorded_at,
         "recorded_by": h.recorded_by.username if h.recorded_by else None}
        for h in selectors.history(request.auth, c)]}


def _contact(customer: Customer, pk: int | None) -> Contact | None:
    if pk is None:
        return None
    contact = Contact.objects.filter(pk=pk, customer=customer).first()
    if contact is None:
        raise ValidationError({"contact": _("This contact is not one of the customer's.")})
    return contact


@router.get("/consents", response={200: ConsentPage, **errors(422)})
def list_consents(request: HttpRequest, params: Query[ConsentListParams]):
    """Consents of the customers you may see, most recently changed first, a page at a
    time: follow `next_cursor`. Reading them is recorded in the audit log."""
    refuse_unknown_query(request, ConsentListParams)
    filters = selectors.ConsentFilters(**params.model_dump(exclude={"cursor", "limit"}))
    page = selectors.consent_page(request.auth, filters, cursor=params.cursor or None,
                                  limit=params.limit)
    record_list(request.auth, "consents", [c.customer_id for c in page.items],
                filters=filters, **_audit(request))
    return {"items": [consent_out(c) for c in page.items], "next_cursor": page.next_cursor,
            "count": page.count, "count_is_exact": page.count_is_exact}


@router.post("/consents", response={201: ConsentDetailOut, **errors(400, 403, 404, 422)})
def create_consent(request: HttpRequest, payload: ConsentIn):
    """Record a customer's (or contact person's) answer for a channel or use. When an
    answer is already on file it is replaced and kept in the history."""
    customer = get_customer(request.auth, payload.customer)
    consent = services.set_consent(
        request.auth, customer, channel=payload.channel, status=payload.status,
        source=payload.source, contact=_contact(customer, payload.contact), at=payload.at,
        note=payload.note, **_audit(request))
    return Status(201, _detail(request, consent))


@router.get("/consents/{consent_id}", response={200: ConsentDetailOut, **errors(404, 422)})
def get_consent(request: HttpRequest, consent_id: IdPath):
    """One consent with its history, newest first. Reading it is recorded in the audit
    log."""
    consent = selectors.get_consent(request.auth, consent_id)
    record_customer_view(request.auth, consent.customer, part="consent",
                         detail={"consent": consent.pk}, **_audit(request))
    return _detail(request, consent)


@router.patch("/consents/{consent_id}", response={200: ConsentDetailOut,
                                                  **errors(400, 403, 404, 409, 422)})
def update_consent(request: HttpRequest, consent_id: IdPath, payload: ConsentPatch):
    """A new answer for the same person and channel; `version` must be the one you read,
    or the answer is 409. The previous answer stays in the history."""
    consent = selectors.get_consent(request.auth, consent_id)
    customer = get_customer(request.auth, consent.customer_id)
    consent = services.set_consent(
        request.auth, customer, channel=consent.channel, status=payload.status,
        source=payload.source, contact=consent.contact, at=payload.at, note=payload.note,
        expected_version=payload.version, **_audit(request))
    return _detail(request, consent)
