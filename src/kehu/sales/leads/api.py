"""REST endpoints for leads: list (filtered, a page at a time), create, read, change (with
the version read). Thin like views: parse, call a selector or service, shape. Every read is
recorded in the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import prefetch_related_objects
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from kehu.accounts.models import User
from kehu.audit.services import record, record_list
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
from kehu.customers.models import CompanySize, Customer
from kehu.customers.selectors import customers as visible_customers
from kehu.sales.leads import man, selectors, services
from kehu.sales.leads.models import CHECKLIST, Lead, LeadSource, LeadStatus

router = Router(tags=["leads"])

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
Version = Annotated[int, Field(ge=1, le=2**31 - 1)]
Note = bounded_text(300)
SourceType = Literal[tuple(LeadSource.values)]
SizeType = Literal[("", *CompanySize.values)]
ActionType = Literal[tuple(man.QUEUE_ORDER)]
Judged = bool | None

JUDGED_DOC = "true (has it), false (has not) or null (not judged yet)."


class LeadContactIn(InputSchema):
    name: bounded_text(100, min_length=1)
    title: bounded_text(100) = ""
    phone: bounded_text(40) = ""
    email: bounded_text(254) = ""


class LeadContactOut(Schema):
    id: int
    name: str
    title: str
    phone: str
    email: str


class LeadFieldsIn(InputSchema):
    industry: bounded_text(100) = ""
    province: bounded_text(50) = Field("", description="Region (province).")
    city: bounded_text(50) = ""
    size: SizeType = ""
    website: bounded_text(200) = ""
    contact_name: bounded_text(100) = Field("", description="The person we deal with.")
    contact_title: bounded_text(100) = ""
    phone: bounded_text(40) = ""
    email: bounded_text(254) = ""
    source_detail: bounded_text(200) = ""
    notes: bounded_text(5000) = ""
    money_note: Note = Field("", description="Why money was judged so.")
    authority_note: Note = ""
    need_note: Note = ""
    low_price_sensitivity: Judged = None
    pays_on_time: Judged = None
    good_reputation: Judged = None
    low_cost_to_serve: Judged = None
    fits_our_size: Judged = Field(None, description="门当户对: the lead matches our size.")
    referrer: Id | None = Field(None, description="Id of the customer who referred the lead "
                                                  "(source referral).")
    owner: Id | None = Field(None, description="User id of the owner; default: you.")


class LeadIn(LeadFieldsIn):
    name: bounded_text(200, min_length=1)
    source: SourceType
    money: Judged = Field(..., description="Money (purchasing power): " + JUDGED_DOC)
    authority: Judged = Field(..., description="Authority (decision power): " + JUDGED_DOC)
    need: Judged = Field(..., description="Need: " + JUDGED_DOC)
    contacts: list[LeadContactIn] = Field(default_factory=list, max_length=50,
                                      description="More people at the organisation.")


class LeadPatch(LeadFieldsIn):
    name: bounded_text(200, min_length=1) = None
    source: SourceType = None
    money: Judged = None
    authority: Judged = None
    need: Judged = None
    version: Version = Field(..., description="The version you read; a stale one is refused "
                                              "with 409.")


class ScorePartOut(Schema):
    group: str = Field(description="man, checklist or look_alike.")
    label: str
    points: int
    of: int
    why: str


class LeadOut(Schema):
    id: int
    name: str
    industry: str
    province: str
    city: str
    size: str
    website: str
    contact_name: str
    contact_title: str
    phone: str
    email: str
    source: str
    source_detail: str
    referrer: int | None
    notes: str
    money: bool | None
    authority: bool | None
    need: bool | None
    money_note: str
    authority_note: str
    need_note: str
    man: str = Field(description='The combination, upper case = yes ("M+a+N"); "?" for a '
                                 'judgement not made yet.')
    action: str = Field(description="The prescribed action's stable code: pursue, "
                                    "create_need, find_authority, check_credit, nurture "
                                    "(the three long-term-nurture combinations), stop, or "
                                    "judge while a judgement is missing.")
    action_label: str
    low_price_sensitivity: bool | None
    pays_on_time: bool | None
    good_reputation: bool | None
    low_cost_to_serve: bool | None
    fits_our_size: bool | None
    score: int = Field(description="Lead score 0–100.")
    status: str
    qualified_at: datetime | None
    converted_at: datetime | None
    customer: int | None = Field(description="The customer it became, once converted.")
    owner: int
    owner_username: str
    team: int | None
    contacts: list[LeadContactOut]
    version: int
    created_at: datetime
    updated_at: datetime


class LeadDetailOut(LeadOut):
    score_parts: list[ScorePartOut]


class LeadPage(Schema):
    items: list[LeadOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on "
                                                "the last page.")
    count: int = Field(description="Matching leads, counted exactly.")
    count_is_exact: bool = Field(description="Always true: the count is exact.")


class LeadListParams(QueryParams):
    q: bounded_text(100) = Field("", description="Part of the lead's or the person's name.")
    action: Literal[("", *man.QUEUE_ORDER)] = Field("", description="The action's queue.")
    status: Literal[("", *LeadStatus.values)] = ""
    source: Literal[("", *LeadSource.values)] = ""
    owner: Id | None = None
    sort: Literal[selectors.SORTS] = "created_at"
    desc: bool = True
    cursor: Cursor = ""
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class ConvertIn(InputSchema):
    version: Version | None = Field(None, description="The version you read, to refuse the "
                                                      "conversion if it is stale.")


def _audit(request: HttpRequest) -> dict[str, Any]:
    return {"ip": client_ip(request), "via": "api"}


def lead_out(lead: Lead, *, parts: bool = False) -> dict[str, Any]:
    data = {name: getattr(lead, name) for name in (
        "name", "industry", "province", "city", "size", "website", "contact_name",
        "contact_title", "phone", "email", "source", "source_detail", "notes", "money",
        "authority", "need", "money_note", "authority_note", "need_note", "action", "score",
        "status", "qualified_at", "converted_at", "version", "created_at", "updated_at",
        *(name for name, _label in CHECKLIST))}
    data.update(id=lead.pk, referrer=lead.referrer_id, man=lead.man,
                action_label=str(man.ACTIONS[lead.action].label), customer=lead.customer_id,
                owner=lead.owner_id, owner_username=lead.owner.username, team=lead.team_id,
                contacts=[{"id": c.pk, "name": c.name, "title": c.title, "phone": c.phone,
                           "email": c.email} for c in lead.contacts.all()])
    if parts:
        from kehu.sales.leads.scoring import score_lead

        data["score_parts"] = [vars(p) for p in score_lead(lead).parts]
    return data


def _user(pk: int) -> User:
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None:
        raise ValidationError({"owner": _("Unknown or inactive user.")})
    return user


def _referrer(request: HttpRequest, pk: int | None) -> Customer | None:
    if pk is None:
        return None
    customer = visible_customers(request.auth).filter(pk=pk).first()
    if customer is None:
        raise ValidationError({"referrer": _("Choose a referring customer you may see.")})
    return customer


def _split(payload: dict[str, Any]) -> tuple[dict, dict]:
    judgements = {}
    for factor in ("money", "authority", "need"):
        if factor in payload or f"{factor}_note" in payload:
            judgements[factor] = (payload.pop(factor, None), payload.pop(f"{factor}_note", ""))
    return payload, judgements


@router.get("/leads", response={200: LeadPage, **errors(422)})
def list_leads(request: HttpRequest, params: Query[LeadListParams]):
    """Leads you may see (a salesperson their own, a manager the team's, an admin all), a
    page at a time: follow `next_cursor`. Reading them is recorded in the audit log."""
    refuse_unknown_query(request, LeadListParams)
    filters = selectors.LeadFilters(**params.model_dump(
        exclude={"sort", "desc", "cursor", "limit"}))
    page = selectors.lead_page(request.auth, filters, sort=params.sort,
                               descending=params.desc, cursor=params.cursor or None,
                               limit=params.limit)
    prefetch_related_objects(page.items, "contacts")  # each lead lists its contact persons
    record_list(request.auth, "leads", sorted(
        {x.referrer_id for x in page.items if x.referrer_id}
        | {x.customer_id for x in page.items if x.customer_id}), filters=filters,
        detail={"leads": [x.pk for x in page.items]}, **_audit(request))
    return {"items": [lead_out(x) for x in page.items], "next_cursor": page.next_cursor,
            "count": page.count, "count_is_exact": page.count_is_exact}


@router.post("/leads", response={201: LeadDetailOut, **errors(400, 403, 422)})
def create_lead(request: HttpRequest, payload: LeadIn):
    """A new lead in your scope (or the owner's you name). The answer names its MAN
    combination (`man`) and the prescribed action (`action`); the action becomes a task
    for the owner."""
    data = payload.model_dump(exclude={"owner", "referrer", "contacts"})
    data, judgements = _split(data)
    owner = _user(payload.owner) if payload.owner is not None else None
    lead = services.create_lead(request.auth, data, owner=owner,
                                referrer=_referrer(request, payload.referrer),
                                judgements=judgements,
                                contacts=[c.model_dump() for c in payload.contacts],
                                **_audit(request))
    return Status(201, lead_out(lead, parts=True))


@router.get("/leads/{lead_id}", response={200: LeadDetailOut, **errors(404, 422)})
def get_lead(request: HttpRequest, lead_id: IdPath):
    """One lead with its score's parts. Reading it is recorded in the audit log."""
    lead = selectors.get_lead(request.auth, lead_id)
    record(request.auth, "lead.view", obj=lead, customer_id=lead.customer_id,
           detail={"lead": lead.pk, "customers": sorted(
               {i for i in (lead.referrer_id, lead.customer_id) if i})}, **_audit(request))
    return lead_out(lead, parts=True)


@router.patch("/leads/{lead_id}", response={200: LeadDetailOut, **errors(400, 403, 404, 409,
                                                                          422)})
def update_lead(request: HttpRequest, lead_id: IdPath, payload: LeadPatch):
    """Change the fields sent and judge again; `version` must be the one you read, or the
    answer is 409. A new judgement closes the old action's task and opens the new one."""
    lead = selectors.get_lead(request.auth, lead_id)
    data = payload.model_dump(exclude_unset=True, exclude={"version", "owner", "referrer"})
    data, judgements = _split(data)
    for key in ("name", "source"):
        if key in data and data[key] is None:
            raise ValidationError({key: _("This field cannot be empty.")})
    owner = _user(payload.owner) if payload.owner is not None else None
    referrer: Customer | None | bool = False
    if "referrer" in payload.model_fields_set:
        referrer = _referrer(request, payload.referrer)
    lead = services.update_lead(request.auth, lead, data, judgements=judgements, owner=owner,
                                referrer=referrer, expected_version=payload.version,
                                **_audit(request))
    return lead_out(lead, parts=True)


@router.post("/leads/{lead_id}/convert", response={201: LeadDetailOut,
                                                   **errors(400, 403, 404, 409, 422)})
def convert_lead(request: HttpRequest, lead_id: IdPath, payload: ConvertIn):
    """Convert a qualified lead into a customer (state target) with every contact person;
    the lead keeps its history and names the customer (`customer`)."""
    lead = selectors.get_lead(request.auth, lead_id)
    services.convert_lead(request.auth, lead, expected_version=payload.version,
                          **_audit(request))
    return Status(201, lead_out(selectors.get_lead(request.auth, lead_id), parts=True))
