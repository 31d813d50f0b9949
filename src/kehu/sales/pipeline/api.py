"""REST endpoints of the pipeline: opportunities (list, create, read, update with a version
check) and the stages. Scoped like customers: an opportunity is seen by who sees its
customer. Thin like views."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
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
    input_type,
    refuse_unknown_query,
    username,
)
from kehu.customers.selectors import get_customer
from kehu.customers.services import record_customer_view
from kehu.sales.models import Competitor
from kehu.sales.pipeline import selectors, services
from kehu.sales.pipeline.models import LostReason, Opportunity, Stage
from kehu.sales.pipeline.selectors import OpportunityFilters

router = Router(tags=["opportunities"])

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
Title = bounded_text(200, min_length=1)
Amount = input_type(Opportunity._meta.get_field("amount"))
# Year 0 is no year: the pattern leaves it out, so that the document and the check agree.
_YEAR = r"([1-9]\d{3}|0[1-9]\d\d|00[1-9]\d|000[1-9])"
Month = Annotated[str, Field(pattern=rf"^{_YEAR}-(0[1-9]|1[0-2])$",
                             description="Expected close month, YYYY-MM.")]
LostReasonType = Literal[("", *LostReason.values)]
IdList = Annotated[list[Id], Field(max_length=200)]


class StageOut(Schema):
    id: int
    name_en: str
    name_zh: str
    order: int
    probability: int = Field(description="Win probability, 0–100 %.")
    kind: str = Field(description="open, won or lost.")


class StagesOut(Schema):
    stages: list[StageOut]


class OpportunityIn(InputSchema):
    customer: Id
    title: Title
    stage: Id | None = Field(None, description="Stage id; default: the first open stage.")
    amount: Amount = Decimal("0")
    expected_close: date
    owner: Id | None = Field(None, description="User id; default: the customer's owner if "
                                               "you may make them responsible, else you.")
    products: IdList = Field(default_factory=list)
    competitors: IdList = Field(default_factory=list)
    description: Text = ""
    lost_reason: LostReasonType = Field("", description="Required when the stage is lost.")
    lost_note: bounded_text(300) = ""


class OpportunityPatch(InputSchema):
    version: Annotated[int, Field(ge=1, le=2**31 - 1)] = Field(
        ..., description="The version you read; a stale one is refused with 409.")
    title: Title | None = None
    stage: Id | None = None
    amount: Amount | None = None
    expected_close: date | None = None
    owner: Id | None = None
    products: IdList | None = None
    competitors: IdList | None = None
    description: Text | None = None
    lost_reason: LostReasonType | None = None
    lost_note: bounded_text(300) | None = None


class OpportunityOut(Schema):
    id: int
    customer: int
    title: str
    stage: int
    stage_kind: str
    probability: int
    amount: Decimal
    weighted_amount: Decimal = Field(description="amount × the stage's win probability.")
    expected_close: date
    owner: int
    owner_username: str | None
    products: list[int]
    competitors: list[int]
    description: str
    lost_reason: str
    lost_note: str
    closed_on: date | None
    version: int
    created_at: datetime
    updated_at: datetime


class OpportunityPage(Schema):
    items: list[OpportunityOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on "
                                                "the last page.")
    count: int
    count_is_exact: bool = Field(description="Always true: the count is exact.")


class OpportunityListParams(QueryParams):
    owner: Id | None = None
    team: Id | None = None
    stage: Id | None = None
    customer: Id | None = None
    close_month: Month | Literal[""] = ""
    status: Literal["", "open", "won", "lost"] = ""
    cursor: Cursor = ""
    limit: Annotated[int, Field(ge=1, le=200)] = 50


def _audit(request: HttpRequest) -> dict[str, Any]:
    return {"ip": client_ip(request), "via": "api"}


def opportunity_out(o: Opportunity) -> dict[str, Any]:
    return {"id": o.pk, "customer": o.customer_id, "title": o.title, "stage": o.stage_id,
            "stage_kind": o.stage.kind, "probability": o.stage.probability,
            "amount": o.amount, "weighted_amount": o.weighted_amount,
            "expected_close": o.expected_close, "owner": o.owner_id,
            "owner_username": username(o.owner),
            "products": sorted(p.pk for p in o.products.all()),
            "competitors": sorted(c.pk for c in o.competitors.all()),
            "description": o.description, "lost_reason": o.lost_reason,
            "lost_note": o.lost_note, "closed_on": o.closed_on, "version": o.version,
            "created_at": o.created_at, "updated_at": o.updated_at}


def _stage(pk: int | None) -> Stage:
    stage = Stage.objects.filter(pk=pk).first() if pk is not None else \
        Stage.objects.filter(kind="open").order_by("order", "id").first()
    if stage is None:
        raise ValidationError({"stage": _("No such stage.")})
    return stage


def _owner(pk: int) -> User:
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None:
        raise ValidationError({"owner": _("Unknown or inactive user.")})
    return user


def _many(model, ids: list[int], field: str) -> list:
    found = list(model.objects.filter(pk__in=ids))
    if len(found) != len(set(ids)):
        raise ValidationError({field: _("Unknown id in the list.")})
    return found


def _read(request: HttpRequest, pk: int) -> Opportunity:
    return selectors.opportunities(request.auth).prefetch_related(
        "products", "competitors").get(pk=pk)


@router.get("/opportunities", response={200: OpportunityPage, **errors(422)})
def list_opportunities(request: HttpRequest, params: Query[OpportunityListParams]):
    """Opportunities you may see (those of customers you may see), soonest expected close
    first, a page at a time. Reading them is recorded in the audit log."""
    refuse_unknown_query(request, OpportunityListParams)
    filters = OpportunityFilters(owner=params.owner, team=params.team, stage=params.stage,
                                 close_month=params.close_month, status=params.status,
                                 customer=params.customer)
    qs = selectors.filter_opportunities(
        request.auth, selectors.opportunities(request.auth), filters).prefetch_related(
        "products", "competitors")
    page = keyset_page(qs, sort="expected_close", cursor=params.cursor or None,
                       limit=params.limit)
    record_list(request.auth, "opportunities", [o.customer_id for o in page.items],
                filters=filters, **_audit(request))
    return {"items": [opportunity_out(o) for o in page.items],
            "next_cursor": page.next_cursor, "count": page.count,
            "count_is_exact": page.count_is_exact}


@router.post("/opportunities", response={201: OpportunityOut, **errors(400, 403, 404, 422)})
def create_opportunity(request: HttpRequest, payload: OpportunityIn):
    """A new opportunity for a customer you may change."""
    from kehu.customers.models import Product

    customer = get_customer(request.auth, payload.customer)
    opp = services.create_opportunity(
        request.auth, customer, title=payload.title, stage=_stage(payload.stage),
        amount=payload.amount, expected_close=payload.expected_close,
        owner=_owner(payload.owner) if payload.owner is not None else None,
        products=_many(Product, payload.products, "products"),
        competitors=_many(Competitor, payload.competitors, "competitors"),
        description=payload.description, lost_reason=payload.lost_reason,
        lost_note=payload.lost_note, **_audit(request))
    return Status(201, opportunity_out(_read(request, opp.pk)))


@router.get("/opportunities/{opportunity_id}",
            response={200: OpportunityOut, **errors(404, 422)})
def get_opportunity(request: HttpRequest, opportunity_id: IdPath):
    """One opportunity. Reading it is recorded in the audit log."""
    opp = _read(request, opportunity_id)
    record_customer_view(request.auth, opp.customer, part="opportunities",
                         detail={"opportunity": opp.pk}, **_audit(request))
    return opportunity_out(opp)


@router.patch("/opportunities/{opportunity_id}",
              response={200: OpportunityOut, **errors(400, 403, 404, 409, 422)})
def update_opportunity(request: HttpRequest, opportunity_id: IdPath,
                       payload: OpportunityPatch):
    """Change the fields sent. `version` must be the one you read, or the answer is 409
    naming who changed it. Moving to the lost stage needs `lost_reason`."""
    from kehu.customers.models import Product

    opp = _read(request, opportunity_id)
    sent = payload.model_dump(exclude_unset=True, exclude={"version"})
    data: dict[str, Any] = {}
    for key, value in sent.items():
        if value is None:
            raise ValidationError({key: _("This field cannot be null.")})
        if key == "stage":
            data[key] = _stage(value)
        elif key == "owner":
            data[key] = _owner(value)
        elif key == "products":
            data[key] = _many(Product, value, "products")
        elif key == "competitors":
            data[key] = _many(Competitor, value, "competitors")
        else:
            data[key] = value
    services.update_opportunity(request.auth, opp, data, expected_version=payload.version,
                                **_audit(request))
    return opportunity_out(_read(request, opp.pk))


@router.get("/opportunity-stages", response={200: StagesOut})
def list_stages(request: HttpRequest):
    """The pipeline's stages in order, each with its win probability."""
    return {"stages": [{"id": s.pk, "name_en": s.name_en, "name_zh": s.name_zh,
                        "order": s.order, "probability": s.probability, "kind": s.kind}
                       for s in selectors.stages(request.auth)]}
