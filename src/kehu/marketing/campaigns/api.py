"""REST endpoints for campaigns and target lists: list (a page at a time), create, read,
change (with the version read). A target list answers its exact count of the customers
you may see; a launched campaign its results against the hold-out group. Thin like the
views: parse, call a selector or service, shape. Reads are recorded in the audit log."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from kehu.accounts.models import User
from kehu.audit.services import record
from kehu.core.requests import client_ip
from kehu.core.schemas import (
    MAX_ID,
    Cursor,
    Id,
    InputSchema,
    QueryParams,
    bounded_text,
    decimal_number,
    errors,
    refuse_unknown_query,
)
from kehu.marketing.campaigns import criteria as criteria_module
from kehu.marketing.campaigns import selectors, services, uplift
from kehu.marketing.campaigns.models import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    Channel,
    ListKind,
    TargetList,
)

router = Router(tags=["campaigns"])

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
Version = Annotated[int, Field(ge=1, le=2**31 - 1)]
Amount = decimal_number(14, 2)
Bound = decimal_number(16, 2)
Share = Annotated[float, Field(ge=0, le=1)]
Index = Annotated[float, Field(ge=0, le=100)]
Score = Annotated[int, Field(ge=1, le=5)]


def _choice(choices) -> Any:
    return Literal[tuple(v for v, _label in choices)]


class CriteriaIn(InputSchema):
    """The filter of a target list; every field is optional, all given must hold."""

    segment: _choice(criteria_module.BY_KEY["segment"].choices) | None = None
    quadrant: _choice(criteria_module.BY_KEY["quadrant"].choices) | None = None
    state: _choice(criteria_module.BY_KEY["state"].choices) | None = Field(
        None, description="Lifecycle state.")
    nature: _choice(criteria_module.BY_KEY["nature"].choices) | None = None
    loyalty_min: Index | None = None
    loyalty_max: Index | None = None
    p_alive_min: Share | None = None
    p_alive_max: Share | None = None
    clv_min: Bound | None = None
    clv_max: Bound | None = None
    rfm_r_min: Score | None = None
    rfm_f_min: Score | None = None
    rfm_m_min: Score | None = None
    province: bounded_text(criteria_module.TEXT_MAX) | None = None
    city: bounded_text(criteria_module.TEXT_MAX) | None = None
    industry: bounded_text(criteria_module.TEXT_MAX) | None = Field(
        None, description="Part of the industry's name.")
    at_risk: bool | None = None


def _criteria(payload: CriteriaIn) -> dict:
    data = payload.model_dump(exclude_none=True)
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in data.items()}


class TargetListIn(InputSchema):
    name: bounded_text(200, min_length=1)
    description: bounded_text(5000) = ""
    kind: Literal[tuple(ListKind.values)] = Field(
        ListKind.DYNAMIC, description="dynamic: the filter is kept and applied when the list "
                                      "is used; frozen: the customers matching now are kept.")
    criteria: CriteriaIn = Field(default_factory=CriteriaIn)
    owner: Id | None = Field(None, description="User id of the owner; default: you.")


class TargetListPatch(InputSchema):
    name: bounded_text(200, min_length=1) = None
    description: bounded_text(5000) = None
    criteria: CriteriaIn | None = Field(None, description="A new filter (dynamic lists only).")
    version: Version = Field(..., description="The version you read; a stale one is refused "
                                              "with 409.")


class TargetListOut(Schema):
    id: int
    name: str
    description: str
    kind: str
    criteria: dict[str, Any]
    frozen_at: dt.datetime | None
    count: int = Field(description="Customers on the list that you may see, counted exactly.")
    owner: int
    team: int | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class TargetListPage(Schema):
    items: list[TargetListOut]
    next_cursor: str | None
    count: int
    count_is_exact: bool


class TargetListParams(QueryParams):
    q: bounded_text(100) = Field("", description="Part of the name.")
    kind: Literal[("", *ListKind.values)] = ""
    owner: Id | None = None
    cursor: Cursor = ""
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class CampaignFieldsIn(InputSchema):
    goal: bounded_text(5000) = ""
    budget: Amount = Decimal(0)
    cost: Amount | None = Field(None, description="What it cost so far; the budget is used "
                                                  "until it is given.")
    ends_on: dt.date | None = None
    channels: list[Literal[tuple(Channel.values)]] = Field(default_factory=list,
                                                            max_length=len(Channel.values))
    holdout_percent: Annotated[int, Field(ge=0, le=90)] = 10
    attribution_days: Annotated[int, Field(ge=1, le=365)] = 30
    subject: bounded_text(200) = ""
    message: bounded_text(20000) = Field("", description="The e-mail's text ({{ name }} is "
                                                        "the customer's name), or what the "
                                                        "owners are asked to do.")
    target_list: Id | None = None


class CampaignIn(CampaignFieldsIn):
    name: bounded_text(200, min_length=1)
    kind: Literal[tuple(CampaignKind.values)] = Field(
        description="The promotion-mix tool: advertising, personal_selling, sales_promotion "
                    "or public_relations.")
    starts_on: dt.date
    owner: Id | None = Field(None, description="User id of the owner; default: you.")


class CampaignPatch(InputSchema):
    name: bounded_text(200, min_length=1) = None
    kind: Literal[tuple(CampaignKind.values)] = None
    goal: bounded_text(5000) = None
    budget: Amount = None
    cost: Amount | None = None
    starts_on: dt.date = None
    ends_on: dt.date | None = None
    channels: list[Literal[tuple(Channel.values)]] = Field(None, max_length=len(Channel.values))
    holdout_percent: Annotated[int, Field(ge=0, le=90)] = None
    attribution_days: Annotated[int, Field(ge=1, le=365)] = None
    subject: bounded_text(200) = None
    message: bounded_text(20000) = None
    target_list: Id | None = None
    version: Version = Field(..., description="The version you read; a stale one is refused "
                                              "with 409.")


class IntervalOut(Schema):
    estimate: float
    low: float
    high: float
    level: float
    significant: bool = Field(description="The interval excludes zero.")


class GroupOut(Schema):
    customers: int
    responses: int
    conversions: int
    revenue: Decimal
    coupons: int = Field(0, description="Coupons (one-to-one offers) redeemed in the window.")
    discount: Decimal = Field(Decimal(0), description="What those coupons took off.")


class ResultsOut(Schema):
    window_start: dt.date
    window_end: dt.date
    window_open: bool
    contacted: GroupOut
    holdout: GroupOut
    cost: Decimal
    cost_per_response: Decimal | None
    roi: float | None = Field(description="(Revenue of the contacted − cost) / cost.")
    incremental_revenue: Decimal | None
    incremental_roi: float | None
    conversion_uplift: IntervalOut | None = Field(
        description="Conversion rate of the contacted minus the hold-out's, 95% interval.")
    response_uplift: IntervalOut | None
    revenue_uplift: IntervalOut | None = Field(
        description="Revenue per customer, contacted minus hold-out, Welch 95% interval.")
    sends: dict[str, int] = Field(
        default_factory=dict, description="The campaign's e-mails by what became of them "
        "when sent (sent, no_consent, refused, objected, no_address, failed).")


class CampaignOut(Schema):
    id: int
    name: str
    kind: str
    goal: str
    budget: Decimal
    cost: Decimal | None
    starts_on: dt.date
    ends_on: dt.date | None
    channels: list[str]
    status: str
    target_list: int | None
    holdout_percent: int
    attribution_days: int
    subject: str
    message: str
    launched_at: dt.datetime | None
    owner: int
    team: int | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class CampaignDetailOut(CampaignOut):
    results: ResultsOut | None = Field(description="Null until the campaign is launched.")


class CampaignPage(Schema):
    items: list[CampaignOut]
    next_cursor: str | None
    count: int
    count_is_exact: bool


class CampaignParams(QueryParams):
    q: bounded_text(100) = Field("", description="Part of the name.")
    kind: Literal[("", *CampaignKind.values)] = ""
    status: Literal[("", *CampaignStatus.values)] = ""
    owner: Id | None = None
    cursor: Cursor = ""
    limit: Annotated[int, Field(ge=1, le=200)] = 50


def _audit(request: HttpRequest) -> dict[str, Any]:
    return {"ip": client_ip(request), "via": "api"}


def _user(pk: int) -> User:
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None:
        raise ValidationError({"owner": _("Unknown or inactive user.")})
    return user


def _list(request: HttpRequest, pk: int | None) -> TargetList | None:
    if pk is None:
        return None
    found = selectors.target_lists(request.auth).filter(pk=pk).first()
    if found is None:
        raise ValidationError({"target_list": _("Choose a target list you may see.")})
    return found


def list_out(user, tl: TargetList, count: int | None = None) -> dict[str, Any]:
    """The list as the API shows it; `count` when the caller counted a page of lists."""
    return {"id": tl.pk, "name": tl.name, "description": tl.description, "kind": tl.kind,
            "criteria": tl.criteria, "frozen_at": tl.frozen_at,
            "count": selectors.count(user, tl) if count is None else count,
            "owner": tl.owner_id, "team": tl.team_id,
            "version": tl.version, "created_at": tl.created_at, "updated_at": tl.updated_at}


def _interval(i: uplift.Interval | None) -> dict | None:
    return None if i is None else {"estimate": i.estimate, "low": i.low, "high": i.high,
                                   "level": i.level, "significant": i.significant}


def campaign_out(c: Campaign, results: selectors.Results | None = None,
                 detail: bool = False) -> dict[str, Any]:
    data = {name: getattr(c, name) for name in (
        "name", "kind", "goal", "budget", "cost", "starts_on", "ends_on", "channels", "status",
        "holdout_percent", "attribution_days", "subject", "message", "launched_at",
        "version", "created_at", "updated_at")}
    data.update(id=c.pk, target_list=c.target_list_id, owner=c.owner_id, team=c.team_id)
    if detail:
        data["results"] = None if results is None else {
            "window_start": results.window_start, "window_end": results.window_end,
            "window_open": results.window_open,
            "contacted": vars(results.treated), "holdout": vars(results.holdout),
            "cost": results.cost, "cost_per_response": results.cost_per_response,
            "roi": results.roi, "incremental_revenue": results.incremental_revenue,
            "incremental_roi": results.incremental_roi,
            "conversion_uplift": _interval(results.conversion_uplift),
            "response_uplift": _interval(results.response_uplift),
            "revenue_uplift": _interval(results.revenue_uplift),
            "sends": results.sends}
    return data


# Target lists ----------------------------------------------------------------------------

@router.get("/target-lists", response={200: TargetListPage, **errors(422)})
def list_target_lists(request: HttpRequest, params: Query[TargetListParams]):
    """Target lists of the owners whose customers you see, newest first, each with its
    exact count of the customers you may see."""
    refuse_unknown_query(request, TargetListParams)
    page = selectors.target_list_page(
        request.auth, selectors.ListFilters(q=params.q, kind=params.kind, owner=params.owner),
        cursor=params.cursor or None, limit=params.limit)
    record(request.auth, "target_list.list", detail={"target_lists": [x.pk for x in page.items]},
           **_audit(request))
    counts = selectors.counts(request.auth, page.items)
    return {"items": [list_out(request.auth, x, counts[x.pk]) for x in page.items],
            "next_cursor": page.next_cursor, "count": page.count,
            "count_is_exact": page.count_is_exact}


@router.post("/target-lists", response={201: TargetListOut, **errors(400, 403, 422)})
def create_target_list(request: HttpRequest, payload: TargetListIn):
    """A new target list from a filter: dynamic, or frozen now (its members are stored)."""
    owner = _user(payload.owner) if payload.owner is not None else None
    tl = services.create_target_list(
        request.auth, {"name": payload.name, "description": payload.description},
        criteria=_criteria(payload.criteria), kind=payload.kind, owner=owner,
        **_audit(request))
    return Status(201, list_out(request.auth, tl))


@router.get("/target-lists/{list_id}", response={200: TargetListOut, **errors(404, 422)})
def get_target_list(request: HttpRequest, list_id: IdPath):
    """One target list with its exact count."""
    tl = selectors.get_target_list(request.auth, list_id)
    record(request.auth, "target_list.view", obj=tl, detail={"target_list": tl.pk},
           **_audit(request))
    return list_out(request.auth, tl)


@router.patch("/target-lists/{list_id}", response={200: TargetListOut,
                                                   **errors(400, 403, 404, 409, 422)})
def update_target_list(request: HttpRequest, list_id: IdPath, payload: TargetListPatch):
    """Change the name, description or (of a dynamic list) the filter; `version` must be
    the one you read."""
    tl = selectors.get_target_list(request.auth, list_id)
    data = payload.model_dump(exclude_unset=True, include={"name", "description"})
    for key, value in data.items():
        if value is None:
            raise ValidationError({key: _("This field cannot be empty.")})
    criteria = _criteria(payload.criteria) if payload.criteria is not None else None
    tl = services.update_target_list(request.auth, tl, data, criteria=criteria,
                                     expected_version=payload.version, **_audit(request))
    return list_out(request.auth, tl)


# Campaigns -------------------------------------------------------------------------------

@router.get("/campaigns", response={200: CampaignPage, **errors(422)})
def list_campaigns(request: HttpRequest, params: Query[CampaignParams]):
    """Campaigns of the owners whose customers you see, latest start first."""
    refuse_unknown_query(request, CampaignParams)
    page = selectors.campaign_page(
        request.auth, selectors.CampaignFilters(q=params.q, kind=params.kind,
                                                status=params.status, owner=params.owner),
        cursor=params.cursor or None, limit=params.limit)
    record(request.auth, "campaign.list", detail={"campaigns": [x.pk for x in page.items]},
           **_audit(request))
    return {"items": [campaign_out(x) for x in page.items], "next_cursor": page.next_cursor,
            "count": page.count, "count_is_exact": page.count_is_exact}


@router.post("/campaigns", response={201: CampaignDetailOut, **errors(400, 403, 422)})
def create_campaign(request: HttpRequest, payload: CampaignIn):
    """A new campaign (a draft: launch it on its page). Its hold-out seed is drawn now."""
    data = payload.model_dump(exclude={"owner", "target_list"})
    owner = _user(payload.owner) if payload.owner is not None else None
    campaign = services.create_campaign(request.auth, data,
                                        target_list=_list(request, payload.target_list),
                                        owner=owner, **_audit(request))
    return Status(201, campaign_out(campaign, None, detail=True))


@router.get("/campaigns/{campaign_id}", response={200: CampaignDetailOut, **errors(404, 422)})
def get_campaign(request: HttpRequest, campaign_id: IdPath):
    """One campaign with its results against the hold-out group once it is launched."""
    campaign = selectors.get_campaign(request.auth, campaign_id)
    record(request.auth, "campaign.view", obj=campaign, detail={"campaign": campaign.pk},
           **_audit(request))
    return campaign_out(campaign, selectors.results(request.auth, campaign), detail=True)


@router.patch("/campaigns/{campaign_id}", response={200: CampaignDetailOut,
                                                    **errors(400, 403, 404, 409, 422)})
def update_campaign(request: HttpRequest, campaign_id: IdPath, payload: CampaignPatch):
    """Change the fields sent; once launched, only name, goal, budget, cost, end and
    attribution window. `version` must be the one you read."""
    campaign = selectors.get_campaign(request.auth, campaign_id)
    data = payload.model_dump(exclude_unset=True, exclude={"version", "target_list"})
    for key in ("name", "kind", "starts_on", "budget", "channels", "holdout_percent",
                "attribution_days", "goal", "subject", "message"):
        if key in data and data[key] is None:
            raise ValidationError({key: _("This field cannot be empty.")})
    target_list: TargetList | None | bool = False
    if "target_list" in payload.model_fields_set:
        target_list = _list(request, payload.target_list)
    campaign = services.update_campaign(request.auth, campaign, data, target_list=target_list,
                                        expected_version=payload.version, **_audit(request))
    return campaign_out(campaign, selectors.results(request.auth, campaign), detail=True)
