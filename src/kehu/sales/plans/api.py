"""REST endpoints for key-account plans: /api/v1/account-plans. A plan is read with its
decision chain, competitor sheet, action steps and the buying orientation its customer's
purchases suggest. Scoped like customers; every read is in the audit log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from kehu.accounts.models import User
from kehu.audit.services import record_list
from kehu.core.pagination import keyset_page
from kehu.core.permissions import CHANGE
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
)
from kehu.customers.selectors import get_customer
from kehu.customers.services import record_customer_view
from kehu.sales.plans import selectors, services
from kehu.sales.plans.models import AccountPlan, BuyingOrientation, RelationshipLevel
from kehu.sales.plans.orientation import APPROACHES

router = Router(tags=["account plans"])

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
Level = Literal[("", *RelationshipLevel.values)]
Orientation = Literal[("", *BuyingOrientation.values)]


def _audit(request: HttpRequest) -> dict[str, Any]:
    return {"ip": client_ip(request), "via": "api"}


class PlanFieldsIn(InputSchema):
    situation: Text = ""
    challenges: Text = ""
    strategy: Text = ""
    decision_factors: Text = ""
    objectives: Text = ""
    relationship_level: Level = Field("", description="transactional (买卖关系), interest "
                                                      "(利益关系) or partnership (伙伴关系).")
    buying_orientation: Orientation = ""
    review_on: date | None = Field(None, description="The next review of the plan.")
    owner: Id | None = Field(None, description="User id of the plan's owner; default: the "
                                               "customer's owner.")


class PlanIn(PlanFieldsIn):
    customer: Id = Field(description="Id of the key account the plan is for.")


class PlanPatch(PlanFieldsIn):
    version: Annotated[int, Field(ge=1, le=2**31 - 1)] = Field(
        ..., description="The version you read; a stale one is refused with 409.")


class ChainPersonOut(Schema):
    contact: int
    name: str
    title: str
    role: str = Field(description="approver, decision_maker, evaluator (决策支撑者), "
                                  "influencer, or empty: no role yet.")
    attitude: str = Field(description="supports, neutral, opposes, or empty: not known.")
    our_relationship: str = Field(description="none, acquainted, good, close, or empty: not "
                                              "known.")


class SheetOut(Schema):
    id: int
    competitor: int
    competitor_name: str
    who_they_are: str
    positioning: str
    relationship_levers: str
    strengths: str
    weaknesses: str
    organisation: str
    version: int


class StepOut(Schema):
    id: int
    title: str
    owner: int
    owner_username: str
    due_on: date
    task: int | None
    status: str = Field(description="The task's status: open, done, dismissed; empty when "
                                    "the task is gone.")


class SuggestionOut(Schema):
    orientation: str = Field(description="strategy, price, solution, or empty: the purchases "
                                         "do not tell.")
    reason: str
    selling_approach: str


class PlanOut(Schema):
    id: int
    customer: int
    customer_name: str
    owner: int
    owner_username: str
    situation: str
    challenges: str
    strategy: str
    decision_factors: str
    objectives: str
    relationship_level: str
    buying_orientation: str
    selling_approach: str = Field(description="What the recorded buying orientation calls for.")
    review_on: date | None
    version: int
    created_at: datetime
    updated_at: datetime


class PlanDetailOut(PlanOut):
    decision_chain: list[ChainPersonOut]
    competitors: list[SheetOut]
    steps: list[StepOut]
    suggested_orientation: SuggestionOut


class PlanPage(Schema):
    items: list[PlanOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on "
                                                "the last page.")
    count: int
    count_is_exact: bool


class PlanListParams(QueryParams):
    q: bounded_text(100) = Field("", description="Part of the customer's name.")
    owner: Id | None = None
    relationship_level: Level = ""
    buying_orientation: Orientation = ""
    review_due: bool = Field(False, description="Only plans whose review is due.")
    cursor: Cursor = ""
    limit: Annotated[int, Field(ge=1, le=200)] = 50


def plan_out(plan: AccountPlan) -> dict[str, Any]:
    return {"id": plan.pk, "customer": plan.customer_id, "customer_name": plan.customer.name,
            "owner": plan.owner_id, "owner_username": plan.owner.username,
            "situation": plan.situation, "challenges": plan.challenges,
            "strategy": plan.strategy, "decision_factors": plan.decision_factors,
            "objectives": plan.objectives, "relationship_level": plan.relationship_level,
            "buying_orientation": plan.buying_orientation,
            "selling_approach": str(APPROACHES.get(plan.buying_orientation, "")),
            "review_on": plan.review_on, "version": plan.version,
            "created_at": plan.created_at, "updated_at": plan.updated_at}


def plan_detail_out(user: User, plan: AccountPlan) -> dict[str, Any]:
    suggestion = selectors.suggested_orientation(user, plan.customer)
    chain = [{"contact": p.contact.pk, "name": p.contact.name, "title": p.contact.title,
              "role": tier.role, "attitude": p.attitude,
              "our_relationship": p.relationship}
             for tier in selectors.decision_chain(user, plan.customer) for p in tier.people]
    sheets = [{"id": s.pk, "competitor": s.competitor_id, "competitor_name": s.competitor.name,
               "who_they_are": s.who_they_are, "positioning": s.positioning,
               "relationship_levers": s.relationship_levers, "strengths": s.strengths,
               "weaknesses": s.weaknesses, "organisation": s.organisation,
               "version": s.version} for s in selectors.sheets(user, plan)]
    steps = [{"id": s.pk, "title": s.title, "owner": s.owner_id,
              "owner_username": s.owner.username, "due_on": s.due_on, "task": s.task_id,
              "status": s.task.status if s.task else ""} for s in selectors.steps(user, plan)]
    return {**plan_out(plan), "decision_chain": chain, "competitors": sheets, "steps": steps,
            "suggested_orientation": {"orientation": suggestion.orientation,
                                      "reason": suggestion.reason,
                                      "selling_approach": suggestion.approach}}


def _owner(pk: int | None) -> User | None:
    if pk is None:
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None:
        raise ValidationError({"owner": _("Unknown or inactive user.")})
    return user


def _fields(payload: Schema) -> dict[str, Any]:
    return payload.model_dump(exclude_unset=True, exclude={"customer", "owner", "version"})


@router.get("/account-plans", response={200: PlanPage, **errors(422)})
def list_plans(request: HttpRequest, params: Query[PlanListParams]):
    """Account plans of the customers you may see, a page at a time (keyset pagination:
    follow `next_cursor`). Reading them is recorded in the audit log: one entry naming the
    customers shown and the filter."""
    refuse_unknown_query(request, PlanListParams)
    filters = selectors.PlanFilters(**params.model_dump(
        include={"q", "owner", "relationship_level", "buying_orientation", "review_due"}))
    page = keyset_page(selectors.plan_list(request.auth, filters), sort="updated_at",
                       descending=True, cursor=params.cursor or None, limit=params.limit)
    record_list(request.auth, "account_plans", [p.customer_id for p in page.items],
                filters={k: v for k, v in filters.__dict__.items() if v}, **_audit(request))
    return {"items": [plan_out(p) for p in page.items], "next_cursor": page.next_cursor,
            "count": page.count, "count_is_exact": page.count_is_exact}


@router.post("/account-plans", response={201: PlanDetailOut, **errors(400, 403, 404, 422)})
def create_plan(request: HttpRequest, payload: PlanIn):
    """Start the plan of a key account (one the value scores mark as key, or, for a manager
    or an admin, any customer of their scope). One plan per customer."""
    customer = get_customer(request.auth, payload.customer, CHANGE)
    plan = services.create_plan(request.auth, customer, _fields(payload),
                                owner=_owner(payload.owner), **_audit(request))
    plan = selectors.get_plan(request.auth, plan.pk)
    return Status(201, plan_detail_out(request.auth, plan))


@router.get("/account-plans/{plan_id}", response={200: PlanDetailOut, **errors(404, 422)})
def get_plan(request: HttpRequest, plan_id: IdPath):
    """One plan with its decision chain, competitor sheet, action steps and the buying
    orientation the purchases suggest. Reading it is recorded in the audit log."""
    plan = selectors.get_plan(request.auth, plan_id)
    record_customer_view(request.auth, plan.customer, part="account_plan",
                         detail={"plan": plan.pk}, **_audit(request))
    return plan_detail_out(request.auth, plan)


@router.patch("/account-plans/{plan_id}",
              response={200: PlanDetailOut, **errors(400, 403, 404, 409, 422)})
def update_plan(request: HttpRequest, plan_id: IdPath, payload: PlanPatch):
    """Change the fields sent. `version` must be the one you read, or the answer is 409."""
    plan = selectors.get_plan(request.auth, plan_id, CHANGE)
    services.update_plan(request.auth, plan, _fields(payload),
                         expected_version=payload.version, owner=_owner(payload.owner),
                         **_audit(request))
    return plan_detail_out(request.auth, selectors.get_plan(request.auth, plan.pk))
